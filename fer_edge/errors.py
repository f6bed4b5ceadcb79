"""The one exception type for errors a user can cause, and the contract that prints it as one line."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click


class FerEdgeError(Exception):
    """A problem with the user's input or environment, with a message that names the fix."""

    exit_code = 2


def run_command(command: click.Command, argv: list[str] | None = None, prog_name: str | None = None) -> int:
    """Run a Click command with fer-edge's error contract: a ``FerEdgeError`` is one line on stderr and
    its exit code (2), never a traceback. The ``fer-edge`` CLI and the recipe scripts both run through it."""
    import click

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
