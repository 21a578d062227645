"""Give the operator its platform credentials, once, and keep them in its Secret.

The chart's operator-credentials Job runs this with `python -c` in the platform's image. The
operator needs a *generic integration key* (it posts Alert objects with it) and a *responder
API token* (change feed, acknowledge, resolve); optionally an *admin token* for on-call sync.
Those exist only once the platform runs, so this program, holding the bootstrap admin token:

1. waits until the alert ingestion and incident management services are ready;
2. reads the Secret SECRET_NAME (the chart creates it empty; this program may only get and
   patch that one Secret, it cannot create any);
3. keeps every credential whose id is still listed by the platform (not revoked), and
   creates the others: POST {ingestion}/api/v1/integrations {"name", "kind": "generic"} ->
   key, POST {incidents}/api/v1/tokens {"name", "role": "responder"} -> token;
4. writes new ones to the Secret with a merge patch conditional on the resourceVersion it
   read (a concurrent run makes it start over, revoking what it had created), then revokes
   any credential that it replaced.

So it is idempotent: run again, it finds everything valid and changes nothing. Secret keys:
integration-key, integration-id, token, token-id (and oncall-token, oncall-token-id).

Environment:
  ALERT_INGESTION_URL, INCIDENT_MANAGEMENT_URL   the services (in-cluster URLs)
  PLATFORM_ADMIN_TOKEN                           the bootstrap admin token
  SECRET_NAME, SECRET_NAMESPACE                  the Secret to fill
  INTEGRATION_NAME, TOKEN_NAME                   names of the credentials (kubernetes-operator)
  ONCALL_TOKEN_NAME                              optional: also mint an admin token with this name
  WAIT_SECONDS                                   how long to wait for the services (600)
  KUBE_API_SERVER, KUBE_API_TOKEN, KUBE_CA_FILE  optional; default: the pod's service account
"""

import base64
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
ATTEMPTS = 5


@dataclass(frozen=True)
class Credential:
    key: str  # Secret key of the credential
    id_key: str  # Secret key of its id (the platform lists and revokes by id)
    service: str  # "ingestion" or "incidents": which service issues it
    path: str  # collection URL path: POST creates, GET lists, DELETE /{id} revokes
    body: dict[str, str]
    field: str  # where the clear credential is in the creation answer


def log(message: str) -> None:
    print(f"[operator-credentials] {message}", flush=True)


def wanted() -> list[Credential]:
    env = os.environ
    found = [
        Credential(
            "integration-key",
            "integration-id",
            "ingestion",
            "/api/v1/integrations",
            {"name": env.get("INTEGRATION_NAME", "kubernetes-operator"), "kind": "generic"},
            "key",
        ),
        Credential(
            "token",
            "token-id",
            "incidents",
            "/api/v1/tokens",
            {"name": env.get("TOKEN_NAME", "kubernetes-operator"), "role": "responder"},
            "token",
        ),
    ]
    if env.get("ONCALL_TOKEN_NAME"):
        found.append(
            Credential(
                "oncall-token",
                "oncall-token-id",
                "incidents",
                "/api/v1/tokens",
                {"name": env["ONCALL_TOKEN_NAME"], "role": "admin"},
                "token",
            )
        )
    return found


def kube_client() -> httpx.Client:
    server = os.environ.get("KUBE_API_SERVER")
    token = os.environ.get("KUBE_API_TOKEN")
    verify: str | bool = os.environ.get("KUBE_CA_FILE") or True
    if not server:
        host = os.environ["KUBERNETES_SERVICE_HOST"]
        host = f"[{host}]" if ":" in host else host
        server = f"https://{host}:{os.environ.get('KUBERNETES_SERVICE_PORT', '443')}"
        token = token or (SERVICE_ACCOUNT / "token").read_text().strip()
        verify = os.environ.get("KUBE_CA_FILE") or str(SERVICE_ACCOUNT / "ca.crt")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server, headers=headers, verify=verify, timeout=30)


