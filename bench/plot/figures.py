"""One figure per kind: time, speedup, ops, vs-forward, rate, local, memory, tradeoff, backends.

Each figure has one panel per swept variable (depth, width, batch at fixed other
settings; in a file of several placements, per placement too), log-log axes, and the fitted
growth law from the fits table in the legend, one entry per method. backends, drawn only for a
file of several placements, has one panel per swept variable holding every placement. The
settings a panel holds fixed, where it ran and what the marks mean are in a caption line.
A style (bench.plot.style.STYLES) sizes it for a report, a paper or a slide; it is written in
each format asked (png, svg, pdf, ...).
This module only draws what it is given (bench.pipeline reads the files and makes missing
fits first); only rows with status ok are drawn.
"""

from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.transforms import ScaledTranslation

from bench import placement
from bench.errors import UserError
from bench.output import check_writable, write_atomic
from bench.plot import local, placements, space, time
from bench.plot.style import DEFAULT_STYLE, STYLES, XLABELS, Drawn, place_apart, styled
from bench.results import excluded, ok_rows, panels
from gradients.registry import baseline

FORMATS = ("png", "svg")  # written by default: the report's PNG, and SVG for editing
WORDS = {"input_dim": "input dim", "relu": "ReLU", "identity": "identity activation"}


def _legend(ax, entries, at, font):
    """One entry per method (marker and fit line together), below the axes or right of them."""
    handles, labels = [h for h, _ in entries], [lab for _, lab in entries]
    if at == "right":
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1))
        return
    below = ax.transAxes + ScaledTranslation(0, -font * 3.2 / 72, ax.figure.dpi_scale_trans)
    ax.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0),
        bbox_transform=below,
        ncol=2 if len(entries) > 3 and max(map(len, labels)) < 40 else 1,
    )


def fixed_words(sweep):
    """What a sweep holds fixed, in words: 'width 16, batch 1, ReLU, ...', then the placement
    where its label names it."""
    words = []
    for key, value in sweep.fixed:
        if key == "activation":
            words.append(WORDS.get(value, value))
        elif value == "width":
            words.append(f"{WORDS.get(key, key)} = width")
        else:
            words.append(f"{WORDS.get(key, key)} {value}")
    return ", ".join(words + ([sweep.placement.label] if sweep.named and sweep.placement else []))


def caption(found, where, notes):
    """The caption line(s): each panel's fixed settings, where it ran, what the marks mean."""
    if len(found) == 1:
        lines = [f"Fixed: {fixed_words(found[0][0])}."]
    else:
        lines = [
            f"({chr(97 + i)}) fixed: {fixed_words(sweep)}." for i, (sweep, _) in enumerate(found)
        ]
    lines.append(f"Measured on {where}. " + " ".join(dict.fromkeys(n for n in notes if n)))
    return "\n".join(lines)


DRAW = {
    "time": time.draw_time,
    "speedup": time.draw_speedup,
    "ops": time.draw_ops,
    "vs-forward": time.draw_vs_forward,
    "rate": time.draw_rate,
    "local": local.draw_local,
    "memory": space.draw_memory,
    "tradeoff": space.draw_tradeoff,
    "backends": placements.draw_placements,
}
KINDS = tuple(DRAW)
SEVERAL_ONLY = (
    "backends",
)  # kinds drawn only for a file of several placements (backend, device, dtype)
NEEDS = {"speedup": {"naive", "backprop"}, "vs-forward": {baseline()}}  # methods a kind needs
MEASURED = {"memory": space.MEMORY, "tradeoff": space.MEMORY,  # a column a kind needs measured
            "local": local.LOCAL}


def figure(kind, found, fits, where, style=DEFAULT_STYLE):
    """One figure of a kind: a log-log panel per (Sweep, rows) of found, in a style.

    Call it inside bench.plot.style.styled(style) when the figure is to be saved in that style.
    """
    look = STYLES[style]
    fig = Drawn(figsize=look.size(len(found)), layout="constrained")
    FigureCanvasAgg(fig)  # text sizes for placing labels; no pyplot, no global backend
    grid = fig.subplots(*look.grid(len(found)), squeeze=False).flat
    axes = [next(grid) for _ in found]
    for ax in grid:
        ax.set_visible(False)  # the rest of the last row
    notes = []
    for i, (ax, (sweep, rows)) in enumerate(zip(axes, found)):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(XLABELS[sweep.variable])
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        entries, note = DRAW[kind](ax, rows, sweep, fits)  # may relabel its axes
        notes.append(note)
        if len(found) > 1:
            ax.set_title(f"({chr(97 + i)}) {ax.get_title()}")
        _legend(ax, entries, look.legend_at(len(found)), look.font)
    fig.supxlabel(
        look.wrap(caption(found, where, notes), len(found)), fontsize="small", color="0.3"
    )
    fig.draw_without_rendering()  # lay out, then move labels off each other
    for ax in axes:
        place_apart(ax, fig.canvas.get_renderer())
    # saved as laid out here, where the labels were placed apart; not laid out again per format
    fig.set_layout_engine("none")
    return fig


