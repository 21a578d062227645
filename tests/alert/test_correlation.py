from hypothesis import given
from hypothesis import strategies as st

from incident_platform.alert.correlation import (
    AlertSignal,
    CorrelationState,
    correlate,
    plan_batch,
)
from incident_platform.alert.models import AlertStatus, IngestAction


def signal(fingerprint: str, service: str = "api", *, resolved: bool = False) -> AlertSignal:
    status = AlertStatus.RESOLVED if resolved else AlertStatus.FIRING
    return AlertSignal(fingerprint=fingerprint, service=service, summary="s", status=status)


def test_new_fingerprint_for_a_quiet_service_opens_an_incident() -> None:
    action = correlate(signal("a"), fingerprint_firing=False, service_has_open_incident=False)
    assert action is IngestAction.CREATED


def test_new_fingerprint_joins_the_open_incident_of_its_service() -> None:
    action = correlate(signal("a"), fingerprint_firing=False, service_has_open_incident=True)
    assert action is IngestAction.ATTACHED


def test_firing_fingerprint_is_a_duplicate_even_when_the_service_is_open() -> None:
    action = correlate(signal("a"), fingerprint_firing=True, service_has_open_incident=True)
    assert action is IngestAction.DEDUPLICATED


def test_resolve_closes_a_firing_alert_and_ignores_an_unknown_one() -> None:
    resolved = signal("a", resolved=True)
    assert (
        correlate(resolved, fingerprint_firing=True, service_has_open_incident=True)
        is IngestAction.RESOLVED
    )
    assert (
        correlate(resolved, fingerprint_firing=False, service_has_open_incident=True)
        is IngestAction.IGNORED
    )


def test_batch_sees_its_own_earlier_effects() -> None:
    actions = plan_batch(
        [
            signal("a"),
            signal("b"),
            signal("a"),
            signal("a", resolved=True),
            signal("a", resolved=True),
            signal("a"),
            signal("c", "web"),
        ],
        CorrelationState(),
    )
    assert actions == [
        IngestAction.CREATED,
        IngestAction.ATTACHED,
        IngestAction.DEDUPLICATED,
        IngestAction.RESOLVED,
        IngestAction.IGNORED,
        IngestAction.ATTACHED,
        IngestAction.CREATED,
    ]


def test_batch_starts_from_the_database_state() -> None:
    state = CorrelationState(
        firing_fingerprints=frozenset({"a"}), services_with_open_incident=frozenset({"api"})
    )
    assert plan_batch([signal("a"), signal("b")], state) == [
        IngestAction.DEDUPLICATED,
        IngestAction.ATTACHED,
    ]


@given(
    st.lists(
        st.tuples(st.sampled_from("abcd"), st.sampled_from(["api", "web"]), st.booleans()),
        max_size=40,
    )
)
def test_a_service_never_gets_a_second_incident_within_a_batch(
    events: list[tuple[str, str, bool]],
) -> None:
    signals = [signal(fp, service, resolved=resolved) for fp, service, resolved in events]
    actions = plan_batch(signals, CorrelationState())
    created = [
        s.service for s, a in zip(signals, actions, strict=True) if a is IngestAction.CREATED
    ]
    assert len(created) == len(set(created))
    # Every resolve closes something that fires, and nothing fires twice.
    firing: set[str] = set()
    for sig, action in zip(signals, actions, strict=True):
        if action in (IngestAction.CREATED, IngestAction.ATTACHED):
            assert sig.fingerprint not in firing
            firing.add(sig.fingerprint)
        elif action is IngestAction.RESOLVED:
            assert sig.fingerprint in firing
            firing.remove(sig.fingerprint)
        elif action is IngestAction.DEDUPLICATED:
            assert sig.fingerprint in firing
