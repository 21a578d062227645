"""A small Server-Sent Events reader over an httpx stream, for tests and the benchmark."""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Event:
    event: str
    id: str | None
    data: str
    comment: bool = False

    def json(self) -> Any:
        return json.loads(self.data)


def read_events(response: httpx.Response) -> Iterator[Event]:
    """Events as they arrive (comments as ``Event(comment=True)``), per the SSE format."""
    data: list[str] = []
    event, event_id, comment = "message", None, False
    for line in response.iter_lines():
        if line == "":
            if data or comment:
                yield Event(event, event_id, "\n".join(data), comment and not data)
            data = []
            event, event_id, comment = "message", None, False
            continue
        if line.startswith(":"):
            comment = True
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            event_id = value


def until(events: Iterator[Event], kind: str) -> list[Event]:
    """Non-comment events up to and including the first of ``kind``."""
    seen: list[Event] = []
    for item in events:
        if item.comment:
            continue
        seen.append(item)
        if item.event == kind:
            return seen
    raise AssertionError(f"stream ended before a {kind!r} event; got {seen}")


def incidents_until(events: Iterator[Event], done: Callable[[list[Event]], bool]) -> list[Event]:
    """``incident`` events, in order, until ``done(those so far)``. A change can come before
    or after ``ready``: one still held back by a running transaction when the stream
    (re)connected arrives live, later."""
    seen: list[Event] = []
    for item in events:
        if item.event != "incident":
            continue
        seen.append(item)
        if done(seen):
            return seen
    raise AssertionError(f"stream ended first; got {seen}")
