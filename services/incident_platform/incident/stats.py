"""MTTA and MTTR, computed in SQL over incidents opened since a given instant."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session


@dataclass(frozen=True)
class DurationStats:
    count: int
    mean_seconds: float | None
    p50_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class IncidentStats:
    since: datetime
    total: int
    triggered: int
    acknowledged: int
    resolved: int
    time_to_acknowledge: DurationStats
    time_to_resolve: DurationStats


_STATS = text(
    """
WITH scope AS (
    SELECT status,
           extract(epoch FROM acknowledged_at - created_at) AS tta,
           extract(epoch FROM resolved_at - created_at) AS ttr
      FROM incidents
     WHERE created_at >= :since
)
SELECT count(*) AS total,
       count(*) FILTER (WHERE status = 'triggered') AS triggered,
       count(*) FILTER (WHERE status = 'acknowledged') AS acknowledged,
       count(*) FILTER (WHERE status = 'resolved') AS resolved,
       count(tta) AS tta_count,
       avg(tta) AS tta_mean,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY tta) AS tta_p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY tta) AS tta_p90,
       count(ttr) AS ttr_count,
       avg(ttr) AS ttr_mean,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ttr) AS ttr_p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY ttr) AS ttr_p90
  FROM scope
"""
)


def _maybe(value: object) -> float | None:
    return None if value is None else round(float(value), 3)  # type: ignore[arg-type]


def incident_stats(session: Session, since: datetime) -> IncidentStats:
    row = session.execute(_STATS, {"since": since}).mappings().one()
    return IncidentStats(
        since=since,
        total=row["total"],
        triggered=row["triggered"],
        acknowledged=row["acknowledged"],
        resolved=row["resolved"],
        time_to_acknowledge=DurationStats(
            row["tta_count"],
            _maybe(row["tta_mean"]),
            _maybe(row["tta_p50"]),
            _maybe(row["tta_p90"]),
        ),
        time_to_resolve=DurationStats(
            row["ttr_count"],
            _maybe(row["ttr_mean"]),
            _maybe(row["ttr_p50"]),
            _maybe(row["ttr_p90"]),
        ),
    )
