"""Silences in PostgreSQL: create, change, read, expire. The routes call these."""

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from incident_platform.clock import utc_now
from incident_platform.silence.models import PostableSilence, Silence, stored_matchers
from incident_platform.silence.rules import SilenceState, state_of

# Expired silences are listed this long after they end, then left out (Alertmanager's
# default --data.retention), so the list stays bounded however many silences were made.
LISTED_AFTER_EXPIRY = timedelta(hours=120)


class SilenceNotFound(Exception):
    def __init__(self, silence_id: uuid.UUID) -> None:
        super().__init__(f"silence {silence_id} not found")


def get_silence(session: Session, silence_id: uuid.UUID, *, for_update: bool = False) -> Silence:
    query = select(Silence).where(col(Silence.id) == silence_id)
    if for_update:
        query = query.with_for_update()
    silence: Silence | None = session.execute(query).scalar_one_or_none()
    if silence is None:
        raise SilenceNotFound(silence_id)
    return silence


def save_silence(session: Session, body: PostableSilence) -> Silence:
    """A new silence, or (``body.id``) the named one changed in place."""
    if body.id is None:
        silence = Silence(
            matchers=stored_matchers(body.matchers),
            starts_at=body.startsAt,
            ends_at=body.endsAt,
            created_by=body.createdBy,
            comment=body.comment,
        )
        session.add(silence)
    else:
        silence = get_silence(session, body.id, for_update=True)
        silence.matchers = stored_matchers(body.matchers)
        silence.starts_at = body.startsAt
        silence.ends_at = body.endsAt
        silence.created_by = body.createdBy
        silence.comment = body.comment
        silence.updated_at = utc_now()
    session.commit()
    session.refresh(silence)
    return silence


def list_silences(session: Session) -> Sequence[Silence]:
    """Active, pending and recently expired silences, the latest ending first."""
    query = (
        select(Silence)
        .where(col(Silence.ends_at) > utc_now() - LISTED_AFTER_EXPIRY)
        .order_by(col(Silence.ends_at).desc(), col(Silence.id))
    )
    return list(session.execute(query).scalars())


def expire_silence(session: Session, silence_id: uuid.UUID) -> Silence:
    """Ends the silence now (a pending one never starts); an expired one stays as it is."""
    silence = get_silence(session, silence_id, for_update=True)
    now = utc_now()
    state = state_of(silence.starts_at, silence.ends_at, now)
    if state is SilenceState.PENDING:
        silence.starts_at = silence.ends_at = now
    elif state is SilenceState.ACTIVE:
        silence.ends_at = now
    if state is not SilenceState.EXPIRED:
        silence.updated_at = now
    session.commit()
    session.refresh(silence)
    return silence
