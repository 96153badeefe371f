"""The one error a user sees: a one-line message and exit status 2."""

import numbers


class UserError(Exception):
    """Bad input from the user (options, files); the CLI prints it on one line and exits 2."""


def whole_number(value, option):
    """value as an int, or UserError naming the option if not a whole number (2.5, "3", True)."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value
            or value % 1 != 0):
        raise UserError(f"{option} {value!r}: must be a whole number")
    return int(value)
