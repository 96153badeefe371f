"""Fits are keyed by their sweep: the Sweep record's key round trip, the one lookup of a fit
(bench.fit.fits_for), every fit of a file of two placements found by its figures and report, and
a fits file written before the sweep column."""

import re

import pandas as pd
import pytest
from helpers import svg_texts
from hypothesis import given
from hypothesis import strategies as st

from bench import fit
from bench.errors import UserError
from bench.placement import Placement
from bench.results import Sweep, ok_rows, sweeps

DEPTHS = [1, 2, 4, 8, 16]
TORCH = Placement("torch", "cpu", "float32")


def frames(results_frame):
    """A depth sweep, a width sweep whose input follows the width, a batch sweep, two placements."""
    depth = results_frame(DEPTHS, [8])
    width = results_frame([2], [4, 8, 16, 32], methods=("backprop",))
    batch = pd.concat([results_frame([2], [4], methods=("backprop",), batch=b)
                       for b in (1, 4, 16, 64)])
    two = pd.concat([depth, results_frame(DEPTHS, [8], methods=("backprop",), **TORCH._asdict())])
    return {"depth": depth, "width": width, "batch": batch, "two": two}


def test_the_key_of_every_sweep_of_a_file_gives_that_sweep_back(results_frame):
    for name, df in frames(results_frame).items():
        found = [sweep for sweep, _ in sweeps(df)] + [sweep for sweep, _ in sweeps(df, False)]
        assert found, name
        for sweep in found:
            assert Sweep.from_key(sweep.key) == sweep, sweep.key


cells = st.text(max_size=12)  # a results file is text: a cell may hold anything


@given(st.sampled_from(["depth", "width", "batch", "E"]), st.lists(cells, max_size=5),
       st.none() | st.tuples(cells, cells, cells))
def test_a_key_round_trips_whatever_the_cells_hold(variable, values, where):
    names = ["depth", "width", "batch", "activation", "seed"]
    sweep = Sweep(variable, tuple(zip(names, values)), where and Placement(*where),
                  via="depth" if variable == "E" else "")
    assert sweep.key.count(" ") == sweep.key.count("=") - 1  # a cell's spaces and '=' are escaped
    assert Sweep.from_key(sweep.key) == sweep


def test_the_key_names_the_placement_and_the_label_only_where_a_file_has_several(results_frame):
    alone = [s for s, _ in sweeps(frames(results_frame)["depth"])]
    two = [s for s, _ in sweeps(frames(results_frame)["two"])]
    assert alone[0].key == ("variable=depth width=8 batch=1 activation=relu seed=0 input_dim=8 "
                            "backend=numpy device=cpu dtype=float64")
    assert alone[0].label == "width=8 batch=1 activation=relu seed=0 input_dim=8"
    assert alone[1].key.startswith("variable=E via=depth width=8 ")
    assert alone[1].label.endswith("input_dim=8 (E via depth)")
    assert alone[0] in two  # the same sweep, whatever else the file holds
    labels = {s.label for s in two if s.variable == "depth"}
    assert labels == {"width=8 batch=1 activation=relu seed=0 input_dim=8 backend=numpy device=cpu "
                      "dtype=float64",
                      "width=8 batch=1 activation=relu seed=0 input_dim=8 backend=torch device=cpu "
                      "dtype=float32"}


@pytest.mark.parametrize("key", [
    "", "depth", "width=8", "variable=depth  width=8", "variable=E width=8",
    "variable=depth via=width", "variable=time width=8", "variable=depth width=8 backend=numpy",
    "variable=depth width=8 width=8", "variable=depth dtype=float64 width=8",
    "variable=depth width=%38",  # another spelling of width=8
])
def test_what_is_not_a_key_is_refused(key):
    with pytest.raises(ValueError, match="not a sweep key"):
        Sweep.from_key(key)


