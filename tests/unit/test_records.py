"""Method records: every registered one complete, and a method of one's own taken up by every
stage."""

import dataclasses
import importlib
import math
from pathlib import Path

import pytest

import gradients
from bench import pipeline
from bench.api import load
from bench.sweep.loop import sweep
from gradients.method import BASELINE, GRADIENT, Method
from gradients.registry import unregister

TESTS = Path(__file__).resolve().parents[1]  # where toy_method.py is
FIELDS = [f.name for f in dataclasses.fields(Method)]
OPTIONAL = {"module", "requires"}  # None where a baseline has no module, or a method needs nothing


def complete(**change):
    """backprop's record with some fields changed: a record that passes the checks, changed."""
    return {**{f: getattr(gradients.record("backprop"), f) for f in FIELDS}, **change}


@pytest.mark.parametrize("name", list(gradients.RECORDS))
def test_every_registered_record_has_every_field(name):
    record = gradients.record(name)
    assert [f for f in FIELDS if getattr(record, f) is None and f not in OPTIONAL] == []
    assert record.kind in (GRADIENT, BASELINE)
    assert (record.module is None) == (record.kind == BASELINE)


@pytest.mark.parametrize("field", FIELDS)
def test_a_record_that_lacks_a_field_is_refused(field):
    fields = complete(name="lacking")
    del fields[field]
    with pytest.raises(TypeError):
        Method(**fields)
    if field not in OPTIONAL:
        with pytest.raises(ValueError, match=field):
            Method(**{**fields, field: None})


def test_a_record_with_a_bad_field_is_refused():
    with pytest.raises(ValueError, match="kind"):
        Method(**complete(kind="fast"))
    with pytest.raises(ValueError, match="gradient"):
        Method(**complete(module=math))  # no gradient(), no op_count()
    with pytest.raises(ValueError, match="registered already"):
        gradients.register(Method(**complete(color="black")))


def test_methods_lists_the_gradient_methods_and_forward_is_the_baseline():
    assert "forward" not in gradients.METHODS
    assert gradients.record("forward").kind == BASELINE
    assert all(gradients.record(m).kind == GRADIENT for m in gradients.METHODS)
    assert gradients.registry.baseline() == "forward"
    with pytest.raises(ValueError, match="unknown method"):
        gradients.record("nothing")
    assert gradients.record("nothing", strict=False).color is None  # matplotlib's next colour


@pytest.fixture
def toy(monkeypatch):
    """The toy method (tests/toy_method.py) registered here and in a sweep's child processes."""
    monkeypatch.setenv(gradients.registry.PLUGINS, "toy_method")
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    module = importlib.import_module("toy_method")
    gradients.register(module.RECORD)  # again where an earlier test unregistered it
    yield module.RECORD
    unregister("toy")


def test_a_method_of_ones_own_is_swept_fitted_drawn_and_reported(toy, tmp_path):
    assert "toy" in gradients.METHODS
    out = tmp_path / "own.csv"
    sweep(out=out, methods="toy,backprop", profile="quick", depth="1,2,4", width="3")
    results = load(out)
    assert set(results.df["method"]) == {"toy", "backprop"}
    assert (results.df["status"] == "ok").all() and results.df["agree"].all()
    fits = results.fit()
    ops = fits[(fits["method"] == "toy") & (fits["quantity"] == "ops")].set_index("variable")
    assert ops.loc["depth", "theory_k"] == toy.time_in_e  # the record's theory
    figure = results.plot("ops", fits=fits)
    labels = [t.get_text() for ax in figure.axes if ax.get_legend()
              for t in ax.get_legend().get_texts()]
    assert any(label.startswith("toy") for label in labels)
    report, _ = pipeline.report([out], tmp_path / "own.md", tmp_path / "plots")
    text = Path(report).read_text()
    assert "| own | depth | toy |" in text  # its fits, after backprop's (the record's order)
    assert "| depth | E | backprop time | toy time |" in text  # a column of the speedup table
