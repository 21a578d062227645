"""The operator's configuration: one typed object, read from the environment once at start-up.

Every setting is an environment variable of the same name in upper case (the two credentials
come from a Secret through ``secretKeyRef`` in a cluster)::

    ALERT_INGESTION_URL           where the alert ingestion service listens
    INCIDENT_MANAGEMENT_URL       where the incident management service listens
    PLATFORM_INTEGRATION_KEY      a *generic* integration key: Alert objects are posted with it
    PLATFORM_API_TOKEN            a *responder* API token: reads the change feed, acknowledges
                                  and resolves incidents on behalf of kubectl users
    INCIDENT_NAMESPACE            namespace of the Incident mirror objects
    FEED_POLL_INTERVAL_SECONDS    how often the incident change feed is polled
    FEED_PAGE_SIZE                incidents per change-feed request
    FEED_RESYNC_SECONDS           how often the feed is replayed from the start (0: only at start)
    HTTP_TIMEOUT_SECONDS          timeout of each request to the platform
    RETRY_DELAY_SECONDS           first retry delay when the platform is down (doubles per retry)
    MAX_RETRY_DELAY_SECONDS       cap of that delay
    PLATFORM_PUBLIC_URL           base of ``status.url`` of Incident objects
    KUBE_API_SERVER               optional: talk to this API server URL (e.g. ``kubectl proxy``)
                                  instead of the service account or kubeconfig
    KUBE_API_TOKEN                optional bearer token for KUBE_API_SERVER

Silence objects (synced to the ingestion service's silences with PLATFORM_API_TOKEN)::

    SILENCE_REFRESH_SECONDS       how often each Silence's ``status.state`` is read back from
                                  the platform (a window starting or ending, an amtool expire)

On-call as code (OnCallSchedule and EscalationPolicy objects synced to the on-call service)::

    ONCALL_URL                    where the on-call service listens
    ONCALL_API_TOKEN              optional *admin* API token of the on-call service; when unset
                                  (or blank) the on-call handlers are not registered at all and
                                  the operator logs once that on-call sync is off
    ONCALL_UNRESOLVED_RETRY_SECONDS  how long to wait before trying again an object that names
                                  a user the on-call service does not know (yet)
"""

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _http_url(value: str) -> str:
    value = value.strip()
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError("must be an http:// or https:// URL")
    return value.rstrip("/")


def _namespace(value: str) -> str:
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError("must be a Kubernetes namespace name (a DNS label)")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]


def _blank_is_unset(value: Any) -> Any:
    """An empty variable (``ONCALL_API_TOKEN=``, a Secret key left empty) means "not set"."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str) and not value.strip():
        return None
    return value


OptionalSecret = Annotated[SecretStr | None, BeforeValidator(_blank_is_unset)]
RefreshSeconds = Annotated[float, Field(ge=1, le=86400)]


class Config(BaseSettings):
    """What the operator needs to know; see the module docstring for the variables."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    alert_ingestion_url: HttpUrl = "http://127.0.0.1:8001"
    incident_management_url: HttpUrl = "http://127.0.0.1:8002"
    platform_integration_key: SecretStr = Field(
        description="Generic integration key used to post alerts."
    )
    platform_api_token: SecretStr = Field(
        description="API token with the responder role (feed, acknowledge, resolve)."
    )
    incident_namespace: Annotated[str, AfterValidator(_namespace)] = "incident-platform"
    feed_poll_interval_seconds: Annotated[float, Field(gt=0, le=3600)] = 5.0
    feed_page_size: Annotated[int, Field(ge=1, le=500)] = 100
    feed_resync_seconds: Annotated[float, Field(ge=0)] = 3600.0
    http_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 10.0
    retry_delay_seconds: Annotated[float, Field(gt=0, le=3600)] = 5.0
    max_retry_delay_seconds: Annotated[float, Field(gt=0, le=86400)] = 300.0
    platform_public_url: HttpUrl | None = None
    kube_api_server: HttpUrl | None = None
    kube_api_token: SecretStr | None = None
    silence_refresh_seconds: RefreshSeconds = 60.0
    oncall_url: HttpUrl = "http://127.0.0.1:8003"
    oncall_api_token: OptionalSecret = Field(
        default=None,
        description="Admin API token of the on-call service; unset turns on-call sync off.",
    )
    oncall_unresolved_retry_seconds: Annotated[float, Field(gt=0, le=86400)] = 300.0

    @property
    def public_url(self) -> str:
        """Base URL people use to open incidents (defaults to the incident service)."""
        return self.platform_public_url or self.incident_management_url


class _SilenceRefresh(BaseSettings):
    """Only the silence timer's interval, which kopf needs when the handlers are registered
    (before :class:`Config` is read at start-up)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    silence_refresh_seconds: RefreshSeconds = 60.0


def silence_refresh_seconds() -> float:
    """``SILENCE_REFRESH_SECONDS``: the interval of the Silence status timer."""
    return _SilenceRefresh().silence_refresh_seconds


class _OnCallSwitch(BaseSettings):
    """Only the on-call token, read exactly as :class:`Config` reads it (same variable rules),
    without needing the rest of the configuration to be valid yet."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    oncall_api_token: OptionalSecret = None


def oncall_sync_enabled() -> bool:
    """Is ``ONCALL_API_TOKEN`` set? Decides, when the handlers are registered, whether the
    OnCallSchedule and EscalationPolicy handlers exist at all."""
    return _OnCallSwitch().oncall_api_token is not None