def check_formats(formats):
    """The formats asked ('png,pdf' or a sequence), each one matplotlib writes (or UserError)."""
    asked = [
        f.strip().lower().lstrip(".")
        for f in (formats.split(",") if isinstance(formats, str) else formats)
    ]
    known = FigureCanvasAgg.get_supported_filetypes()
    bad = [f for f in asked if f not in known]
    if bad or not asked:
        raise UserError(
            f"--format {','.join(asked)}: {', '.join(bad) or 'no format'} is not one "
            f"matplotlib writes; use a comma list of {', '.join(sorted(known))}"
        )
    return tuple(dict.fromkeys(asked))


def check_style(style):
    if style not in STYLES:
        raise UserError(f"--style {style}: use one of {', '.join(STYLES)}")
    return style


def check_out_dir(name, out_dir):
    """Refuse a folder the figures cannot be written to, before any work (UserError)."""
    for kind in (KINDS[0], max(KINDS, key=len)):  # the folder, then the longest name it writes
        check_writable(Path(out_dir) / f"{name}-{kind}.png", reserve=0)


def drawable(df, source):
    """What a results frame can show: ({kind: panels}, notes, where it ran in words)."""
    ok = ok_rows(df)
    found = panels(ok)
    notes = [excluded(df)] if excluded(df) else []
    if not found:
        return {}, notes + [f"{source}: no swept variable with ok points; nothing to plot"], ""
    kinds = {}
    for kind in KINDS:
        if kind in SEVERAL_ONLY and not placement.several(ok):
            continue  # nothing to compare (and no note: the default study has one placement)
        missing = NEEDS.get(kind, set()) - set(ok["method"])
        if missing:
            notes.append(
                f"no {kind} plot: no ok points of {', '.join(sorted(missing))} in {source}"
            )
            continue
        column = MEASURED.get(kind)
        if column and not (column in ok and ok[column].notna().any() and (ok[column] != 0).any()):
            notes.append(
                f"no {kind} plot: no {column} in {source} (written before gradbench measured it)"
            )
            continue
        needs = NEEDS.get(kind, set())  # in a file of several placements, not every panel has them
        here = [(sweep, rows) for sweep, rows in found if needs <= set(rows["method"])]
        here = panels(ok, by_placement=False) if kind == "backends" else here
        if not here:
            notes.append(
                f"no {kind} plot: no sweep in {source} has {' and '.join(sorted(needs))} together"
            )
            continue
        kinds[kind] = here
    where = f"{placement.title(ok)}, {ok['profile'].iloc[0]} profile"
    return kinds, notes, where


def draw(df, fits, name, out_dir="plots", source=None, formats=FORMATS, style=DEFAULT_STYLE,
         stamp=None):
    """Write <name>-<kind>.<format> of a results frame and its fits, for every kind it supports.

    source names the data in notes (the results file); the name by default. stamp, if given, is
    recorded in each PNG as its Source text (bench.pipeline: what it was drawn from).
    Returns (paths, notes).
    """
    formats, style = check_formats(formats), check_style(style)
    kinds, notes, where = drawable(df, source or name)
    if not kinds:
        return [], notes
    out_dir = Path(out_dir)
    check_out_dir(name, out_dir)
    written = []
    for kind, found in kinds.items():
        with styled(style):
            fig = figure(kind, found, fits, where, style)
            for ext in formats:
                meta = {"Source": stamp} if stamp and ext == "png" else None
                save = lambda tmp, fig=fig, ext=ext, meta=meta: fig.savefig(  # noqa: E731
                    tmp, format=ext, metadata=meta)
                written.append(write_atomic(out_dir / f"{name}-{kind}.{ext}", save))
    return written, notes
