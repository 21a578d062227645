"""Security headers on every response of :8080, and the hop-by-hop headers a proxy drops."""

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style, nothing from another origin, never inside a frame. Charts and
# React set element.style through the DOM, which style-src does not govern.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS: dict[str, str] = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",  # frame-ancestors for browsers without CSP level 2
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
_SECURITY_NAMES = {name.encode() for name in SECURITY_HEADERS}
_SECURITY_RAW = [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]

# RFC 9110 section 7.6.1, plus the proxy ones every proxy strips.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


def end_to_end(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` without hop-by-hop ones, including those the Connection header names."""
    pairs = list(headers)
    dropped = set(_HOP_BY_HOP)
    for name, value in pairs:
        if name.lower() == b"connection":
            dropped |= {token.strip().lower() for token in value.decode("latin-1").split(",")}
    return [(name, value) for name, value in pairs if name.decode("latin-1").lower() not in dropped]


class SecurityHeadersMiddleware:
    """Sets the security headers on every response, replacing any an upstream sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in _SECURITY_NAMES
                ]
                message = {**message, "headers": headers + _SECURITY_RAW}
            await send(message)

        await self.app(scope, receive, send_with_headers)
