"""The change feed never skips a change, with writers committing out of order.

Writers are the real store functions on real PostgreSQL sessions; each holds its
transaction open for a random while after taking its position (a ``before_commit`` hook
sleeps), so positions commit in a different order from the one they were taken in. Followers
read the feed the way the operator does (``changed_after`` over HTTP) and the way the UI
does (the event stream), and must see every committed change.
"""

import random
import threading
import time
from collections.abc import Callable

import httpx
from sqlalchemy import Engine, event
from sqlmodel import Session

from incident_platform.incident.feed import Position, parse_position
from incident_platform.incident.store import add_note, update_incident
from support.database import connect
from support.platform import Platform
from support.sse import read_events, until

WRITERS = 5
CHANGES_PER_WRITER = 20
INCIDENTS = 8


def _open_incidents(platform: Platform, count: int) -> list[int]:
    with connect(platform.database_url) as connection:
        rows = connection.execute(
            """
            INSERT INTO incidents (title, service, severity, status, alert_count)
            SELECT 'incident ' || n, 'svc-' || n, 'warning', 'triggered', 0
              FROM generate_series(1, %s) AS n
            RETURNING id
            """,
            (count,),
        ).fetchall()
    return [int(str(row[0])) for row in rows]


def _slow_session(engine: Engine, rng: random.Random) -> Session:
    session = Session(engine, expire_on_commit=False)

    def linger(_: Session) -> None:
        # Most commits are quick, some slow: a slow one is overtaken by later positions.
        time.sleep(rng.choice([0, 0, 0.002, 0.01, 0.05, 0.15]))

    event.listen(session, "before_commit", linger)
    return session


def _write(engine: Engine, incident_ids: list[int], seed: int) -> list[tuple[int, int]]:
    """Random changes; returns (incident id, change_seq) of each committed one."""
    rng = random.Random(seed)
    committed: list[tuple[int, int]] = []
    changes: list[Callable[[Session, int], int]] = [
        lambda s, i: int(add_note(s, i, "note", actor="writer").incident_id),
        lambda s, i: int(
            update_incident(s, i, {"title": f"title {rng.random()}"}, actor="writer").id or 0
        ),
    ]
    for _ in range(CHANGES_PER_WRITER):
        incident_id = rng.choice(incident_ids)
        with _slow_session(engine, rng) as session:
            rng.choice(changes)(session, incident_id)
        with Session(engine) as session:
            # The incident's change_seq right after our commit is at least ours.
            committed.append((incident_id, _change_seq(session, incident_id)))
    return committed


def _change_seq(session: Session, incident_id: int) -> int:
    from incident_platform.incident.store import get_incident

    return get_incident(session, incident_id).change_seq


def _run_writers(engine: Engine, incident_ids: list[int]) -> list[tuple[int, int]]:
    results: list[list[tuple[int, int]]] = [[] for _ in range(WRITERS)]

    def run(n: int) -> None:
        results[n] = _write(engine, incident_ids, seed=n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [change for result in results for change in result]


def _assert_nothing_skipped(
    committed: list[tuple[int, int]], observed: list[tuple[int, int]]
) -> None:
    """Every committed change was delivered: its incident was seen at or after it."""
    latest_seen: dict[int, int] = {}
    for incident_id, change_seq in observed:
        latest_seen[incident_id] = max(latest_seen.get(incident_id, -1), change_seq)
    missed = [
        (incident_id, change_seq)
        for incident_id, change_seq in committed
        if latest_seen.get(incident_id, -1) < change_seq
    ]
    assert missed == [], f"{len(missed)} of {len(committed)} changes never delivered"


def _final_states(engine: Engine, incident_ids: list[int]) -> dict[int, int]:
    with Session(engine) as session:
        return {incident_id: _change_seq(session, incident_id) for incident_id in incident_ids}


def _caught_up(observed: list[tuple[int, int]], final: dict[int, int]) -> bool:
    seen: dict[int, int] = {}
    for incident_id, change_seq in observed:
        seen[incident_id] = max(seen.get(incident_id, -1), change_seq)
    return all(seen.get(incident_id, -1) >= seq for incident_id, seq in final.items())


def test_a_follower_of_changed_after_never_skips_a_change(
    platform: Platform, engine: Engine
) -> None:
    incident_ids = _open_incidents(platform, INCIDENTS)
    observed: list[tuple[int, int]] = []
    positions: list[int] = []
    final: dict[int, int] = {}
    failures: list[BaseException] = []

    def follow() -> None:
        cursor = 0
        deadline = time.monotonic() + 300
        try:
            with httpx.Client(
                base_url=platform.incidents.url, headers=platform.admin(), timeout=60
            ) as client:
                # Until it has seen every incident's final state: a change held back by a
                # running transaction (anywhere on the server) only arrives later.
                while not (final and _caught_up(observed, final)):
                    assert time.monotonic() < deadline, "the feed never caught up"
                    response = client.get(
                        "/api/v1/incidents", params={"changed_after": cursor, "limit": 5}
                    )
                    assert response.status_code == 200, response.text
                    for incident in response.json()["data"]:
                        observed.append((incident["id"], incident["change_seq"]))
                        positions.append(incident["change_seq"])
                        cursor = max(cursor, incident["change_seq"])
        except BaseException as error:
            failures.append(error)

    follower = threading.Thread(target=follow)
    follower.start()
    committed = _run_writers(engine, incident_ids)
    final.update(_final_states(engine, incident_ids))
    follower.join()
    assert failures == []
    assert len(committed) == WRITERS * CHANGES_PER_WRITER
    _assert_nothing_skipped(committed, observed)
    assert positions == sorted(positions)


def test_an_event_stream_never_skips_a_change_and_sends_none_twice(
    platform: Platform, engine: Engine
) -> None:
    incident_ids = _open_incidents(platform, INCIDENTS)
    observed: list[tuple[int, int]] = []
    positions: list[Position] = []
    final: dict[int, int] = {}
    streaming = threading.Event()
    failures: list[BaseException] = []

    def follow() -> None:
        try:
            with httpx.stream(
                "GET",
                platform.incidents.url + "/api/v1/events",
                headers=platform.admin(),
                timeout=60,
            ) as response:
                events = read_events(response)
                until(events, "ready")
                streaming.set()
                for item in events:
                    if final and _caught_up(observed, final):
                        return
                    if item.comment:
                        continue
                    assert item.id is not None
                    incident = item.json()
                    observed.append((incident["id"], incident["change_seq"]))
                    positions.append(parse_position(item.id))
        except BaseException as error:
            failures.append(error)
            streaming.set()

    follower = threading.Thread(target=follow)
    follower.start()
    assert streaming.wait(timeout=60)
    committed = _run_writers(engine, incident_ids)
    final.update(_final_states(engine, incident_ids))
    with Session(engine) as session:  # one more event, so the follower looks at `final`
        add_note(session, incident_ids[0], "nudge", actor="writer")
    follower.join(timeout=300)
    assert failures == []
    assert not follower.is_alive()
    _assert_nothing_skipped(committed, observed)
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
