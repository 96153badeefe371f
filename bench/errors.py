"""The one error a user sees: a one-line message and exit status 2."""


class UserError(Exception):
    """Bad input from the user (options, files); the CLI prints it on one line and exits 2."""
