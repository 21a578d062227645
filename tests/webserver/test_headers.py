from incident_platform.web.headers import end_to_end


def test_hop_by_hop_headers_are_dropped_and_end_to_end_ones_kept() -> None:
    headers = [
        (b"Connection", b"keep-alive, X-Private-Hop"),
        (b"Keep-Alive", b"timeout=5"),
        (b"Transfer-Encoding", b"chunked"),
        (b"TE", b"trailers"),
        (b"Upgrade", b"websocket"),
        (b"Proxy-Authorization", b"Basic abc"),
        (b"X-Private-Hop", b"secret"),
        (b"Authorization", b"Bearer token"),
        (b"Content-Type", b"application/json"),
        (b"Last-Event-ID", b"17"),
    ]
    assert end_to_end(headers) == [
        (b"Authorization", b"Bearer token"),
        (b"Content-Type", b"application/json"),
        (b"Last-Event-ID", b"17"),
    ]
