"""`helm test`: is each platform service ready, and is the operator's token accepted?

Run by templates/tests/test-connection.yaml as `python -c <this> URL...` with the services'
in-cluster URLs (alert ingestion, incident management, on-call). Each must answer GET
/readyz with 200 (database reachable, schema at head) within about 30 s. With OPERATOR_TOKEN
set (the token the operator-credentials Job stored), GET /api/v1/incidents on the incident
management service (the second URL) must accept it. Exits 1 if anything fails.
READYZ_ATTEMPTS (10) tries, 3 s apart, before a check fails.
"""

import os
import sys
import time
import urllib.error
import urllib.request

ATTEMPTS = int(os.environ.get("READYZ_ATTEMPTS", "10"))


def get(url: str, token: str | None = None) -> int | str:
    request = urllib.request.Request(url)  # noqa: S310  (http URLs given by the chart)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    outcome: int | str = "no answer"
    for attempt in range(ATTEMPTS):
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
                return int(answer.status)
        except urllib.error.HTTPError as error:
            outcome = error.code
        except OSError as error:
            outcome = repr(error)
        if attempt + 1 < ATTEMPTS:
            time.sleep(3)
    return outcome


def main(urls: list[str]) -> int:
    failed = 0
    for url in urls:
        status = get(url + "/readyz")
        print(f"GET {url}/readyz -> {status}", flush=True)
        failed += status != 200
    token = os.environ.get("OPERATOR_TOKEN")
    if token:
        status = get(urls[1] + "/api/v1/incidents?limit=1", token)
        print(f"operator's token: GET {urls[1]}/api/v1/incidents -> {status}", flush=True)
        failed += status != 200
    print("FAILED" if failed else "PASSED", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
