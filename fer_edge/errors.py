"""The one exception type for errors a user can cause, and the contract that prints it as one line
(``run_command``: the ``fer-edge`` CLI and the recipe scripts both run through it)."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click

#: Modules only the training install has; a command needing them says how to get them.
TRAINING_ONLY = ("tensorflow", "keras", "pandas", "sklearn", "statsmodels", "matplotlib")
TRAIN_HINT = "install the training extra: pip install 'fer-edge[train]'"


class FerEdgeError(Exception):
    """A problem with the user's input or environment, with a message that names the fix."""

    exit_code = 2


OS_ERROR_FIXES = {
    errno.EACCES: "permission denied; choose a folder you can write to, or fix its permissions",
    errno.EPERM: "operation not permitted; choose a folder you can write to, or fix its permissions",
    errno.EROFS: "read-only file system; write the output to a writable location",
    errno.ENOSPC: "no space left on the device; free some space or write the output elsewhere",
    errno.EDQUOT: "disk quota exceeded; free some space or write the output elsewhere",
    errno.ENAMETOOLONG: "file name too long for this file system; choose a shorter output path",
    errno.ENOTDIR: "a part of this path is a file, not a folder; choose another output path",
    errno.EISDIR: "is a folder; give a file path for this output",
    errno.ENOENT: "a folder on this path does not exist or vanished; choose an existing location",
}

#: errno values that concern where an output goes (the CLI maps these to exit code 2).
OUTPUT_ERRNOS = frozenset(OS_ERROR_FIXES)


def os_error_message(e: OSError, path: Path | str | None = None) -> str:
    """One line: the path, what went wrong and the fix."""
    where = path if path is not None else (e.filename if e.filename is not None else "output")
    fix = OS_ERROR_FIXES.get(e.errno or -1, f"{e.strerror or e}; check the path and try again")
    return f"{where}: {fix}"


def output_error(e: OSError, path: Path | str | None = None) -> FerEdgeError:
    return FerEdgeError(os_error_message(e, path))


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
    import click

    click.echo(f"error: {_one_line(message)}", err=True)
    return code


def _interrupted(e: KeyboardInterrupt) -> int:
    how = f"by {e.args[0]}" if isinstance(e, Terminated) and e.args else "by Ctrl-C"
    return _error(f"interrupted {how}; finished records were kept, partial outputs removed", 130)


def run_command(command: click.Command, argv: list[str] | None = None, prog_name: str | None = None) -> int:
    """Run a Click command with fer-edge's error contract (``EXIT_CODES``): one line, no traceback."""
    import click

    try:
        with sigterm_as_interrupt():
            command.main(args=argv, prog_name=prog_name, standalone_mode=False)
    except FerEdgeError as e:
        return _error(str(e), e.exit_code)
    except click.exceptions.Abort as e:  # Click turns KeyboardInterrupt (and so SIGTERM) into Abort
        cause = e.__cause__ or e.__context__
        return _interrupted(cause) if isinstance(cause, KeyboardInterrupt) else _error("aborted", 130)
    except click.UsageError as e:
        hint = f" (see `{e.ctx.command_path} --help`)" if e.ctx is not None else ""
        return _error(e.format_message() + hint, e.exit_code)
    except click.ClickException as e:
        return _error(e.format_message(), e.exit_code)
    except KeyboardInterrupt as e:
        return _interrupted(e)
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
