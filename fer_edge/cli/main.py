"""Entry point: a Click group whose subcommands are imported only when called.

Lazy loading keeps ``fer-edge camera`` on a Pi free of TensorFlow and fast to start; user
errors (``FerEdgeError``, usage errors, OS errors on outputs) become one line on stderr and an
exit code from one contract (``EXIT_CODES``), never a traceback. SIGTERM stops a command as
Ctrl-C does: finished records stay, partial files are removed.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import signal
import sys
import threading
from collections.abc import Iterator

import click

# TensorFlow's C++ start-up lines (CUDA probing, oneDNN notes) are noise on a CLI; a user who
# wants them sets TF_CPP_MIN_LOG_LEVEL themselves (0 or 1 also turns quiet_tf off).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from fer_edge import __version__, quiet_tf  # noqa: E402
from fer_edge.errors import FerEdgeError  # noqa: E402

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
    "bench": ("fer_edge.cli.bench_cmd:bench", "Measure this device against the 30 FPS budget."),
}

#: Modules only the training install has; a command needing them says how to get them.
TRAINING_ONLY = ("tensorflow", "keras", "pandas", "sklearn", "statsmodels", "matplotlib")

#: Commands that need the training extra (TensorFlow, pandas, ...); the rest run on the runtime-only install.
NEEDS_TRAINING = ("demo", "models", "train", "convert", "evaluate")

TRAIN_HINT = "install the training extra: pip install 'fer-edge[train]'"

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
    return run(cli, argv, prog_name="fer-edge")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C's KeyboardInterrupt would be, so both stop a command the same way."""


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises ``Terminated`` (a KeyboardInterrupt) in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _handler(signum: int, _frame: object) -> None:
        raise Terminated(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, _handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _one_line(text: str) -> str:
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _error(message: str, code: int) -> int:
    click.echo(f"error: {_one_line(message)}", err=True)
    return code


def run(command: click.Command, argv: list[str] | None = None, prog_name: str | None = None) -> int:
    """Run a Click command with fer-edge's error contract (``EXIT_CODES``): one line, no traceback."""
    from fer_edge.atomic import OUTPUT_ERRNOS, os_error_message

    try:
        with sigterm_as_interrupt():
            command.main(args=argv, prog_name=prog_name, standalone_mode=False)
    except FerEdgeError as e:
        return _error(str(e), e.exit_code)
    except click.exceptions.Abort:
        return _error("aborted", 130)
    except click.UsageError as e:
        hint = f" (see `{e.ctx.command_path} --help`)" if e.ctx is not None else ""
        return _error(e.format_message() + hint, e.exit_code)
    except click.ClickException as e:
        return _error(e.format_message(), e.exit_code)
    except KeyboardInterrupt as e:
        how = f"by {e.args[0]}" if isinstance(e, Terminated) and e.args else "by Ctrl-C"
        return _error(f"interrupted {how}; finished records were kept, partial outputs removed", 130)
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] in TRAINING_ONLY:
            return _error(f"this command needs {e.name.split('.')[0]}; {TRAIN_HINT}", 2)
        raise
    except BrokenPipeError:
        with contextlib.suppress(OSError):  # the reader of stdout went away (e.g. `| head`): no flush error at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return _error("stdout was closed before the output was complete", 1)
    except OSError as e:
        if e.filename is None:
            raise
        return _error(os_error_message(e), 2 if e.errno in OUTPUT_ERRNOS else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