def wait_ready(clients: dict[str, httpx.Client], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    for name, client in clients.items():
        while True:
            try:
                answer = client.get("/readyz")
                if answer.status_code == 200:
                    log(f"{name} is ready")
                    break
                reason = f"HTTP {answer.status_code}"
            except httpx.HTTPError as error:
                reason = type(error).__name__
            if time.monotonic() >= deadline:
                raise SystemExit(f"{name} ({client.base_url}) not ready after {seconds:.0f} s")
            log(f"waiting for {name} ({reason})")
            time.sleep(3)


def listed_ids(client: httpx.Client, credential: Credential) -> set[str]:
    answer = client.get(credential.path)
    answer.raise_for_status()
    return {str(item["id"]) for item in answer.json()["data"]}


def revoke(client: httpx.Client, credential: Credential, ident: str) -> None:
    answer = client.delete(f"{credential.path}/{ident}")
    if answer.status_code not in (204, 404):
        answer.raise_for_status()
    log(f"revoked the replaced {credential.key} ({ident})")


def main() -> int:
    env = os.environ
    admin = {"Authorization": f"Bearer {env['PLATFORM_ADMIN_TOKEN']}"}
    platform = {
        "ingestion": httpx.Client(base_url=env["ALERT_INGESTION_URL"], headers=admin, timeout=30),
        "incidents": httpx.Client(
            base_url=env["INCIDENT_MANAGEMENT_URL"], headers=admin, timeout=30
        ),
    }
    secret_path = f"/api/v1/namespaces/{env['SECRET_NAMESPACE']}/secrets/{env['SECRET_NAME']}"
    wait_ready(platform, float(env.get("WAIT_SECONDS", "600")))
    with kube_client() as kube:
        for _ in range(ATTEMPTS):
            answer = kube.get(secret_path)
            if answer.status_code == 404:
                log(f"Secret {env['SECRET_NAME']} does not exist: the chart creates it empty")
                return 2
            answer.raise_for_status()
            secret = answer.json()
            stored = {
                key: base64.b64decode(value).decode()
                for key, value in (secret.get("data") or {}).items()
            }
            stale: list[tuple[Credential, set[str]]] = []
            for credential in wanted():
                ids = listed_ids(platform[credential.service], credential)
                if stored.get(credential.key) and stored.get(credential.id_key) in ids:
                    log(f"{credential.key} is valid ({stored[credential.id_key]})")
                else:
                    stale.append((credential, ids))
            if not stale:
                log("nothing to do: every credential in the Secret is valid")
                return 0

            created: list[tuple[Credential, str]] = []
            data: dict[str, str] = {}
            for credential, _ in stale:
                client = platform[credential.service]
                made = client.post(credential.path, json=credential.body)
                made.raise_for_status()
                body = made.json()
                created.append((credential, str(body["id"])))
                data[credential.key] = str(body[credential.field])
                data[credential.id_key] = str(body["id"])
                log(f"created {credential.key} {credential.body['name']!r} ({body['id']})")
            patch = {
                "metadata": {"resourceVersion": secret["metadata"]["resourceVersion"]},
                "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
            }
            written = kube.patch(
                secret_path,
                json=patch,
                headers={"Content-Type": "application/merge-patch+json"},
            )
            if written.status_code == 409:
                log("the Secret changed meanwhile (another run?): starting over")
                for credential, ident in created:
                    revoke(platform[credential.service], credential, ident)
                continue
            written.raise_for_status()
            log(f"stored {', '.join(c.key for c, _ in created)} in Secret {env['SECRET_NAME']}")
            for credential, ids in stale:
                old = stored.get(credential.id_key)
                if old and old in ids:
                    revoke(platform[credential.service], credential, old)
            if stored:
                log(
                    "credentials were replaced: an operator started with the old ones needs a"
                    " restart (kubectl rollout restart deployment/<release>-operator)"
                )
            return 0
    log(f"gave up after {ATTEMPTS} conflicting updates of the Secret")
    return 1


if __name__ == "__main__":
    sys.exit(main())
