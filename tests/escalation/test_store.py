"""Deleting a policy is a locked check: no routing can slip in between check and delete."""

import threading
import uuid

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from incident_platform.escalation import store, tables
from support.oncall import create_policy, create_user, route


def _policy(oncall_api: httpx.Client, name: str) -> uuid.UUID:
    alice = create_user(oncall_api, f"{name}-owner")
    steps = [{"delay_minutes": 0, "targets": [{"type": "user", "id": alice}]}]
    return uuid.UUID(create_policy(oncall_api, name, steps))


def test_policy_routing_a_service_is_kept_and_names_the_services(
    engine: Engine, oncall_api: httpx.Client
) -> None:
    policy = _policy(oncall_api, "payments")
    route(oncall_api, "search", str(policy))
    route(oncall_api, "checkout", str(policy))
    with Session(engine) as session, pytest.raises(store.PolicyInUse) as refused:
        store.delete_policy(session, policy)
    assert refused.value.services == ["checkout", "search"]
    with Session(engine) as session:
        assert store.get_policy(session, policy) is not None
        with pytest.raises(store.PolicyNotFound):
            store.delete_policy(session, uuid.uuid4())


def test_routing_that_holds_the_policy_makes_a_concurrent_delete_wait_then_refuse(
    engine: Engine, oncall_api: httpx.Client
) -> None:
    policy = _policy(oncall_api, "payments")
    routing = Session(engine)
    # Route as route_service does, but keep the transaction open.
    routing.execute(
        select(col(tables.EscalationPolicy.id))
        .where(col(tables.EscalationPolicy.id) == policy)
        .with_for_update(key_share=True)
    ).one()
    routing.add(tables.ServiceRouting(service="search", escalation_policy_id=policy))
    routing.flush()

    outcome: list[BaseException | None] = []

    def delete() -> None:
        with Session(engine) as session:
            try:
                store.delete_policy(session, policy)
                outcome.append(None)
            except BaseException as error:
                outcome.append(error)

    deleter = threading.Thread(target=delete)
    deleter.start()
    deleter.join(timeout=1)
    assert deleter.is_alive(), "the delete must wait for the routing's lock"
    routing.commit()
    routing.close()
    deleter.join()

    (error,) = outcome
    assert isinstance(error, store.PolicyInUse)
    assert error.services == ["search"]
