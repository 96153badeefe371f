"""matplotlib on the Agg backend: gradbench only draws files, so MPLBACKEND plays no part, not
even a value matplotlib cannot load (which would fail its import). Import matplotlib through
here."""

import os

_saved = os.environ.pop("MPLBACKEND", None)
try:
    import matplotlib
finally:
    if _saved is not None:  # the caller's environment as it was: only matplotlib's import skips it
        os.environ["MPLBACKEND"] = _saved
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["matplotlib", "plt"]
