"""Every table model, imported in one place so Alembic and tests see the whole schema."""

from sqlmodel import SQLModel

from incident_platform.alert.models import Alert
from incident_platform.auth.models import ApiToken, Integration
from incident_platform.incident.models import Incident, TimelineEvent

metadata = SQLModel.metadata

__all__ = ["Alert", "ApiToken", "Incident", "Integration", "TimelineEvent", "metadata"]
