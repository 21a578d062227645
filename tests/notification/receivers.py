"""Real receivers on loopback for the delivery tests: an HTTP server and an SMTP server.

Nothing is mocked: the code under test opens real sockets. The HTTP receiver
answers each path as told (a status, a sequence of statuses, or hanging until
released) and records every request and answer in one ordered event log, so
tests assert on the order things happened, never on durations.
"""

import email
import email.policy
import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import psycopg
from aiosmtpd.controller import Controller

from incident_platform.settings import Settings
from support.database import connect

MakeSettings = Callable[..., Settings]

WAIT_SECONDS = 20.0  # bound for waiting on an event that should happen almost at once


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` (a bound, not a claim)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class HttpRequest:
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def json(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.body)


@dataclass
class Behaviour:
    statuses: list[int] = field(default_factory=lambda: [200])
    hang_seconds: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)

    def next_status(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up (a timeout test) is expected; anything else is reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class HttpReceiver:
    """``ThreadingHTTPServer`` on 127.0.0.1, a free port, in a thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._behaviours: dict[str, Behaviour] = {}
        self.requests: list[HttpRequest] = []
        # ("received" | "answered", path), in the order they happened, across all paths.
        self.events: list[tuple[str, str]] = []
        self.release = threading.Event()  # ends every hang early
        self._inflight = 0
        self.max_inflight = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> "HttpReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=WAIT_SECONDS)

    def answer(self, path: str, *statuses: int, hang_seconds: float = 0.0, **headers: str) -> str:
        """Answer ``path`` with ``statuses`` in turn (the last one repeats); returns its URL."""
        with self._lock:
            self._behaviours[path] = Behaviour(
                statuses=list(statuses) or [200], hang_seconds=hang_seconds, headers=headers
            )
        return self.url + path

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length)
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        path = handler.path
        with self._lock:
            self.requests.append(HttpRequest(path, dict(handler.headers.items()), body))
            self.events.append(("received", path))
            behaviour = self._behaviours.get(path, Behaviour(statuses=[404]))
            status = behaviour.next_status()
            self._inflight += 1
            self.max_inflight = max(self.max_inflight, self._inflight)
        try:
            if behaviour.hang_seconds:
                self.release.wait(behaviour.hang_seconds)
            with self._lock:
                self.events.append(("answered", path))
            try:
                handler.send_response(status)
                for name, value in behaviour.headers.items():
                    handler.send_header(name.replace("_", "-"), value)
                handler.send_header("Content-Length", "2")
                handler.end_headers()
                handler.wfile.write(b"{}")
            except OSError:
                pass  # the client gave up waiting (a timeout test)
        finally:
            with self._lock:
                self._inflight -= 1

    def to(self, path: str) -> list[HttpRequest]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def log(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self.events)


@dataclass(frozen=True)
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class SmtpHandler:
    """aiosmtpd handler: records messages; refuses listed recipients with a given reply."""

    def __init__(self) -> None:
        self.messages: list[Mail] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, _rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpReceiver:
    def __init__(self, **smtp_options: Any) -> None:
        self.handler = SmtpHandler()
        self.port = free_port()
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, **smtp_options
        )

    def start(self) -> "SmtpReceiver":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def messages(self) -> list[Mail]:
        return list(self.handler.messages)


class Outbox:
    """Incidents and notification rows in the test database, by plain SQL."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        return connect(self.url)

    def incident(
        self,
        title: str = "Checkout is failing",
        service: str = "checkout",
        severity: str = "critical",
        created_at: datetime | None = None,
    ) -> int:
        with self._connect() as connection:
            row = connection.execute(
                "INSERT INTO incidents (title, service, severity, status, alert_count, created_at)"
                " VALUES (%s, %s, %s, 'triggered', 1, coalesce(%s, now())) RETURNING id",
                (title, service, severity, created_at),
            ).fetchone()
        assert row is not None
        return int(row[0])

    def notify(
        self,
        incident_id: int,
        channel: str,
        address: str,
        *,
        next_attempt_at: datetime,
        step: int | None = 1,
        event: str = "escalation",
        data: dict[str, Any] | None = None,
        user_id: uuid.UUID | None = None,
    ) -> int:
        with self._connect() as connection:
            row = connection.execute(
                "INSERT INTO notifications (incident_id, user_id, channel, address, event, step,"
                " status, attempts, next_attempt_at, data)"
                " VALUES (%s, %s, %s, %s, %s, %s, 'pending', 0, %s, %s::jsonb) RETURNING id",
                (
                    incident_id,
                    user_id,
                    channel,
                    address,
                    event,
                    step,
                    next_attempt_at,
                    json.dumps(data or {}),
                ),
            ).fetchone()
        assert row is not None
        return int(row[0])

    def user(self, name: str, email: str) -> uuid.UUID:
        """A user row (left in place: other suites own the users table)."""
        user_id = uuid.uuid4()
        email = f"{user_id.hex[:8]}.{email}"
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO users (id, name, email, timezone) VALUES (%s, %s, %s, 'UTC')",
                (user_id, name, email),
            )
        return user_id

    def row(self, notification_id: int) -> dict[str, Any]:
        with self._connect() as connection:
            cursor = connection.execute(
                "SELECT * FROM notifications WHERE id = %s", (notification_id,)
            )
            names = [column.name for column in cursor.description or []]
            values = cursor.fetchone()
        assert values is not None
        return dict(zip(names, values, strict=True))

    def timeline(self, incident_id: int, kind: str | None = None) -> list[dict[str, Any]]:
        with self._connect() as connection:
            cursor = connection.execute(
                "SELECT kind, actor, message, data, at FROM timeline_events"
                " WHERE incident_id = %s AND (%s::text IS NULL OR kind = %s) ORDER BY id",
                (incident_id, kind, kind),
            )
            names = [column.name for column in cursor.description or []]
            return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]

    def empty(self) -> None:
        with self._connect() as connection:
            connection.execute("TRUNCATE notifications, incidents RESTART IDENTITY CASCADE")
