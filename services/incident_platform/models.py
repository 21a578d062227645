"""Every table model, imported in one place so Alembic and tests see the whole schema."""

from sqlmodel import SQLModel

from incident_platform.alert.tables import Alert
from incident_platform.auth.tables import ApiToken, Integration
from incident_platform.escalation.tables import Escalation, EscalationPolicy, ServiceRouting
from incident_platform.flapping.tables import AlertFlap
from incident_platform.grouping.tables import GroupingRule
from incident_platform.incident.tables import Incident, TimelineEvent
from incident_platform.notification.tables import Notification
from incident_platform.schedule.tables import Override, Schedule
from incident_platform.silence.tables import Silence
from incident_platform.user.tables import User

metadata = SQLModel.metadata

__all__ = [
    "Alert",
    "AlertFlap",
    "ApiToken",
    "Escalation",
    "EscalationPolicy",
    "GroupingRule",
    "Incident",
    "Integration",
    "Notification",
    "Override",
    "Schedule",
    "ServiceRouting",
    "Silence",
    "TimelineEvent",
    "User",
    "metadata",
]
