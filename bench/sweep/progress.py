"""What the user sees of a sweep: a progress bar while it runs (bench.progress), a summary after."""

from bench.formatting import seconds
from bench.progress import Bar
from bench.schema import TIME
from bench.sweep.points import Point

MAX_PROBLEM_LINES = 15


class Progress:
    """`sweep  30%|###       | 3/10 points [00:05, about 12 s left, round 4 of 21: 10 points]`:
    the points with rows, the time left once the series knows it (bench.sweep.series), what runs
    now."""

    def __init__(self, total, asked=None, stream=None):
        self.bar = Bar(total, "sweep", "points", asked, stream)

    def show(self, done, label, eta_s):
        """Redraw: `done` points of the total have their rows; `label` says what runs now."""
        self.bar.show(done, label, eta_s)

    def finish(self):
        self.bar.close()


def summary(result):
    """One screen: counts, time ranges, naive/backprop at the largest common point, disagreements.

    Rows hold Python values, fresh or resumed (results_file parses the resumed ones).
    """
    rows = result.rows
    statuses = [r["status"] for r in rows]
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in ("ok", "skipped", "timeout", "error"))
    lines = [f"gradbench sweep: {len(rows)} points ({counts}; {result.resumed} from --resume) "
             f"in {seconds(result.seconds)} -> {result.out}"]
    lines.append(f"  {'method':<10} {'ok':>4}  time of one call, smallest .. largest point")
    ok = [r for r in rows if r["status"] == "ok"]
    for method in dict.fromkeys(r["method"] for r in rows):
        mine = sorted((r for r in ok if r["method"] == method), key=lambda r: r["ops"])
        span = "-"
        if mine:
            first, last = mine[0], mine[-1]
            span = f"{seconds(first[TIME])} ({_shape(first)})"
            if last is not first:
                span += f" .. {seconds(last[TIME])} ({_shape(last)})"
        lines.append(f"  {method:<10} {len(mine):>4}  {span}")
    lines.append(_ratio(ok))
    bad = result.disagreements
    if bad:
        lines.append(f"DISAGREEMENT: {len(bad)} point(s) differ from backprop beyond tolerance:")
        lines += [f"  {r['method']} {_shape(r)}: max_rel_err {r['max_rel_err']:.3g}" for r in bad]
    else:
        errs = [r["max_rel_err"] for r in rows if r.get("max_rel_err") is not None]
        if errs:
            lines.append("agreement: every checked gradient agrees with backprop "
                         f"(largest max_rel_err {max(errs):.3g})")
    problems = [f"  {r['status']}: {r['method']} {_shape(r)}: {r['reason']}"
                for r in rows if r["status"] != "ok"]
    if len(problems) > MAX_PROBLEM_LINES:  # one screen: the CSV has them all
        more = len(problems) - MAX_PROBLEM_LINES + 1
        problems = (problems[: MAX_PROBLEM_LINES - 1]
                    + [f"  ... and {more} more points not ok: see the CSV"])
    return "\n".join(lines + problems)


def _shape(r):
    return Point.from_row(r).shape


def _ratio(ok):
    """naive/backprop at the largest point both measured: the same-round ratio where the two shared
    rounds, else the ratio of their times."""
    by = {}
    for r in ok:
        by.setdefault(r["method"], {})[_shape(r)] = r
    common = set(by.get("naive", {})) & set(by.get("backprop", {}))
    if not common:
        return "naive/backprop: no point where both were timed"
    shape = max(common, key=lambda s: by["backprop"][s]["ops"])
    naive = by["naive"][shape]
    ratio = naive.get("time_vs_backprop") or naive[TIME] / by["backprop"][shape][TIME]
    return f"naive/backprop at the largest common point ({shape}): {ratio:.3g}x"
