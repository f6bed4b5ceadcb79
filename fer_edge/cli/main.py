"""Entry point: a Click group whose subcommands are imported only when called.

Lazy loading keeps ``fer-edge camera`` on a Pi free of TensorFlow and fast to start; user
errors (``FerEdgeError``) become one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys

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
    "explain": ("fer_edge.cli.explain_cmd:explain", "What the classifier looked at: occlusion maps, example grids."),
    "bench": ("fer_edge.cli.bench_cmd:bench", "Measure this device against the 30 FPS budget."),
}

#: Modules only the training install has; a command needing them says how to get them.
TRAINING_ONLY = ("tensorflow", "keras", "pandas", "sklearn", "statsmodels", "matplotlib")


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name][0].split(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as e:
            if e.name and e.name.split(".")[0] in TRAINING_ONLY:
                raise FerEdgeError(
                    f"`fer-edge {name}` needs {e.name.split('.')[0]}, which this runtime-only install lacks; "
                    "install the training extra: pip install 'fer-edge[train]'"
                ) from None
            if e.name and e.name.startswith("fer_edge"):
                raise FerEdgeError(f"`fer-edge {name}` is not available in this version of fer-edge") from None
            raise

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, help_) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fer-edge")
def cli() -> None:
    """fer-edge: facial-expression recognition from FER-2013 to a camera on a Raspberry Pi."""


def main(argv: list[str] | None = None) -> int:
    return run(cli, argv, prog_name="fer-edge")


def run(command: click.Command, argv: list[str] | None = None, prog_name: str | None = None) -> int:
    """Run a Click command with fer-edge's error contract: one line and an exit code, no traceback."""
    try:
        command.main(args=argv, prog_name=prog_name, standalone_mode=False)
    except FerEdgeError as e:
        click.echo(f"error: {e}", err=True)
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
