"""Figures of a results frame and its fits: bench.plot.draw writes every kind the data supports.

style: what every figure shares; time: time and op-count figures; memory: working memory and the
time-memory trade-off; figures: one figure per kind, a panel per swept variable, written as PNG and SVG.
"""

from bench.plot.figures import KINDS, check_out_dir, draw

__all__ = ["KINDS", "check_out_dir", "draw"]
