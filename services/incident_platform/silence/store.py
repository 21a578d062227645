"""Silences in PostgreSQL: create, change, read, expire. The routes call these.

Matchers are stored through :mod:`.codec`, as Alertmanager writes them, so a stored
silence reads back as the API's shape unchanged.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from incident_platform.clock import utc_now
from incident_platform.silence.codec import matcher_rules, stored_matchers
from incident_platform.silence.rules import Matcher, SilenceRule, SilenceState, state_of
from incident_platform.silence.tables import Silence

# Expired silences are listed this long after they end, then left out (Alertmanager's
# default --data.retention), so the list stays bounded however many silences were made.
LISTED_AFTER_EXPIRY = timedelta(hours=120)


class SilenceNotFound(Exception):
    def __init__(self, silence_id: uuid.UUID) -> None:
        super().__init__(f"silence {silence_id} not found")


def rule_of(silence: Silence) -> SilenceRule:
    return SilenceRule(
        id=silence.id,
        matchers=matcher_rules(silence.matchers),
        starts_at=silence.starts_at,
        ends_at=silence.ends_at,
    )


def get_silence(session: Session, silence_id: uuid.UUID, *, for_update: bool = False) -> Silence:
    query = select(Silence).where(col(Silence.id) == silence_id)
    if for_update:
        query = query.with_for_update()
    silence: Silence | None = session.execute(query).scalar_one_or_none()
    if silence is None:
        raise SilenceNotFound(silence_id)
    return silence


def save_silence(
    session: Session,
    silence_id: uuid.UUID | None,
    *,
    matchers: Sequence[Matcher],
    starts_at: datetime,
    ends_at: datetime,
    created_by: str,
    comment: str,
) -> Silence:
    """A new silence, or (``silence_id``) the named one changed in place."""
    if silence_id is None:
        silence = Silence(
            matchers=stored_matchers(matchers),
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=created_by,
            comment=comment,
        )
        session.add(silence)
    else:
        silence = get_silence(session, silence_id, for_update=True)
        silence.matchers = stored_matchers(matchers)
        silence.starts_at = starts_at
        silence.ends_at = ends_at
        silence.created_by = created_by
        silence.comment = comment
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
