"""The suite mirrors the source tree, as the README says: the tests of
``services/incident_platform/<pkg>/<module>.py`` are in ``tests/<pkg>/test_<module>.py``, those
of ``operator/incident_operator/<pkg>/<module>.py`` in ``tests/operator/<pkg>/test_<module>.py``.

A module of real logic without its mirrored test module fails here, unless it is one of the
few below with no logic of its own; the list of known gaps may only shrink.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
SOURCES = (
    (ROOT / "services" / "incident_platform", TESTS),
    (ROOT / "operator" / "incident_operator", TESTS / "operator"),
)

# tests/web/ is the browser suite the README names (Chromium against the real services), so
# the web *server* package (services/incident_platform/web/) is mirrored in tests/webserver/.
TEST_PACKAGE = {"web": "webserver"}

# Modules with no logic of their own: a mirrored test module would test something else.
NO_LOGIC = {
    # Every table model imported in one place for Alembic; the tables themselves are checked
    # against the migrations by tests/migrations/test_migrations.py.
    "services/incident_platform/models.py": "imports only",
    # Reads the wall clock and nothing else; the point is that tests replace it.
    "services/incident_platform/clock.py": "one call to datetime.now",
    # Alembic's environment script; tests/migrations/test_migrations.py runs it (upgrade,
    # downgrade, compare with the models) on a real PostgreSQL.
    "services/incident_platform/migrations/env.py": "Alembic glue",
    # Logging configuration (handlers and levels), no decision.
    "services/incident_platform/api/logs.py": "logging set-up",
    # Entry points: build an app from the routers and run uvicorn. Their behaviour is what
    # every HTTP test drives (tests/conftest.py starts each of them in real processes).
    "services/incident_platform/entrypoints/alert_ingestion.py": "entry point",
    "services/incident_platform/entrypoints/incident_management.py": "entry point",
    "services/incident_platform/entrypoints/serve.py": "entry point (uvicorn runner)",
    "services/incident_platform/web/__main__.py": "entry point (python -m)",
    # Names of the custom resources, constants only; crds/ is checked in tests/crds/.
    "operator/incident_operator/crd.py": "constants",
    # Response and request shapes declared field by field on the tables' bases, with no
    # validator or method of their own; what they carry is checked where it is answered
    # (tests/api/routes/test_integrations.py, test_tokens.py: the clear key only once).
    "services/incident_platform/auth/models.py": "field declarations only",
}

# Modules with logic and no mirrored test module yet, each with where it is exercised
# meanwhile. Empty since issue 10: a new entry needs that reason, and the check below fails
# once a listed module has its test module.
KNOWN_GAPS: set[str] = set()


def has_logic(path: Path) -> bool:
    """Anything beyond a docstring, imports, ``__all__`` and constants: a function or class.

    Table declarations (``tables.py``) and migrations are classes and functions, but they
    are checked as a whole against each other by tests/migrations/test_migrations.py.
    """
    if path.name == "tables.py" or "migrations/versions" in path.as_posix():
        return False
    tree = ast.parse(path.read_text(), filename=str(path))
    return any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        for node in ast.walk(tree)
    )


def mirrored_test(source_root: Path, tests_root: Path, module: Path) -> Path:
    parts = list(module.relative_to(source_root).parent.parts)
    if parts and parts[0] in TEST_PACKAGE:
        parts[0] = TEST_PACKAGE[parts[0]]
    return tests_root.joinpath(*parts, f"test_{module.stem}.py")


def modules_needing_tests() -> dict[str, Path]:
    """Source module (relative to the repository) -> where its tests belong."""
    needing: dict[str, Path] = {}
    for source_root, tests_root in SOURCES:
        for module in sorted(source_root.rglob("*.py")):
            name = module.relative_to(ROOT).as_posix()
            if name in NO_LOGIC or not has_logic(module):
                continue
            needing[name] = mirrored_test(source_root, tests_root, module)
    return needing


def test_every_module_with_logic_has_its_mirrored_test_module() -> None:
    missing = {
        name: test.relative_to(ROOT).as_posix()
        for name, test in modules_needing_tests().items()
        if not test.exists() and name not in KNOWN_GAPS
    }
    assert missing == {}, "write these test modules (or justify a NO_LOGIC entry)"


def test_known_gaps_are_still_gaps() -> None:
    needing = modules_needing_tests()
    closed = sorted(name for name in KNOWN_GAPS if name in needing and needing[name].exists())
    vanished = sorted(name for name in KNOWN_GAPS if name not in needing)
    assert closed == [], "these have their test modules now: remove them from KNOWN_GAPS"
    assert vanished == [], "no such module with logic: remove them from KNOWN_GAPS"


def test_allowlisted_modules_exist_and_have_no_mirrored_tests() -> None:
    for name in NO_LOGIC:
        assert (ROOT / name).is_file(), name
    # __init__ modules with logic would need tests of their own: none has any.
    inits = [
        module.relative_to(ROOT).as_posix()
        for source_root, _ in SOURCES
        for module in source_root.rglob("__init__.py")
        if has_logic(module)
    ]
    assert inits == []


def test_the_mapping_follows_the_source_tree() -> None:
    platform, operator = SOURCES
    assert mirrored_test(*platform, platform[0] / "schedule" / "rotation.py") == (
        TESTS / "schedule" / "test_rotation.py"
    )
    assert mirrored_test(*platform, platform[0] / "sweeper.py") == TESTS / "test_sweeper.py"
    assert mirrored_test(*platform, platform[0] / "web" / "proxy.py") == (
        TESTS / "webserver" / "test_proxy.py"
    )
    assert mirrored_test(*operator, operator[0] / "builders" / "alert.py") == (
        TESTS / "operator" / "builders" / "test_alert.py"
    )
