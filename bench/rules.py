"""The fit rules: which points of a series a growth law is fitted on. Their one grammar and wording.

Read by `fit` (which applies them), the command line's help and the report's text.
A rule that leaves fewer than 3 points uses the 3 largest n instead (top:3); offset with
fewer than 4 points, or whose fit fails, uses all. `fit_rule` in the fits CSV names the rule used.
"""

import math

from bench.errors import UserError

# times: the upper part of the range, where the algorithm, not per-call overhead, sets the time
TIME_RULE = "upper:8"
OPS_RULE = "top:3"  # op counts are exact: the largest points show the leading term
# working memory: the upper part of the range, where the arrays, not fixed allocations, set it
MEMORY_RULE = "upper:8"
SYNTAX = "offset, all, top:K (K >= 1 points), ratio:R or upper:F (R, F > 0)"

# kind -> its meaning, with {} for the rule's number
MEANING = {
    "offset": "t = a + c n^k, all points, least squares on log t (the constant a absorbs per-call "
              "overhead)",
    "all": "OLS of log y on log n over all points",
    "top": "OLS of log y on log n over the {} largest n",
    "ratio": "OLS of log y on log n over the points at least {} times the smallest",
    "upper": "OLS of log y on log n over n >= (largest n) / {}",
}
HELP = ("upper:F (n >= max n / F), top:K (K largest n), ratio:R (value >= R x smallest), all, "
        "or offset (a + c n^k)")


def parse(rule, what="fit rule"):
    """A fit rule as (kind, number): ('upper', 8.0), ('top', 3), ('all', None); UserError if bad."""
    kind, colon, arg = str(rule).partition(":")
    if kind in ("offset", "all") and not colon:
        return kind, None
    if kind == "top" and arg.isascii() and arg.isdigit() and int(arg) >= 1:
        return kind, int(arg)
    if kind in ("ratio", "upper"):
        try:
            x = float(arg)
        except ValueError:
            x = math.nan
        if math.isfinite(x) and x > 0:
            return kind, x
    raise UserError(f"bad {what} {rule!r}: use {SYNTAX}")


def describe(rule):
    """The rule in words (a rule this module cannot parse is returned as it is)."""
    kind, _, arg = str(rule).partition(":")
    return MEANING[kind].format(arg) if kind in MEANING else str(rule)
