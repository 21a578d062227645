"""Escalation policies: timing in :mod:`.rules` (pure), storage in :mod:`.tables` and
:mod:`.store` (JSON through :mod:`.codec`), HTTP shapes in :mod:`.models`."""

from incident_platform.escalation.rules import (
    EscalationDecision,
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

__all__ = [
    "EscalationDecision",
    "EscalationPolicy",
    "EscalationState",
    "EscalationStep",
    "FiredStep",
    "ScheduleTarget",
    "Target",
    "UserTarget",
    "WebhookTarget",
    "evaluate_escalation",
    "next_due_at",
    "repeat_gap",
    "should_escalate",
    "validate_policy",
]
