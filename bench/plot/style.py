"""What every figure shares: a style per destination, each method's colour and marker (its
record's), fitted laws and guide slopes.

A style (report, paper, slides) is a figure size, a font size and a resolution, applied in a
matplotlib rc context while a figure is drawn and saved: importing bench changes no global
matplotlib setting and picks no backend.
"""

import contextlib
import io
import textwrap
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.figure import Figure

import gradients
from bench.fit import fits_for

XLABELS = {
    "depth": "depth L (weight matrices)",
    "width": "width w (units per hidden layer)",
    "batch": "batch B (examples)",
}
SYMBOLS = {"depth": "L", "width": "w", "batch": "B"}
GUIDE = "0.15"  # guide slopes: near black, apart from the forward pass's grey
# svg.fonttype none: text stays text in the SVG (editable in a paper); 42: TrueType in the PDF
BASE = {
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "legend.frameon": False,
    "figure.constrained_layout.use": True,
}


@dataclass(frozen=True)
class Style:
    """Sizes for one destination: inches of a one-panel figure, the widest figure, points, dpi."""

    one: tuple  # (width, height) of a figure of one panel
    wide: float  # width of a row of several panels, or of each panel where None
    font: float
    dpi: int
    legend: str  # "below" or "right" of the axes
    cols: int  # panels in a row at most

    def grid(self, panels):
        """(rows, columns) of a figure of `panels` panels."""
        cols = min(panels, self.cols)
        return -(-panels // cols), cols

    def size(self, panels):
        """(width, height) in inches of a figure of `panels` panels."""
        (w, h), (rows, cols) = self.one, self.grid(panels)
        return (w * cols if self.wide is None or cols == 1 else max(w, self.wide)), h * rows

    def legend_at(self, panels):
        return self.legend if panels == 1 else "below"

    def rc(self):
        small = round(self.font * 0.85, 1)
        return {
            **BASE,
            "font.size": self.font,
            "axes.titlesize": self.font,
            "axes.labelsize": self.font,
            "legend.fontsize": small,
            "xtick.labelsize": small,
            "ytick.labelsize": small,
            "figure.dpi": 100,
            "savefig.dpi": self.dpi,
            "lines.markersize": self.font * 0.45,
        }

    def wrap(self, text, panels):
        """Caption text wrapped to the figure's width."""
        chars = int(self.size(panels)[0] * 72 / (self.font * 0.85 * 0.55))
        return "\n".join(textwrap.fill(line, chars) for line in text.splitlines())


STYLES = {
    "report": Style(one=(7.2, 5.4), wide=None, font=10, dpi=150, legend="below", cols=3),
    # one column of a two-column paper (3.4 in); several panels span both columns (7 in)
    "paper": Style(one=(3.4, 3.6), wide=7.0, font=8, dpi=300, legend="below", cols=2),
    # a 16:9 slide is 13.33 x 7.5 in; this leaves its title a band above
    "slides": Style(one=(12.5, 6.2), wide=12.5, font=16, dpi=160, legend="right", cols=2),
}
DEFAULT_STYLE = "report"


class Drawn(Figure):
    """A Figure made without pyplot that Jupyter shows inline, as a PNG, when a cell returns it."""

    def _repr_png_(self):
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()


@contextlib.contextmanager
def styled(name):
    """Draw and save inside this: the style's settings, restored after."""
    with matplotlib.rc_context(STYLES[name].rc()):
        yield STYLES[name]


def fit_row(fits, sweep, quantity, method):
    """The method's fit of this quantity on this sweep, or None."""
    hit = fits_for(fits, sweep, quantity, method)
    return None if hit.empty else hit.iloc[0]


def fit_line(ax, fit, color, x):
    """Draw a + c*n^k, solid over the fitted range, dotted left of it: (handle, k in words)."""
    law = lambda n: fit["a"] + fit["c"] * n ** fit["k"]  # noqa: E731
    n = np.geomspace(min(x.min(), fit["n_min"]), fit["n_min"], 50)  # (50,) left of the fit range
    ax.plot(n, law(n), ":", color=color, lw=0.9, alpha=0.6)
    n = np.geomspace(fit["n_min"], fit["n_max"], 100)  # (100,)
    (line,) = ax.plot(n, law(n), "-", color=color, lw=1.2, alpha=0.8)
    return line, f"{exponent(fit)}, theory {fit['theory_k']:g}"


def exponent(fit):
    """'k = 2.23 [1.95, 2.51]': the fitted exponent and its 95% interval (never '-0.00')."""
    k, lo, hi = (f"{fit[c] + 0.0:.2f}".replace("-0.00", "0.00") for c in ("k", "k_lo", "k_hi"))
    return f"k = {k} [{lo}, {hi}]"


def with_fit(ax, handle, method, fit, color, x):
    """One legend entry for a method: its marker and, where fitted, its fitted line over it."""
    if fit is None:
        return handle, method
    line, law = fit_line(ax, fit, color, x)
    return (handle, line), f"{method}: {law}"


def fit_note(fits, sweep, quantity):
    """Caption: which points the solid lines were fitted on."""
    spans = {(r.n_min, r.n_max) for r in fits_for(fits, sweep, quantity).itertuples()}
    if not spans:
        return None
    n = SYMBOLS.get(sweep.variable, sweep.variable)
    where = f"{n} = {min(spans)[0]:g}..{min(spans)[1]:g}" if len(spans) == 1 else "each its span"
    return f"Lines: c·{n}^k fitted on {where} (k, 95% interval), dotted below it."


def guide_slopes(ax, var, x_from, x_to, y_end, y_floor, exponents):
    """Grey lines y ∝ n^k ending at (x_to, y_end) under the data, drawn left down to y_floor.

    From one end point they fan out leftwards, the steeper lower; each is labelled under its
    middle, on the side away from the data (place_apart leaves these labels where they are).
    """
    n = SYMBOLS.get(var, var)
    for k in sorted({float(k) for k in exponents if k > 0}):
        x_start = max(x_from, x_to * (y_floor / y_end) ** (1 / k))  # stop at the floor
        x = np.geomspace(x_start, x_to, 21)  # (21,)
        ax.plot(x, y_end * (x / x_to) ** k, ls=(0, (4, 3)), color=GUIDE, lw=0.9, zorder=1)
        power = n if k == 1 else f"{n}^{{{k:g}}}"
        ax.annotate(f"$\\propto {power}$", (x[10], y_end * (x[10] / x_to) ** k), color=GUIDE,
                    fontsize="small", xytext=(2, -3), textcoords="offset points", ha="left",
                    va="top", gid="guide")


def theory_exponents(fits, sweep, quantity):
    """The theory's exponents of a panel's fits (the guides to draw); 1 and 2 without fits."""
    if fits is None:
        return (1, 2)
    ks = fits_for(fits, sweep, quantity)["theory_k"]
    found = sorted({float(k) for k in ks if np.isfinite(k) and k > 0})
    return found or (1, 2)


def data_ylim(ax, values, low=None):
    """Keep the y range on the data (and guides from `low`): extended fits must not stretch it."""
    lo, hi = np.nanmin(values.to_numpy(float)), np.nanmax(values.to_numpy(float))
    lo = lo if low is None else min(lo, low)
    ax.set_ylim(lo / 1.6, hi * 1.6)


def series(rows, method, var):
    """The ok points of one method, sorted by the variable."""
    return rows[rows["method"] == method].sort_values(var)


def methods(rows):
    """Methods in the records' order (the expensive first); unknown ones last, by name."""
    return sorted(rows["method"].unique(),
                  key=lambda m: (gradients.record(m, strict=False).order, m))


def method_color(method):
    """The method's colour; None (matplotlib's next) for a method not registered here."""
    return gradients.record(method, strict=False).color


def method_marker(method):
    return gradients.record(method, strict=False).marker


def ratio(rows, var, num, den, col):
    """(x, num/den) of a column at the values of var both methods have."""
    a = series(rows, num, var).set_index(var)[col]
    b = series(rows, den, var).set_index(var)[col]
    both = a.index.intersection(b.index)
    return both.to_numpy(), (a[both] / b[both]).to_numpy()


SPOTS = [
    ((dx * r, dy * r), "left" if dx > 0 else "right", "bottom" if dy > 0 else "top")
    for r in (4, 10, 18)
    for dx, dy in ((1, 1), (1, -1), (-1, 1), (-1, -1))
]  # offsets tried


def _marks(ax, renderer):
    """Display coordinates of every line of the axes, ten points per segment: (points, 2)."""
    found = [np.zeros((0, 2))]
    for line in ax.get_lines():
        xy = line.get_transform().transform(line.get_xydata())  # (vertices, 2)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy) > 1:
            t = np.linspace(0, 1, 10)[:, None, None]  # (10, 1, 1)
            xy = (xy[:-1] + t * (xy[1:] - xy[:-1])).reshape(-1, 2)
        found.append(xy)
    return np.vstack(found)


def place_apart(ax, renderer):
    """Move each point's label to the first spot near its point clear of lines, labels and edges."""
    marks, inside = _marks(ax, renderer), ax.get_window_extent(renderer).padded(-6)
    guides, placed = [t for t in ax.texts if t.get_gid() == "guide"], []
    for text in guides:  # under their lines; one that meets another goes further down
        while any(text.get_window_extent(renderer).overlaps(other) for other in placed):
            dx, dy = text.get_position()
            text.set_position((dx, dy - 4))
        placed.append(text.get_window_extent(renderer))
    for text in [t for t in ax.texts
                 if isinstance(t, matplotlib.text.Annotation) and t not in guides]:
        best = None
        for spot in [None] + SPOTS:
            if spot is not None:
                text.set(position=spot[0], ha=spot[1], va=spot[2])
            box = text.get_window_extent(renderer)
            hits = (
                sum(box.overlaps(other) for other in placed) * 100
                + box.count_contains(marks)
                + 100 * (not (inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1)))
            )
            if best is None or hits < best[0]:
                best = (hits, spot)
            if hits == 0:
                break
        if best[1] is not None:
            text.set(position=best[1][0], ha=best[1][1], va=best[1][2])
        placed.append(text.get_window_extent(renderer))
