"""Write the three services' OpenAPI specs to web/openapi/*.json for the UI's typed client.

The specs come from the FastAPI app objects themselves, so nothing needs to be running;
`make lint` regenerates the TypeScript types from them and fails if the committed ones differ.
"""

import json
import os
import sys
from pathlib import Path

from fastapi import FastAPI

SERVICES = {
    "alert-ingestion": "incident_platform.alert_ingestion",
    "incident-management": "incident_platform.incident_management",
    "oncall": "incident_platform.oncall",
}


def build(module_name: str) -> FastAPI:
    module = __import__(module_name, fromlist=["build_app"])
    app: FastAPI = module.build_app()
    return app


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "web/openapi")
    out.mkdir(parents=True, exist_ok=True)
    # Building an app must not start the escalation engine or need a reachable database.
    os.environ.setdefault("RUN_ENGINE", "false")
    for name, module_name in SERVICES.items():
        spec = build(module_name).openapi()
        (out / f"{name}.json").write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
