from hypothesis import given
from hypothesis import strategies as st

from incident_platform.alert.correlation import (
    AlertSignal,
    AlertStatus,
    CorrelationState,
    FiringAlert,
    IngestAction,
    NewIncident,
    OpenIncident,
    auto_resolves,
    correlate,
    fold_repeats,
    plan_round,
    split_rounds,
)
from incident_platform.incident.lifecycle import IncidentStatus
from incident_platform.severity import Severity

A = IngestAction


def signal(
    fingerprint: str,
    service: str = "api",
    *,
    resolved: bool = False,
    severity: Severity = Severity.WARNING,
) -> AlertSignal:
    status = AlertStatus.RESOLVED if resolved else AlertStatus.FIRING
    return AlertSignal(
        fingerprint=fingerprint,
        service=service,
        summary=f"s-{fingerprint}",
        status=status,
        severity=severity,
    )


def test_new_fingerprint_for_a_quiet_service_opens_an_incident() -> None:
    action = correlate(signal("a"), fingerprint_firing=False, service_has_open_incident=False)
    assert action is A.CREATED


def test_new_fingerprint_joins_the_open_incident_of_its_service() -> None:
    action = correlate(signal("a"), fingerprint_firing=False, service_has_open_incident=True)
    assert action is A.ATTACHED


def test_firing_fingerprint_is_a_duplicate_even_when_the_service_is_open() -> None:
    action = correlate(signal("a"), fingerprint_firing=True, service_has_open_incident=True)
    assert action is A.DEDUPLICATED


def test_resolve_closes_a_firing_alert_and_ignores_an_unknown_one() -> None:
    resolved = signal("a", resolved=True)
    assert (
        correlate(resolved, fingerprint_firing=True, service_has_open_incident=True) is A.RESOLVED
    )
    assert correlate(resolved, fingerprint_firing=False, service_has_open_incident=True) is (
        A.IGNORED
    )


def test_an_open_incident_resolves_when_its_last_firing_alert_does() -> None:
    for status in (IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED):
        assert auto_resolves(status, still_firing=False)
        assert not auto_resolves(status, still_firing=True)
    # A resolved incident is not resolved again (its alerts were closed with it).
    assert not auto_resolves(IncidentStatus.RESOLVED, still_firing=False)


def test_rounds_keep_each_fingerprints_events_in_order() -> None:
    signals = [signal("a"), signal("b"), signal("a", resolved=True), signal("a"), signal("c")]
    assert split_rounds(signals) == [[0, 1, 4], [2], [3]]


def test_a_round_opens_one_incident_per_quiet_service_with_its_worst_severity() -> None:
    plan = plan_round(
        [
            signal("a", severity=Severity.WARNING),
            signal("b", severity=Severity.CRITICAL),
            signal("c", "web"),
        ],
        CorrelationState(),
    )
    assert plan.actions == [A.CREATED, A.ATTACHED, A.CREATED]
    assert plan.new_incidents == {
        "service:api": NewIncident("s-a", Severity.CRITICAL, 2, "api"),
        "service:web": NewIncident("s-c", Severity.WARNING, 1, "web"),
    }
    assert plan.openers == frozenset({"a", "c"})
    assert plan.grown_incidents == {}


def test_a_round_grows_open_incidents_and_deduplicates_from_the_database_state() -> None:
    state = CorrelationState(
        firing={"a": FiringAlert(1, 10)},
        open_incidents={"service:api": OpenIncident(10, Severity.WARNING)},
    )
    plan = plan_round(
        [signal("a"), signal("b", severity=Severity.HIGH), signal("c"), signal("x", resolved=True)],
        state,
    )
    assert plan.actions == [A.DEDUPLICATED, A.ATTACHED, A.ATTACHED, A.IGNORED]
    assert plan.grown_incidents == {10: (2, Severity.HIGH)}
    assert plan.new_incidents == {}


def test_firing_alerts_are_decided_before_resolutions_in_a_round() -> None:
    # The last alert of the open incident resolves while a new one arrives: the new
    # one joins that incident (which then does not auto-resolve) rather than opening
    # a second incident a moment later.
    state = CorrelationState(
        firing={"old": FiringAlert(1, 10)},
        open_incidents={"service:api": OpenIncident(10, Severity.WARNING)},
    )
    plan = plan_round([signal("old", resolved=True), signal("new")], state)
    assert plan.actions == [A.RESOLVED, A.ATTACHED]
    assert plan.grown_incidents == {10: (1, Severity.WARNING)}


@given(
    st.lists(
        st.tuples(
            st.sampled_from("abcdefgh"),
            st.sampled_from(["api", "web"]),
            st.booleans(),
            st.sampled_from(list(Severity)),
        ),
        max_size=40,
        unique_by=lambda event: event[0],
    ),
    st.sets(st.sampled_from("abcdefgh")),
    st.sets(st.sampled_from(["api", "web"])),
)
def test_a_round_never_opens_a_second_incident_for_a_service(
    events: list[tuple[str, str, bool, Severity]],
    firing: set[str],
    open_services: set[str],
) -> None:
    state = CorrelationState(
        firing={fp: FiringAlert(1, 1) for fp in firing},
        open_incidents={
            f"service:{s}": OpenIncident(n, Severity.INFO) for n, s in enumerate(open_services)
        },
    )
    signals = [signal(fp, svc, resolved=res, severity=sev) for fp, svc, res, sev in events]
    plan = plan_round(signals, state)
    assert set(plan.new_incidents).isdisjoint(f"service:{s}" for s in open_services)
    for sig, action in zip(signals, plan.actions, strict=True):
        known = sig.fingerprint in firing
        if sig.status is AlertStatus.RESOLVED:
            assert action is (A.RESOLVED if known else A.IGNORED)
        elif known:
            assert action is A.DEDUPLICATED
        else:
            assert action in (A.CREATED, A.ATTACHED)
            assert (action is A.CREATED) == (sig.fingerprint in plan.openers)
    # Every new alert is counted once, in a new or a grown incident.
    new_alerts = sum(a in (A.CREATED, A.ATTACHED) for a in plan.actions)
    counted = sum(i.alert_count for i in plan.new_incidents.values()) + sum(
        n for n, _ in plan.grown_incidents.values()
    )
    assert new_alerts == counted
    # An incident's severity is the worst of the alerts it takes.
    for incident in plan.new_incidents.values():
        joined = [
            sig.severity
            for sig, a in zip(signals, plan.actions, strict=True)
            if sig.service == incident.service and a in (A.CREATED, A.ATTACHED)
        ]
        assert incident.severity == max(joined, key=lambda s: s.rank)


def test_repeated_firing_alerts_fold_into_the_first_of_their_run() -> None:
    folded = fold_repeats([signal("a"), signal("b"), signal("a"), signal("a")])
    assert folded.kept == [0, 1]
    assert folded.repeats == {2: 0, 3: 0}
    assert folded.extra == {0: 2}


def test_a_resolution_ends_a_run_and_a_later_firing_starts_a_new_one() -> None:
    batch = [signal("a"), signal("a", resolved=True), signal("a"), signal("a")]
    folded = fold_repeats(batch)
    assert folded.kept == [0, 1, 2]
    assert folded.repeats == {3: 2}
    assert folded.extra == {2: 1}


def test_repeated_resolutions_are_not_folded() -> None:
    folded = fold_repeats([signal("a", resolved=True), signal("a", resolved=True)])
    assert folded.kept == [0, 1]
    assert folded.repeats == {}
