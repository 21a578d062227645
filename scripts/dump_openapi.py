"""Write the three services' OpenAPI specs to web/openapi/*.json for the UI's typed client.

The specs come from the FastAPI app objects themselves, so nothing needs to be running.
``--check`` writes nothing and fails when a committed spec differs from the current app's
(`make lint`), so a service change cannot leave the UI's generated types behind.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from fastapi import FastAPI

SERVICES = {
    "alert-ingestion": "incident_platform.entrypoints.alert_ingestion",
    "incident-management": "incident_platform.entrypoints.incident_management",
    "oncall": "incident_platform.entrypoints.oncall",
}


def build(module_name: str) -> FastAPI:
    module = __import__(module_name, fromlist=["build_app"])
    app: FastAPI = module.build_app()
    return app


def spec_text(module_name: str) -> str:
    return json.dumps(build(module_name).openapi(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", nargs="?", default="web/openapi", type=Path)
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args()
    # Building an app must not start the escalation engine.
    os.environ.setdefault("RUN_ENGINE", "false")
    stale = []
    for name, module_name in SERVICES.items():
        target: Path = args.out / f"{name}.json"
        text = spec_text(module_name)
        if args.check:
            if not target.is_file() or target.read_text() != text:
                stale.append(str(target))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    if stale:
        print(
            f"stale OpenAPI specs: {', '.join(stale)}; run `make web-api` and commit the result",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
