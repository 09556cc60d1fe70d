"""The one exception type for failures a user can fix: its message names the problem and the
fix, and the command line prints it on one line (the traceback only with `-v`)."""


class SaekitError(Exception):
    """An expected failure (bad input, unreachable server, missing model) with a message that
    says what to do."""
