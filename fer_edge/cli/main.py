"""Entry point: a Click group whose subcommands are imported only when called.

Lazy loading keeps ``fer-edge camera`` on a Pi free of TensorFlow and fast to start; user
errors (``FerEdgeError``, usage errors, OS errors on outputs) become one line on stderr and an
exit code from one contract (``EXIT_CODES``), never a traceback. SIGTERM stops a command as
Ctrl-C does: finished records stay, partial files are removed.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

import click

# TensorFlow's C++ start-up lines (CUDA probing, oneDNN notes) are noise on a CLI; a user who
# wants them sets TF_CPP_MIN_LOG_LEVEL themselves (0 or 1 also turns quiet_tf off).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# FFmpeg's own lines about a stream that dropped ("Stream ends prematurely ...") would repeat what the camera's
# stats and summary say; AV_LOG_QUIET unless the user asks for a level (OpenCV reads this at FFmpeg's start).
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

from fer_edge import __version__, quiet_tf  # noqa: E402
from fer_edge.errors import TRAIN_HINT, TRAINING_ONLY, FerEdgeError, run_command  # noqa: E402

quiet_tf.install()

#: command name -> "module:attribute", grouped by job in --help.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("fer_edge.cli.demo_cmd:demo", "Run the whole flow end to end on the embedded synthetic data."),
    "data": ("fer_edge.cli.data_cmds:data", "Read, convert, inspect and audit FER datasets."),
    "models": ("fer_edge.cli.models_cmd:models", "List the registered architectures and their sizes."),
    "train": ("fer_edge.cli.train_cmds:train", "Train one model, or the papers' factorial experiment."),
    "convert": ("fer_edge.cli.convert_cmd:convert", "Convert a .keras model to verified TFLite files."),
    "evaluate": ("fer_edge.cli.evaluate_cmd:evaluate", "Accuracy of Keras and TFLite models on one dataset."),
    "predict": ("fer_edge.cli.predict_cmd:predict", "Emotions per face in images, folders and videos."),
    "camera": ("fer_edge.cli.camera_cmd:camera", "Live camera (or video/stream) loop with per-stage latency."),
    "explain": ("fer_edge.cli.explain_cmd:explain", "What the classifier looked at: occlusion maps, example grids."),
    "bench": ("fer_edge.cli.bench_cmd:bench", "Measure this device against the 30 FPS budget."),
}


#: Commands that need the training extra (TensorFlow, pandas, ...); the rest run on the runtime-only install.
NEEDS_TRAINING = ("demo", "models", "train", "convert", "evaluate")


#: The exit-code contract of every fer-edge command (also printed by ``fer-edge --help``).
EXIT_CODES = {
    0: "success; also `fer-edge camera` stopped by Ctrl-C or SIGTERM (a normal end: its summary is written)",
    1: "a run failed after it started: some `predict` inputs could not be read (the others were processed), "
    "a camera or video gave no frame, a conversion failed its verification",
    2: "bad input or usage: a bad data file, model or argument, an existing output without --force, an output "
    "that cannot be written (permission, read-only, disk full, name too long), a command this install lacks",
    130: "interrupted by Ctrl-C or SIGTERM: finished records are kept, partial files removed",
}


def _module_missing(name: str) -> bool:
    """Whether top-level module ``name`` is absent, found without importing it."""
    if name in sys.modules:
        return sys.modules[name] is None
    try:
        return importlib.util.find_spec(name) is None
    except (ImportError, ValueError):
        return True


def missing_training_modules() -> list[str]:
    return [m for m in TRAINING_ONLY if _module_missing(m)]


def runnable_commands() -> list[str]:
    if not missing_training_modules():
        return list(COMMANDS)
    return [name for name in COMMANDS if name not in NEEDS_TRAINING]


def _needs_training_error(name: str, module: str) -> FerEdgeError:
    return FerEdgeError(f"`fer-edge {name}` needs {module}, which this runtime-only install lacks; {TRAIN_HINT}")


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return runnable_commands()

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        if name in NEEDS_TRAINING:
            missing = missing_training_modules()
            if missing:  # refuse before any work (no half-made output folder)
                raise _needs_training_error(name, missing[0])
        module, attr = COMMANDS[name][0].split(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as e:
            if e.name and e.name.split(".")[0] in TRAINING_ONLY:
                raise _needs_training_error(name, e.name.split(".")[0]) from None
            if e.name and e.name.startswith("fer_edge"):
                raise FerEdgeError(f"`fer-edge {name}` is not available in this version of fer-edge") from None
            raise

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        runnable = runnable_commands()
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in runnable])
        others = [name for name in COMMANDS if name not in runnable]
        if others:
            with formatter.section("Not installed"):
                formatter.write_text(
                    f"{', '.join(others)} need the training extra (TensorFlow, pandas, ...), which this "
                    f"runtime-only install lacks; {TRAIN_HINT}"
                )

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Exit codes"):
            formatter.write_dl([(str(code), text) for code, text in EXIT_CODES.items()])
        formatter.write_paragraph()
        formatter.write_text("Errors are one line on stderr starting with 'error:', naming the file and the fix.")


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fer-edge")
def cli() -> None:
    """fer-edge: facial-expression recognition from FER-2013 to a camera on a Raspberry Pi."""


def main(argv: list[str] | None = None) -> int:
    return run_command(cli, argv, prog_name="fer-edge")


#: the error contract's home is fer_edge.errors (recipes use it without the CLI); kept here for callers of ``run``
run = run_command


if __name__ == "__main__":
    sys.exit(main())
