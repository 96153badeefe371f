"""One figure per kind: time, speedup, ops, vs-forward, rate, memory, tradeoff, backends; written as PNG and SVG.

Each figure has one panel per swept variable (depth, width, batch at fixed other
settings; in a file of several placements, per placement too), log-log axes, and the fitted
growth law from the fits table in the legend. backends, drawn only for a file of several
placements, has one panel per swept variable holding every placement.
This module only draws what it is given (bench.pipeline reads the files and makes missing
fits first); only rows with status ok are drawn.
"""

from pathlib import Path

import matplotlib

from bench import placement
from bench.output import check_writable, write_atomic
from bench.plot import backends, memory, time
from bench.plot.style import XLABELS, plt
from bench.results import excluded, ok_rows, panels


def _legend(ax, entries, title):
    """Legend below the axes, a column per method (on log-log growth curves every corner holds data)."""
    ncol = sum(1 for _, label in entries if ": " in label and not label.startswith("k = ")) or 1
    ax.legend([h for h, _ in entries], [lab for _, lab in entries], title=title, title_fontsize=7.5,
              fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=min(ncol, 3),
              frameon=False, columnspacing=1.2)


DRAW = {"time": time.draw_time, "speedup": time.draw_speedup, "ops": time.draw_ops,
        "vs-forward": time.draw_vs_forward, "rate": time.draw_rate,
        "memory": memory.draw_memory, "tradeoff": memory.draw_tradeoff, "backends": backends.draw_backends}
KINDS = tuple(DRAW)
SEVERAL_ONLY = ("backends",)  # kinds drawn only for a file of several placements (backend, device, dtype)
NEEDS = {"speedup": {"naive", "backprop"}, "vs-forward": {"forward"}}  # methods a kind needs
MEASURED = {"memory": memory.MEMORY, "tradeoff": memory.MEMORY}  # a column a kind needs measured


def figure(kind, found, fits, title):
    """One figure of a kind: a log-log panel per (variable, fixed, rows) of found."""
    fig, axes = plt.subplots(1, len(found), figsize=(7.2 * len(found), 4.6), squeeze=False)
    for ax, (var, fixed, rows) in zip(axes[0], found):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        where = fixed.replace(" backend=", "\nbackend=")  # a placement's panel: its placement on a line of its own
        ax.set_xlabel(f"{XLABELS[var]}; {where}", fontsize=8.5)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        entries, legend_title = DRAW[kind](ax, rows, var, fixed, fits)  # may relabel its axes
        _legend(ax, entries, legend_title)
    fig.suptitle(title, fontsize=9, y=1.0)
    return fig


def check_out_dir(name, out_dir):
    """Refuse a folder the figures cannot be written to, before any work (UserError)."""
    for kind in (KINDS[0], max(KINDS, key=len)):  # the folder, then the longest name it writes
        check_writable(Path(out_dir) / f"{name}-{kind}.png", reserve=0)


def draw(df, fits, name, out_dir="plots", source=None, stamp=None):
    """Write <name>-<kind>.png and .svg of a results frame and its fits, for every kind it supports: (paths, notes).

    source names the data in notes (the results file); the name by default. stamp, if given, is
    recorded in each PNG as its Source text (bench.pipeline: what it was drawn from).
    """
    source = source or name
    ok = ok_rows(df)
    found = panels(ok)
    notes = [excluded(df)] if excluded(df) else []
    if not found:
        return [], notes + [f"{source}: no swept variable with ok points; nothing to plot"]
    out_dir = Path(out_dir)
    check_out_dir(name, out_dir)
    title = f"{name}: {ok['profile'].iloc[0]} profile, {placement.title(ok)}"
    written = []
    for kind in KINDS:
        if kind in SEVERAL_ONLY and not placement.several(ok):
            continue  # nothing to compare (and no note: the default study has one placement)
        missing = NEEDS.get(kind, set()) - set(ok["method"])
        if missing:
            notes.append(f"no {kind} plot: no ok points of {', '.join(sorted(missing))} in {source}")
            continue
        column = MEASURED.get(kind)
        if column and not (column in ok and (ok[column] > 0).any()):
            notes.append(f"no {kind} plot: no {column} in {source} (written before gradbench measured it)")
            continue
        needs = NEEDS.get(kind, set())  # in a file of several placements, not every placement's panel has them
        here = [p for p in found if needs <= set(p[2]["method"])]
        here = panels(ok, by_placement=False) if kind == "backends" else here
        if not here:
            notes.append(f"no {kind} plot: no sweep in {source} has {' and '.join(sorted(needs))} together")
            continue
        fig = figure(kind, here, fits, title)
        try:
            for ext in ("png", "svg"):
                meta = {"Source": stamp} if stamp and ext == "png" else None
                save = lambda tmp, fig=fig, ext=ext, meta=meta: fig.savefig(  # noqa: E731
                    tmp, format=ext, dpi=150, metadata=meta)
                written.append(write_atomic(out_dir / f"{name}-{kind}.{ext}", save))
        finally:
            plt.close(fig)
    return written, notes
