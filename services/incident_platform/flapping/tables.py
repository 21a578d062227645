"""Each fingerprint's recent states, for flap detection."""

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Float, ForeignKey, Index, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel


class AlertFlap(SQLModel, table=True):
    __tablename__ = "alert_flaps"
    __table_args__ = (
        # What the flap sweep looks for: flapping fingerprints whose time passes quietly.
        Index("ix_alert_flaps_flapping", "sampled_at", postgresql_where=text("flapping")),
        # Whether another alert of an incident still flaps, asked for every incident a
        # round records a state change in: without it, a scan of every history per incident.
        Index(
            "ix_alert_flaps_flapping_incident_id",
            "incident_id",
            postgresql_where=text("flapping"),
        ),
    )

    fingerprint: str = Field(sa_column=Column(Text, primary_key=True))
    # Oldest first, at most 21: 'firing' / 'resolved'.
    states: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    sampled_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    flapping: bool = Field(sa_column=Column(Boolean, nullable=False))
    percent: float = Field(sa_column=Column(Float, nullable=False))
    # The incident the fingerprint's latest alert belongs to: a flapping alert's return
    # re-joins it, and it is marked flapping while the fingerprint flaps.
    incident_id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger, ForeignKey("incidents.id", ondelete="SET NULL"), nullable=True
        ),
    )
