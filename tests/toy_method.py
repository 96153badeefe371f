"""A method of the tests' own, as a plugin adds one: one module and one record.

backprop under another name. Registered where this module is imported; a sweep's child process
imports it too when GRADBENCH_PLUGINS names it and tests/ is on PYTHONPATH (test_records.py).
"""

import sys

import gradients
from gradients import backprop
from gradients.ops import NO_TALLY


def gradient(net, X, y, tally=NO_TALLY):
    return backprop.gradient(net, X, y, tally)


def op_count(widths, batch, relu):
    return backprop.op_count(widths, batch, relu)


def memory_count(widths, batch, relu):
    return backprop.memory_count(widths, batch, relu)


RECORD = gradients.Method(
    "toy", sys.modules[__name__], "gradient", "backprop under another name", time_in_e=1,
    memory_in_depth=1, memory_in_width=1, traced=True, color="tab:brown", marker="*", order=3.5,
    contender=True, requires=None)
gradients.register(RECORD)
