"""Figures of a results frame and its fits: bench.plot.draw writes every kind the data supports.

style: what every figure shares; time: time and op-count figures; memory: working memory and the
time-memory trade-off; backends: the placements of one file side by side; figures: one figure per kind,
a panel per swept variable, written as PNG and SVG.
"""

import bench.agg  # noqa: F401  first: matplotlib on Agg, whatever MPLBACKEND says
from bench.plot.figures import KINDS, SEVERAL_ONLY, check_out_dir, draw

__all__ = ["KINDS", "SEVERAL_ONLY", "check_out_dir", "draw"]
