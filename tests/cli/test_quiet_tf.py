"""TensorFlow's native start-up noise stays off the CLI's stderr; real messages still get through."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fer_edge import quiet_tf


def test_filtered_stderr_drops_noise_and_keeps_the_rest(capfd):
    with quiet_tf.filtered_stderr():
        os.write(2, b"I0000 00:00:1.0 1 cudart_stub.cc:31] Could not find cuda drivers on your machine\n")
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
        os.write(2, b"E0000 something real went wrong\n")
    err = capfd.readouterr().err
    assert err == "E0000 something real went wrong\n"


@pytest.fixture
def no_tensorflow_yet(monkeypatch):
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    yield
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, quiet_tf._QuietTensorflowFinder)]


@pytest.mark.parametrize(("level", "driver", "hidden"), [("3", False, True), ("3", True, False), ("0", False, False)])
def test_install_hides_cuda_only_without_a_driver_and_when_quiet(no_tensorflow_yet, monkeypatch, level, driver, hidden):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", level)
    monkeypatch.setattr(quiet_tf, "has_nvidia_driver", lambda: driver)
    quiet_tf.install()
    assert (os.environ.get("CUDA_VISIBLE_DEVICES") == "-1") is hidden
    hooked = any(isinstance(f, quiet_tf._QuietTensorflowFinder) for f in sys.meta_path)
    assert hooked is (level == "3")


def test_cli_process_imports_tensorflow_without_start_up_noise():
    code = "import fer_edge.cli.main, keras; print(float(keras.ops.add(1.0, 1.0)))"
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "CUDA_VISIBLE_DEVICES")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "2.0", done.stderr
    if not quiet_tf.has_nvidia_driver():
        assert "cuInit" not in done.stderr and "oneDNN" not in done.stderr and "absl" not in done.stderr, done.stderr
