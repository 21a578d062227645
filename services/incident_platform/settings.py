"""One typed settings object for every service, read from the environment."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Self

from pydantic import AnyHttpUrl, Field, PostgresDsn, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    database_url: PostgresDsn = Field(
        default=PostgresDsn("postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        description="SQLAlchemy URL; postgresql:// URLs are switched to the psycopg 3 driver.",
    )
    platform_admin_token: SecretStr | None = Field(
        default=None, description="Bootstrap admin bearer token."
    )
    auto_resolve: bool = Field(
        default=True, description="Resolve an incident when all its alerts have resolved."
    )
    db_pool_size: Annotated[int, Field(ge=1, le=200)] = 10
    db_max_overflow: Annotated[int, Field(ge=0, le=200)] = 10
    # Short on purpose: a request must answer 503 within seconds when the database is gone.
    db_pool_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 2.0
    db_connect_timeout_seconds: Annotated[int, Field(ge=1, le=30)] = 2
    db_statement_timeout_ms: Annotated[int, Field(ge=100)] = 4000
    retry_after_seconds: Annotated[int, Field(ge=1, le=300)] = 2
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024
    credential_cache_seconds: Annotated[float, Field(ge=0, le=60)] = 5.0
    # Group commit (alert/batching.py): concurrent ingest requests of a worker share one
    # transaction of at most this many alerts; a writer that just committed waits at most
    # this long for more (never when it was idle); this many transactions in flight per worker.
    ingest_batch_max_alerts: Annotated[int, Field(ge=1, le=10_000)] = 500
    ingest_batch_max_wait_ms: Annotated[float, Field(ge=0, le=20)] = 2.0
    ingest_batch_writers: Annotated[int, Field(ge=1, le=32)] = 1
    public_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("http://127.0.0.1:8002"),
        description="Where people reach the incident service; used in links.",
    )

    oncall_public_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("http://127.0.0.1:8003"),
        description="Where people reach the on-call service; acknowledge links point here.",
    )
    ack_signing_key: SecretStr | None = Field(
        default=None,
        description="HMAC key for acknowledge links; the on-call service refuses to start"
        " its engine without one.",
    )
    ack_link_ttl_seconds: Annotated[int, Field(ge=60, le=7 * 86400)] = 24 * 3600
    engine_interval_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0
    run_engine: bool = Field(default=True, description="Run the escalation engine in-process.")
    silence_sweep_seconds: Annotated[float, Field(gt=0, le=300)] = Field(
        default=5.0,
        description="How often the ingestion service releases the alerts of silences that"
        " ended on their own (an expired or changed silence releases them at once).",
    )
    # Flap detection (flapping/rules.py): Nagios's weighted percent state change over the
    # last 21 states; the time between changes counts one unchanged state per check interval.
    flap_high_threshold: Annotated[float, Field(gt=0, le=100)] = Field(
        default=30.0, description="Percent state change at or above which an alert flaps."
    )
    flap_low_threshold: Annotated[float, Field(ge=0, lt=100)] = Field(
        default=20.0, description="Percent state change at or below which it stops flapping."
    )
    flap_check_interval_seconds: Annotated[float, Field(gt=0, le=86400)] = Field(
        default=300.0,
        description="How long an unchanged state counts as one state in the history"
        " (Nagios's check interval; 5 minutes, Alertmanager's default group_interval).",
    )
    flap_sweep_seconds: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=30.0,
        description="How often the ingestion service lets time pass over flapping alerts,"
        " so that one that stays quiet stops flapping.",
    )
    notification_max_attempts: Annotated[int, Field(ge=1, le=50)] = 6
    notification_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    notification_lease_seconds: Annotated[float, Field(gt=0, le=600)] = 60.0
    notification_concurrency: Annotated[int, Field(ge=1, le=256)] = 16
    smtp_host: str = "127.0.0.1"
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 25
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "incident-platform@localhost"

    # The incident event stream (GET /api/v1/events); notifications wake it, the poll is
    # the fallback when one is lost (a reconnect of its LISTEN connection).
    events_poll_seconds: Annotated[float, Field(gt=0, le=60)] = 2.0
    # At most one NOTIFY per process this often, however many commits (incident/notify.py).
    events_notify_interval_seconds: Annotated[float, Field(ge=0, le=5)] = 0.05
    events_page_size: Annotated[int, Field(ge=1, le=10_000)] = 500
    # A comment line this often on an idle stream, so proxies keep it open.
    events_heartbeat_seconds: Annotated[float, Field(gt=0, le=300)] = 15.0
    # A subscriber this far behind is disconnected; it reconnects with Last-Event-ID.
    events_queue_size: Annotated[int, Field(ge=1, le=1_000_000)] = 2000

    # The web server on :8080 (incident_platform.web): the UI bundle and the API paths.
    web_dist_dir: Path = Field(
        default=Path(__file__).resolve().parents[2] / "web" / "dist",
        description="The built UI bundle (npm run build in web/) that :8080 serves.",
    )
    web_ingestion_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8001")
    web_incidents_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8002")
    web_oncall_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8003")
    web_connect_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 2.0
    # Per read, not per response: event streams send a heartbeat well within it.
    web_read_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 60.0

    @model_validator(mode="after")
    def _flap_thresholds_ordered(self) -> Self:
        if self.flap_low_threshold >= self.flap_high_threshold:
            raise ValueError("flap_low_threshold: must be below flap_high_threshold")
        return self

    @field_validator("database_url", mode="before")
    @classmethod
    def _use_psycopg_driver(cls, value: object) -> object:
        if isinstance(value, str):
            # libpq accepts an empty host with ?host=/socket/dir; a URL type does not.
            value = value.replace(":@/", "@/").replace("@/", "@localhost/", 1)
            for prefix in ("postgresql://", "postgres://"):
                if value.startswith(prefix):
                    return "postgresql+psycopg://" + value[len(prefix) :]
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
