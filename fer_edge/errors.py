"""The one exception type for errors a user can cause; the CLI prints it as one line."""


class FerEdgeError(Exception):
    """A problem with the user's input or environment, with a message that names the fix."""

    exit_code = 2
