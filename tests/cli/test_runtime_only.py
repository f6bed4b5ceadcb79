"""The runtime-only install (no TensorFlow, pandas, ...): `fer-edge --help` lists only what runs there, and a
training command exits 2 with the install hint before doing anything. Simulated in a subprocess where those
modules cannot be imported (CI's .ci/runtime-only.sh checks a real runtime-only venv)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BLOCKED = ("tensorflow", "keras", "pandas", "sklearn", "statsmodels", "matplotlib")
LAUNCH = (
    "import sys\n"
    f"for m in {BLOCKED!r}:\n"
    "    sys.modules[m] = None  # `import m` raises ModuleNotFoundError; find_spec(m) is None\n"
    "from fer_edge.cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
HINT = "pip install 'fer-edge[train]'"


def runtime_only(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-c", LAUNCH, *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env
    )


def test_help_lists_only_runnable_commands_and_says_how_to_get_the_others(tmp_path):
    proc = runtime_only("--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    commands = proc.stdout.split("Commands:")[1].split("\n\n")[0]
    listed = {line.split()[0] for line in commands.strip().splitlines()}
    assert listed == {"data", "predict", "camera", "bench", "explain"}
    assert HINT in " ".join(proc.stdout.split())  # the help text may wrap it
    assert "Exit codes:" in proc.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--out", "demo"],
        ["models"],
        ["train", "model", "--arch", "paper1-cnn", "--out", "run"],
        ["train", "--help"],
        ["convert", "m.keras"],
        ["evaluate", "m.tflite"],
    ],
)
def test_a_training_command_exits_2_with_the_hint_and_writes_nothing(args, tmp_path):
    proc = runtime_only(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and HINT in errors[0] and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []  # demo used to leave a half-made folder


def test_runtime_commands_still_run(tmp_path):
    proc = runtime_only("data", "synthetic", "s", "-n", "14", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(list((tmp_path / "s").rglob("*.png"))) == 14
