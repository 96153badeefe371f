"""Figures of a results frame and its fits: bench.plot.draw writes every kind the data supports.

style: what every figure shares, and a style per destination (report, paper, slides); time: time
and op-count figures; space: working memory and the time-memory trade-off; local: the local
exponents against n; placements: the placements of one file side by side (the backends figure);
figures: one figure per kind, a panel per swept variable, written in each format asked.
"""

from bench.plot.figures import (
    FORMATS,
    KINDS,
    SEVERAL_ONLY,
    check_formats,
    check_out_dir,
    check_style,
    draw,
    drawable,
    figure,
)
from bench.plot.style import DEFAULT_STYLE, STYLES, styled

__all__ = [
    "DEFAULT_STYLE",
    "FORMATS",
    "KINDS",
    "SEVERAL_ONLY",
    "STYLES",
    "check_formats",
    "check_out_dir",
    "check_style",
    "draw",
    "drawable",
    "figure",
    "styled",
]
