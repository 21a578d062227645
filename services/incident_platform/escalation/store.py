"""Loading escalation policies and routing from PostgreSQL, and resolving targets to people."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from incident_platform.escalation.models import EscalationPolicyModel
from incident_platform.escalation.rules import (
    EscalationPolicy,
    ScheduleTarget,
    Target,
    UserTarget,
    WebhookTarget,
)
from incident_platform.escalation.tables import EscalationPolicyRow, ServiceRouting
from incident_platform.notification.models import Channel
from incident_platform.schedule.rules import oncall_at
from incident_platform.schedule.store import missing_users, overrides_between, to_domain
from incident_platform.schedule.tables import ScheduleRow
from incident_platform.user.models import User

# Overrides further than this from the instant cannot affect who is on call then.
_OVERRIDE_WINDOW = timedelta(days=400)


def to_model(row: EscalationPolicyRow) -> EscalationPolicyModel:
    return EscalationPolicyModel.model_validate(
        {"name": row.name, "steps": row.steps, "repeat": row.repeat}
    )


def to_policy(row: EscalationPolicyRow) -> EscalationPolicy:
    return to_model(row).to_domain()


def unknown_targets(session: Session, model: EscalationPolicyModel) -> list[tuple[str, str]]:
    """``(field path, message)`` for targets that point at nothing."""
    problems: list[tuple[str, str]] = []
    user_ids: list[tuple[str, str]] = []
    schedule_ids: list[tuple[str, str]] = []
    for index, step in enumerate(model.steps):
        for position, target in enumerate(step.targets):
            path = f"steps.{index}.targets.{position}.id"
            if target.type == "user":
                user_ids.append((path, target.id))
            elif target.type == "schedule":
                schedule_ids.append((path, target.id))
    missing = missing_users(session, [user_id for _, user_id in user_ids])
    problems += [(path, f"unknown user {uid}") for path, uid in user_ids if uid in missing]
    known = {str(s) for s in session.execute(select(col(ScheduleRow.id))).scalars()}
    problems += [
        (path, f"unknown schedule {sid}") for path, sid in schedule_ids if sid not in known
    ]
    return problems


@dataclass
class Recipient:
    """One address to notify, and who it belongs to (None for a bare webhook target)."""

    channel: Channel
    address: str
    user_id: uuid.UUID | None = None
    user_name: str | None = None


@dataclass
class ResolvedTarget:
    target: Target
    description: str
    recipients: list[Recipient] = field(default_factory=list)
    problem: str | None = None


class TargetResolver:
    """Turns policy targets into addresses at an instant, caching lookups for one engine tick."""

    def __init__(self, session: Session, at: datetime) -> None:
        self.session = session
        self.at = at
        self._users: dict[str, User | None] = {}
        self._oncall: dict[str, tuple[str | None, str]] = {}

    def user(self, user_id: str) -> User | None:
        if user_id not in self._users:
            try:
                self._users[user_id] = self.session.get(User, uuid.UUID(user_id))
            except ValueError:
                self._users[user_id] = None
        return self._users[user_id]

    def on_call(self, schedule_id: str) -> tuple[str | None, str]:
        """The user id on call now (or None) and the schedule's name."""
        if schedule_id not in self._oncall:
            row = self.session.get(ScheduleRow, uuid.UUID(schedule_id))
            if row is None:
                self._oncall[schedule_id] = (None, f"deleted schedule {schedule_id}")
            else:
                overrides = overrides_between(
                    self.session, row.id, self.at - _OVERRIDE_WINDOW, self.at + _OVERRIDE_WINDOW
                )
                found = oncall_at(to_domain(row), overrides, self.at)
                self._oncall[schedule_id] = (found.user if found else None, row.name)
        return self._oncall[schedule_id]

    def resolve(self, target: Target) -> ResolvedTarget:
        match target:
            case WebhookTarget(url=url):
                return ResolvedTarget(target, f"webhook {url}", [Recipient(Channel.WEBHOOK, url)])
            case UserTarget(id=user_id):
                return self._person(target, user_id, "user")
            case ScheduleTarget(id=schedule_id):
                on_call, name = self.on_call(schedule_id)
                if on_call is None:
                    return ResolvedTarget(
                        target, f"schedule {name}", problem=f"nobody is on call in {name}"
                    )
                return self._person(target, on_call, f"on call in {name}")
        raise AssertionError(f"unknown target {target!r}")

    def _person(self, target: Target, user_id: str, how: str) -> ResolvedTarget:
        user = self.user(user_id)
        if user is None:
            return ResolvedTarget(target, f"user {user_id}", problem=f"user {user_id} not found")
        recipients = [
            Recipient(Channel(method["type"]), method["address"], user.id, user.name)
            for method in user.contact_methods
        ]
        resolved = ResolvedTarget(target, f"{user.name} ({how})", recipients)
        if not recipients:
            resolved.problem = f"{user.name} has no contact methods"
        return resolved


def policy_for_service(session: Session, service: str) -> EscalationPolicyRow | None:
    routing = session.get(ServiceRouting, service)
    if routing is None:
        return None
    return session.get(EscalationPolicyRow, routing.escalation_policy_id)
