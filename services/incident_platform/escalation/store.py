"""Loading escalation policies and routing from PostgreSQL, and resolving targets to people."""

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, text
from sqlmodel import Session, col

from incident_platform.clock import utc_now
from incident_platform.escalation import rules, tables
from incident_platform.escalation.codec import policy_from_json, steps_to_json
from incident_platform.escalation.rules import (
    ScheduleTarget,
    Target,
    UserTarget,
    WebhookTarget,
)
from incident_platform.escalation.tables import ServiceRouting
from incident_platform.notification.rules import Channel
from incident_platform.schedule import tables as schedule_tables
from incident_platform.schedule.rules import oncall_at
from incident_platform.schedule.store import missing_users, overrides_around, to_domain
from incident_platform.user.codec import contacts_from_json
from incident_platform.user.tables import User


class PolicyNotFound(Exception):
    def __init__(self, policy_id: uuid.UUID) -> None:
        super().__init__(f"escalation policy {policy_id} not found")


class PolicyInUse(Exception):
    """The policy still routes services; deleting it would leave them paging nobody."""

    def __init__(self, name: str, services: list[str]) -> None:
        super().__init__(f"escalation policy {name!r} routes service {', '.join(services)}")
        self.services = services


def to_policy(row: tables.EscalationPolicy) -> rules.EscalationPolicy:
    return policy_from_json(row.name, row.steps, row.repeat)


def get_policy(session: Session, policy_id: uuid.UUID) -> tables.EscalationPolicy | None:
    return session.get(tables.EscalationPolicy, policy_id)


def all_policies(session: Session) -> list[tables.EscalationPolicy]:
    return list(
        session.execute(
            select(tables.EscalationPolicy).order_by(col(tables.EscalationPolicy.name))
        ).scalars()
    )


def new_policy(policy: rules.EscalationPolicy) -> tables.EscalationPolicy:
    """A row for ``policy``, not yet added (the caller commits, answering name clashes)."""
    return tables.EscalationPolicy(
        name=policy.name, steps=steps_to_json(policy), repeat=policy.repeat
    )


def replace_policy(row: tables.EscalationPolicy, policy: rules.EscalationPolicy) -> None:
    row.name, row.repeat = policy.name, policy.repeat
    row.steps = steps_to_json(policy)
    row.updated_at = utc_now()


def unknown_targets(session: Session, policy: rules.EscalationPolicy) -> list[tuple[str, str]]:
    """``(field path, message)`` for targets that point at nothing."""
    problems: list[tuple[str, str]] = []
    user_ids: list[tuple[str, str]] = []
    schedule_ids: list[tuple[str, str]] = []
    for index, step in enumerate(policy.steps):
        for position, target in enumerate(step.targets):
            path = f"steps.{index}.targets.{position}.id"
            if isinstance(target, UserTarget):
                user_ids.append((path, target.id))
            elif isinstance(target, ScheduleTarget):
                schedule_ids.append((path, target.id))
    missing = missing_users(session, [user_id for _, user_id in user_ids])
    problems += [(path, f"unknown user {uid}") for path, uid in user_ids if uid in missing]
    known = {str(s) for s in session.execute(select(col(schedule_tables.Schedule.id))).scalars()}
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
        # A target resolves the same way for every incident of the tick: one storm of
        # 10,000 incidents pages the same few people. Only answers are kept; a lookup that
        # raised is tried again for the next incident, as before.
        self._resolved: dict[Target, ResolvedTarget] = {}

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
            row = self.session.get(schedule_tables.Schedule, uuid.UUID(schedule_id))
            if row is None:
                self._oncall[schedule_id] = (None, f"deleted schedule {schedule_id}")
            else:
                overrides = overrides_around(self.session, row.id, self.at)
                found = oncall_at(to_domain(row), overrides, self.at)
                self._oncall[schedule_id] = (found.user if found else None, row.name)
        return self._oncall[schedule_id]

    def resolve(self, target: Target) -> ResolvedTarget:
        """Who ``target`` reaches at the instant; the answer is shared, do not change it."""
        resolved = self._resolved.get(target)
        if resolved is None:
            resolved = self._resolved[target] = self._resolve(target)
        return resolved

    def _resolve(self, target: Target) -> ResolvedTarget:
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
            Recipient(contact.channel, contact.address, user.id, user.name)
            for contact in contacts_from_json(user.contact_methods)
        ]
        resolved = ResolvedTarget(target, f"{user.name} ({how})", recipients)
        if not recipients:
            resolved.problem = f"{user.name} has no contact methods"
        return resolved


def policy_for_service(session: Session, service: str) -> tables.EscalationPolicy | None:
    routing = session.get(ServiceRouting, service)
    if routing is None:
        return None
    return session.get(tables.EscalationPolicy, routing.escalation_policy_id)


def policies_targeting(session: Session, target_type: str, target_id: uuid.UUID) -> list[str]:
    """Names of the policies with a step paging ``target_type`` ``target_id``, sorted."""
    target = [{"targets": [{"type": target_type, "id": str(target_id)}]}]
    rows = session.execute(
        text("SELECT name FROM escalation_policies WHERE steps @> CAST(:target AS jsonb)"),
        {"target": json.dumps(target)},
    ).scalars()
    return sorted(rows)


def delete_policy(session: Session, policy_id: uuid.UUID) -> None:
    """Deletes a policy no service is routed to, and commits.

    The policy row is locked first: routing a service to it takes a key-share lock on
    that row (:func:`route_service`), so no routing can appear between the check and
    the delete. Raises :class:`PolicyNotFound` or :class:`PolicyInUse`.
    """
    row = session.execute(
        select(tables.EscalationPolicy)
        .where(col(tables.EscalationPolicy.id) == policy_id)
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise PolicyNotFound(policy_id)
    services = sorted(
        session.execute(
            select(col(ServiceRouting.service)).where(
                col(ServiceRouting.escalation_policy_id) == policy_id
            )
        ).scalars()
    )
    if services:
        session.rollback()
        raise PolicyInUse(row.name, services)
    session.delete(row)
    session.commit()


def route_service(session: Session, service: str, policy_id: uuid.UUID) -> ServiceRouting:
    """Routes ``service`` to the policy, and commits; :class:`PolicyNotFound` if there is none.

    The policy row is held with a key-share lock until the commit, so a concurrent
    :func:`delete_policy` waits and then sees this routing.
    """
    policy = session.execute(
        select(col(tables.EscalationPolicy.id))
        .where(col(tables.EscalationPolicy.id) == policy_id)
        .with_for_update(key_share=True)
    ).scalar_one_or_none()
    if policy is None:
        session.rollback()
        raise PolicyNotFound(policy_id)
    routing = session.get(ServiceRouting, service)
    if routing is None:
        routing = ServiceRouting(service=service, escalation_policy_id=policy_id)
        session.add(routing)
    else:
        routing.escalation_policy_id = policy_id
        routing.updated_at = utc_now()
    session.commit()
    session.refresh(routing)
    return routing


@dataclass(frozen=True)
class FirstPage:
    """Who an incident of a service would page first at an instant."""

    policy_id: uuid.UUID
    policy_name: str
    at: datetime
    targets: list[ResolvedTarget]


def first_paged(session: Session, service: str, at: datetime) -> FirstPage | None:
    """First-page rule: an incident of ``service`` pages its policy's first step's targets,
    resolved at ``at``; None if the service has no policy."""
    row = policy_for_service(session, service)
    if row is None:
        return None
    resolver = TargetResolver(session, at)
    first_step = to_policy(row).steps[0]
    return FirstPage(row.id, row.name, at, [resolver.resolve(t) for t in first_step.targets])