def test_the_lookup_finds_each_fit_of_a_sweep_once(results_frame):
    for name, df in frames(results_frame).items():
        fits = fit.fit_results(df)
        seen = []
        for sweep, _ in sweeps(ok_rows(df)):
            for quantity in fit.QUANTITIES:
                hit = fit.fits_for(fits, sweep, quantity)
                assert set(hit["variable"]) <= {sweep.variable}
                assert set(hit["quantity"]) <= {quantity}
                assert {Placement.of(r) for _, r in hit.iterrows()} <= {sweep.placement}
                for method in hit["method"]:
                    assert len(fit.fits_for(fits, sweep, quantity, method)) == 1
                seen += list(hit.index)
        assert sorted(seen) == list(fits.index), name  # every fit, each once
        assert fit.fits_for(None, sweep, "time").empty


def test_a_sweep_across_placements_finds_each_placements_fits(results_frame):
    df = frames(results_frame)["two"]
    fits = fit.fit_results(df)
    [across] = [s for s, _ in sweeps(df, by_placement=False) if s.variable == "depth"]
    assert fit.fits_for(fits, across, "time").empty  # no fit mixes placements
    numpy = fit.fits_for(fits, across.at(Placement()), "time")
    torch = fit.fits_for(fits, across.at(TORCH), "time")
    assert list(numpy["method"]) == ["backprop", "forward", "naive"]
    assert list(torch["method"]) == ["backprop"]
    assert set(torch["dtype"]) == {"float32"}


def test_every_fit_of_a_file_of_two_placements_is_in_its_figures_and_report(
        tmp_path, results_frame, write_csv, gradbench, only_kinds):
    path = write_csv(tmp_path / "two.csv", frames(results_frame)["two"])
    only_kinds("time", "backends")
    assert gradbench("report", path, "--plots-dir", tmp_path / "plots").code == 0
    fits = fit.read_fits(tmp_path / "two.fits.csv")
    time = fits[(fits["quantity"] == "time") & (fits["variable"] == "depth")]
    assert len(time) == 4  # naive, backprop, forward on NumPy; backprop on torch
    figure = " ".join(svg_texts((tmp_path / "plots" / "two-time.svg").read_text()))
    placed = " ".join(svg_texts((tmp_path / "plots" / "two-backends.svg").read_text()))
    md = (tmp_path / "two.md").read_text()
    for r in time.itertuples():
        law = f"k = {r.k:.2f} [{r.k_lo:.2f}, {r.k_hi:.2f}]"
        assert f"{r.method}: {law}" in figure
        assert f"{r.method} ({r.backend} {r.device} {r.dtype}): {law}" in placed
        summary = re.search(rf"- two, time vs depth \({re.escape(r.fixed)}\): exponents (.*)", md)
        assert f"{r.method} {r.k:.2f} [{r.k_lo:.2f}, {r.k_hi:.2f}]" in summary.group(1)
        row = f"| {r.method} | {r.backend} | {r.device} | {r.dtype} | "
        [line] = [line for line in md.splitlines() if line.startswith(row)]
        assert f"| {r.k:.3f} | [{r.k_lo:.3f}, {r.k_hi:.3f}] |" in line  # the Backends table


def old_fits(tmp_path, results_frame, write_csv):
    """A results file and a fits file of it as gradbench wrote them before the sweep column."""
    path = write_csv(tmp_path / "old.csv", results_frame(DEPTHS, [8]))
    out, fits, _ = fit.fit_file(path)
    fits.drop(columns="sweep").to_csv(out, index=False)
    return path, out


def test_a_fits_file_without_the_sweep_column_is_refused_in_a_line(tmp_path, results_frame,
                                                                    write_csv):
    path, out = old_fits(tmp_path, results_frame, write_csv)
    with pytest.raises(UserError) as e:
        fit.read_fits(out)
    assert str(e.value) == (f"{out}: written by an older gradbench (no sweep column): "
                            f"run `gradbench fit {path}` again")


def test_report_fits_anew_a_fits_file_without_the_sweep_column(
        tmp_path, results_frame, write_csv, gradbench, only_kinds):
    path, out = old_fits(tmp_path, results_frame, write_csv)
    assert fit.is_current(out, path) is False  # its hash is the results file's: the column decides
    only_kinds("time")
    code, said, err = gradbench("report", path, "--plots-dir", tmp_path / "plots")
    assert code == 0, err
    assert f"wrote {out} (it was missing or not fitted from {path} as it is now)" in said
    assert "sweep" in fit.read_fits(out).columns
