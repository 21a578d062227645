"""Escalation timing: due steps, catch-up after an outage, repeats, and when to stop."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incident_platform.escalation import (
    EscalationPolicy,
    EscalationState,
    EscalationStep,
    FiredStep,
    ScheduleTarget,
    Target,
    UserTarget,
    WebhookTarget,
    evaluate_escalation,
    next_due_at,
    repeat_gap,
    should_escalate,
    validate_policy,
)
from incident_platform.escalation.rules import (
    PagingDecision,
    cancels_pending_pages,
    paging_decision,
    starts_escalation,
)

OPENED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PRIMARY = ScheduleTarget("primary-schedule")
SECONDARY = ScheduleTarget("secondary-schedule")
MANAGER = UserTarget("manager")


def minutes(count: float) -> timedelta:
    return timedelta(minutes=count)


def policy(*delays: int, repeat: int = 0) -> EscalationPolicy:
    targets: list[Target] = [PRIMARY, SECONDARY, MANAGER, WebhookTarget("https://hooks.example/x")]
    steps = tuple(
        EscalationStep(delay, (targets[index % len(targets)],))
        for index, delay in enumerate(delays)
    )
    return EscalationPolicy("payments", steps, repeat)


def fired(steps: tuple[FiredStep, ...]) -> list[tuple[int, int, datetime]]:
    return [(step.repeat, step.step_index, step.due_at) for step in steps]


def test_only_triggered_incidents_escalate() -> None:
    assert should_escalate("triggered")
    assert not should_escalate("acknowledged")
    assert not should_escalate("resolved")
    with pytest.raises(ValueError, match=r"^status: unknown incident status 'open'"):
        should_escalate("open")


def test_escalation_starts_for_triggered_incidents_opened_once_routed() -> None:
    routed = OPENED
    assert starts_escalation("triggered", opened_at=routed, routed_since=routed)
    assert starts_escalation("triggered", routed + timedelta(seconds=1), routed)
    # Routing a service does not page the incidents it already had.
    assert not starts_escalation("triggered", routed - timedelta(seconds=1), routed)
    assert not starts_escalation("acknowledged", routed + timedelta(seconds=1), routed)
    assert not starts_escalation("resolved", routed + timedelta(seconds=1), routed)


def test_pending_pages_are_cancelled_once_the_incident_stops_escalating() -> None:
    assert not cancels_pending_pages("triggered")
    assert cancels_pending_pages("acknowledged")
    assert cancels_pending_pages("resolved")
    with pytest.raises(ValueError, match=r"^status: unknown incident status 'open'"):
        cancels_pending_pages("open")


def test_first_step_with_no_delay_fires_as_the_incident_opens() -> None:
    decision = evaluate_escalation(policy(0, 15), OPENED, EscalationState(), OPENED)

    assert fired(decision.fire) == [(0, 0, OPENED)]
    assert decision.fire[0].targets == (PRIMARY,)
    assert decision.state == EscalationState(1, 0, OPENED)
    assert decision.next_due_at == OPENED + minutes(15)


def test_first_step_delay_counts_from_the_incident_opening() -> None:
    early = evaluate_escalation(policy(5), OPENED, EscalationState(), OPENED + minutes(4))
    on_time = evaluate_escalation(policy(5), OPENED, EscalationState(), OPENED + minutes(5))

    assert early.fire == ()
    assert early.state == EscalationState()
    assert early.next_due_at == OPENED + minutes(5)
    assert fired(on_time.fire) == [(0, 0, OPENED + minutes(5))]
    assert on_time.next_due_at is None


def test_engine_lag_does_not_stretch_the_policy() -> None:
    pol = policy(0, 10, 10)
    state = EscalationState()
    fire_times = []
    for now in (OPENED + minutes(0.5), OPENED + minutes(10.7), OPENED + minutes(20.2)):
        decision = evaluate_escalation(pol, OPENED, state, now)
        fire_times += [step.due_at for step in decision.fire]
        state = decision.state
        if decision.next_due_at is not None:
            assert decision.next_due_at == OPENED + minutes(10 * (state.next_step))

    assert fire_times == [OPENED, OPENED + minutes(10), OPENED + minutes(20)]


def test_after_a_long_outage_each_due_step_fires_once_in_order() -> None:
    decision = evaluate_escalation(
        policy(0, 5, 10), OPENED, EscalationState(), OPENED + minutes(120)
    )

    assert fired(decision.fire) == [
        (0, 0, OPENED),
        (0, 1, OPENED + minutes(5)),
        (0, 2, OPENED + minutes(15)),
    ]
    assert decision.next_due_at is None
    again = evaluate_escalation(policy(0, 5, 10), OPENED, decision.state, OPENED + minutes(121))
    assert again.fire == ()


def test_outage_catch_up_resumes_in_the_middle_of_a_pass() -> None:
    pol = policy(0, 5, 10, 30)
    first = evaluate_escalation(pol, OPENED, EscalationState(), OPENED)

    caught_up = evaluate_escalation(pol, OPENED, first.state, OPENED + minutes(40))

    assert fired(caught_up.fire) == [(0, 1, OPENED + minutes(5)), (0, 2, OPENED + minutes(15))]
    assert caught_up.next_due_at == OPENED + minutes(45)


def test_repeat_waits_the_larger_of_first_and_last_delay_after_the_pass() -> None:
    pol = policy(0, 15, repeat=2)
    assert repeat_gap(pol) == minutes(15)
    state, timeline = EscalationState(), []
    now = OPENED
    while (due := next_due_at(pol, OPENED, state)) is not None:
        now = due
        decision = evaluate_escalation(pol, OPENED, state, now)
        timeline += [(step.repeat, step.step_index, step.due_at - OPENED) for step in decision.fire]
        state = decision.state

    assert timeline == [
        (0, 0, minutes(0)),
        (0, 1, minutes(15)),
        (1, 0, minutes(30)),
        (1, 1, minutes(45)),
        (2, 0, minutes(60)),
        (2, 1, minutes(75)),
    ]
    assert evaluate_escalation(pol, OPENED, state, now + timedelta(days=1)).fire == ()


def test_repeat_after_an_outage_is_not_burst_out() -> None:
    pol = policy(0, 15, repeat=10)

    decision = evaluate_escalation(pol, OPENED, EscalationState(), OPENED + timedelta(hours=10))

    now = OPENED + timedelta(hours=10)
    assert fired(decision.fire) == [(0, 0, OPENED), (0, 1, OPENED + minutes(15))]
    assert decision.state == EscalationState(2, 0, now)
    assert decision.next_due_at == now + minutes(15)
    repeat = evaluate_escalation(pol, OPENED, decision.state, now + minutes(15))
    assert fired(repeat.fire) == [(1, 0, now + minutes(15))]


def test_even_an_unvalidated_zero_gap_policy_fires_one_pass_per_evaluation() -> None:
    pol = policy(0, 0, repeat=3)  # validate_policy would refuse this

    decision = evaluate_escalation(pol, OPENED, EscalationState(), OPENED)

    assert fired(decision.fire) == [(0, 0, OPENED), (0, 1, OPENED)]
    assert decision.next_due_at == OPENED


def test_single_step_policy_repeats_on_its_own_delay() -> None:
    pol = policy(5, repeat=3)
    state, times = EscalationState(), []
    while (due := next_due_at(pol, OPENED, state)) is not None:
        decision = evaluate_escalation(pol, OPENED, state, due)
        times += [step.due_at - OPENED for step in decision.fire]
        state = decision.state

    assert times == [minutes(5), minutes(10), minutes(15), minutes(20)]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (EscalationPolicy("p", ()), "steps: a policy needs at least one step"),
        (EscalationPolicy("p", (EscalationStep(-1, (PRIMARY,)),)), "steps[0].delay_minutes"),
        (
            EscalationPolicy("p", (EscalationStep(0, (PRIMARY,)), EscalationStep(5, ()))),
            "steps[1].targets",
        ),
        (
            EscalationPolicy("p", (EscalationStep(0, (WebhookTarget("ftp://x/y"),)),)),
            "steps[0].targets[0].url",
        ),
        (EscalationPolicy("p", (EscalationStep(0, (UserTarget(""),)),)), "steps[0].targets[0].id"),
        (
            EscalationPolicy("p", (EscalationStep(5, (PRIMARY,)),), repeat=11),
            "repeat: must be between",
        ),
        (
            EscalationPolicy("p", (EscalationStep(0, (PRIMARY,)),), repeat=1),
            "repeat: a repeating policy",
        ),
        (EscalationPolicy(" ", (EscalationStep(0, (PRIMARY,)),)), "name: "),
    ],
)
def test_validate_policy_names_the_field(bad: EscalationPolicy, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("[", r"\[").replace("]", r"\]")):
        validate_policy(bad)


def test_a_sensible_policy_validates() -> None:
    validate_policy(policy(0, 15, 15, repeat=2))


# --- property: whatever the engine's schedule, nothing is skipped or repeated ------


delays = st.lists(st.integers(0, 60), min_size=1, max_size=5)


@settings(max_examples=200, deadline=None)
@given(
    delays,
    st.integers(0, 3),
    st.lists(st.integers(0, 600), min_size=1, max_size=30),
)
def test_engine_never_skips_or_repeats_a_step(
    step_delays: list[int], repeat: int, ticks: list[int]
) -> None:
    if repeat and max(step_delays[0], step_delays[-1]) == 0:
        step_delays[-1] = 1  # what validation demands of a repeating policy
    pol = policy(*step_delays, repeat=repeat)
    validate_policy(pol)
    in_order = [(r, s) for r in range(repeat + 1) for s in range(len(pol.steps))]
    state, history = EscalationState(), []
    now = OPENED
    for gap in [*ticks, 10**6]:  # random ticks, then one after a very long outage
        now += minutes(gap)
        decision = evaluate_escalation(pol, OPENED, state, now)
        assert len(decision.fire) <= len(pol.steps), "at most one pass per evaluation"
        assert all(step.due_at <= now for step in decision.fire)
        assert decision.next_due_at is None or decision.next_due_at > now
        history += [(step.repeat, step.step_index) for step in decision.fire]
        assert history == in_order[: len(history)], "a step was skipped, repeated or reordered"
        state = decision.state
    # Back to a healthy engine: the remaining repeats come, each once, in order.
    while (due := next_due_at(pol, OPENED, state)) is not None:
        decision = evaluate_escalation(pol, OPENED, state, due)
        assert decision.fire
        history += [(step.repeat, step.step_index) for step in decision.fire]
        state = decision.state

    assert history == in_order


@settings(max_examples=100, deadline=None)
@given(delays, st.integers(0, 3))
def test_a_punctual_engine_fires_on_the_nominal_timeline(
    step_delays: list[int], repeat: int
) -> None:
    if repeat and max(step_delays[0], step_delays[-1]) == 0:
        step_delays[0] = 2
    pol = policy(*step_delays, repeat=repeat)
    expected, at = [], OPENED
    for pass_number in range(repeat + 1):
        for index, step in enumerate(pol.steps):
            starts_a_repeat = pass_number > 0 and index == 0
            at += repeat_gap(pol) if starts_a_repeat else minutes(step.delay_minutes)
            expected.append(at)
    state, actual = EscalationState(), []
    while (due := next_due_at(pol, OPENED, state)) is not None:
        decision = evaluate_escalation(pol, OPENED, state, due)
        actual += [step.due_at for step in decision.fire]
        state = decision.state

    assert actual == expected


def test_a_flapping_incident_is_held_a_settled_one_stopped() -> None:
    assert paging_decision("triggered", flapping=False) is PagingDecision.PAGE
    assert paging_decision("triggered", flapping=True) is PagingDecision.HOLD
    assert paging_decision("acknowledged", flapping=True) is PagingDecision.STOP
    assert paging_decision("resolved", flapping=False) is PagingDecision.STOP
