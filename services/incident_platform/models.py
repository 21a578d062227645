"""Every table model, imported in one place so Alembic and tests see the whole schema."""

from sqlmodel import SQLModel

from incident_platform.alert.models import Alert
from incident_platform.auth.models import ApiToken, Integration
from incident_platform.escalation.tables import Escalation, EscalationPolicyRow, ServiceRouting
from incident_platform.flapping.tables import AlertFlap
from incident_platform.grouping.tables import GroupingRule
from incident_platform.incident.models import Incident, TimelineEvent
from incident_platform.notification.models import Notification
from incident_platform.schedule.tables import OverrideRow, ScheduleRow
from incident_platform.silence.models import Silence
from incident_platform.user.models import User

metadata = SQLModel.metadata

__all__ = [
    "Alert",
    "AlertFlap",
    "ApiToken",
    "Escalation",
    "EscalationPolicyRow",
    "GroupingRule",
    "Incident",
    "Integration",
    "Notification",
    "OverrideRow",
    "ScheduleRow",
    "ServiceRouting",
    "Silence",
    "TimelineEvent",
    "User",
    "metadata",
]
