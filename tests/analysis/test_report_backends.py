"""A file of several placements (backend, device, dtype): fits per placement, the backends
figure, the Backends table and the report's header; a file of one placement looks as it did before
placements."""

import itertools

import pandas as pd
import pytest
from helpers import gradbench, svg_texts

from bench import fit, placement, plot
from bench.formatting import ratio, seconds
from bench.plot import figures
from bench.report.placements import placements_section
from bench.results import Sweep, ok_rows, panels
from bench.schema import TIME

DEPTHS = [1, 2, 4, 8, 16, 32]
TIMES = ["time_s", "time_lo_s", "time_hi_s", "time_median_s", "time_mean_s", "time_stdev_s",
         "time_min_s", "time_max_s"]
GPU = placement.Placement("torch", "cuda:0", "float32")


def placed(results_frame, noise=0.02):
    """NumPy's naive, backprop and forward; backprop and forward on torch's CPU in float32, at
    0.7x NumPy's time; naive and backprop on a GPU, whose time grows as depth^-0.5 times NumPy's
    (its chains run in parallel)."""
    numpy = results_frame(DEPTHS, [8], noise=noise, framework="numpy 2.4.0")
    cpu = results_frame(DEPTHS, [8], methods=("backprop", "forward"), noise=noise, backend="torch",
                        dtype="float32", framework="torch 2.13.0", device_name="Test CPU")
    cpu[TIMES] *= 0.7
    gpu = results_frame(DEPTHS, [8], methods=("naive", "backprop"), noise=noise, backend="torch",
                        device="cuda:0", dtype="float32", framework="torch 2.13.0",
                        device_name="Test GPU")
    gpu[TIMES] = gpu[TIMES].mul(gpu["depth"] ** -0.5, axis=0)
    return pd.concat([numpy, cpu, gpu], ignore_index=True)


@pytest.fixture(scope="module")
def reported(tmp_path_factory, results_frame, write_csv):
    """The placed frame's results file, reported (fitted and plotted) once.

    Returns (folder, frame, report text)."""
    root = tmp_path_factory.mktemp("placed")
    df = placed(results_frame)
    path = write_csv(root / "multi.csv", df)
    # two kinds of figure, not eight: a second, not ten (the study has all)
    with pytest.MonkeyPatch.context() as mp:
        for module in (figures, plot):
            mp.setattr(module, "KINDS", ("time", "backends"))
        assert gradbench("report", path, "--plots-dir", root / "plots").code == 0
    return root, df, (root / "multi.md").read_text()


def section(md, heading):
    """The text of one ## section of a report."""
    start = md.index(f"\n{heading}\n")
    return md[start:md.index("\n## ", start + 1)]


def test_each_placement_is_fitted_on_its_own_rows(results_frame):
    df = placed(results_frame)
    fits = fit.fit_results(df)
    key = ["method", "variable", "quantity"]
    for where in placement.placements(df):
        alone = fit.fit_results(placement.rows_of(df, where)).sort_values(key, ignore_index=True)
        got = placement.rows_of(fits, where).sort_values(key, ignore_index=True)
        assert len(got) == len(alone) > 0
        pd.testing.assert_frame_equal(got[key + ["k", "k_lo", "k_hi", "n_points"]],
                                      alone[key + ["k", "k_lo", "k_hi", "n_points"]])
        assert {Sweep.from_key(key).placement for key in got["sweep"]} == {where}
        # the fixed label gains the placement, before E's "(E via depth)"
        suffix = "".join(f" {k}={v}" for k, v in where._asdict().items())
        assert list(got["fixed"].str.replace(suffix, "")) == list(alone["fixed"])
    assert len(fits) == sum(len(fit.fit_results(placement.rows_of(df, p)))
                            for p in placement.placements(df))


def test_a_placements_exponent_is_its_own(results_frame):
    fits = fit.fit_results(placed(results_frame, noise=0.0))
    time = fits[(fits["quantity"] == "time") & (fits["variable"] == "depth")
                & (fits["method"] == "naive")]
    k = {tuple(r[list(placement.PLACEMENT)]): r["k"] for _, r in time.iterrows()}
    # the GPU rows' law, not a blend
    assert k[GPU] == pytest.approx(k[placement.DEFAULT] - 0.5, abs=1e-9)


def test_labels_name_the_placement_only_where_a_file_has_several(results_frame):
    multi = fit.summary(fit.fit_results(placed(results_frame)))
    assert any(line.startswith("backprop (torch cuda:0 float32) time ") for line in multi)
    assert any(line.startswith("backprop (numpy cpu float64) time ") for line in multi)
    single = fit.fit_results(results_frame(DEPTHS, [8]))
    fixed = "width=8 batch=1 activation=relu seed=0 input_dim=8"
    assert set(single["fixed"]) == {fixed, f"{fixed} (E via depth)"}
    assert all(line.split()[0] in ("naive", "backprop", "forward")
               and line.split()[1] in ("time", "ops", "memory")
               for line in fit.summary(single))  # the bare method, then the quantity


def test_a_file_of_one_placement_has_the_sweeps_it_had(results_frame):
    df = results_frame(DEPTHS, [8], backend="torch", device="cuda:0", dtype="float32")
    found = [(s.variable, s.label, len(r)) for s, r in panels(df)]
    assert found == [(s.variable, s.label, len(r)) for s, r in panels(df, False)]
    labels = [s.label for s, _ in panels(df)]
    assert labels == ["width=8 batch=1 activation=relu seed=0 input_dim=8"]


def test_backends_figure_has_a_curve_per_method_and_placement(reported):
    root, df, _ = reported
    svg = (root / "plots" / "multi-backends.svg").read_text()
    fits = fit.read_fits(root / "multi.fits.csv")
    for where in placement.placements(df):
        for method in placement.rows_of(df, where)["method"].unique():
            f = placement.rows_of(fits, where)
            r = f[(f["method"] == method) & (f["variable"] == "depth")
                  & (f["quantity"] == "time")].iloc[0]
            label = placement.method_label(method, where)
            assert f"{label}: k = {r['k']:.2f} [{r['k_lo']:.2f}" in svg
    time_svg = (root / "plots" / "multi-time.svg").read_text()
    assert "input dim 8, torch cuda:0 float32." in time_svg  # a panel per placement, in its caption
    where = ("numpy cpu float64 on Test CPU; torch cpu float32 on Test CPU; "
             "torch cuda:0 float32 on Test GPU")
    assert where in " ".join(svg_texts(svg))  # the caption, wrapped into lines


def test_backends_table_compares_each_method_and_placement_with_numpy_backprop(reported):
    _, df, md = reported
    table = section(md, "## Backends")
    assert "At depth 32 (width=8 batch=1 activation=relu seed=0 input_dim=8)." in table
    rows = [line for line in table.splitlines()
            if line.startswith("| ") and not line.startswith("| method")]
    # numpy: naive, backprop, forward; torch cpu: backprop, forward; gpu: two
    assert len(rows) == 3 + 2 + 2
    t = df[df["depth"] == 32].set_index(["method", *placement.PLACEMENT])[TIME]
    reference = t["backprop", *placement.DEFAULT]
    for (method, *where), time in t.items():
        expected = (f"| {method} | {' | '.join(where)} | {seconds(time)} "
                    f"| {ratio(time / reference)} |")
        assert sum(line.startswith(expected) for line in rows) == 1, expected
    assert "| naive | torch | cuda:0 | float32 |" in table
    assert "| Test GPU | torch 2.13.0 |" in table


def test_backends_table_compares_at_the_largest_point_every_curve_has(results_frame):
    df = placed(results_frame)
    gone = (df["method"] == "naive") & (df["device"] == "cuda:0") & (df["depth"] == 32)
    df.loc[gone, ["status", "reason"]] = ["skipped", "predicted 90 s > budget 60 s"]
    df = df[df["backend"] == "torch"]  # no NumPy backprop: no ratio
    table = "\n".join(placements_section({"gpu": df}, {"gpu": fit.fit_results(ok_rows(df))}))
    assert "At depth 16 (" in table
    assert "No backprop on NumPy in this sweep: no ratio." in table
    t = df[(df["depth"] == 16) & (df["method"] == "backprop")
           & (df["device"] == "cuda:0")][TIME].item()
    assert f"| backprop | torch | cuda:0 | float32 | {seconds(t)} | - |" in table
    one = results_frame(DEPTHS, [8])
    assert placements_section({"one": one}, {"one": fit.fit_results(df)}) == []


def test_report_header_names_backend_device_its_name_and_dtype(study, reported):
    md = (study / "results" / "report.md").read_text()
    # device_name empty: the CPU
    assert "\nBackend, device and dtype: numpy on cpu (Test CPU), float64.\n" in md
    assert ("\nBackend, device and dtype: numpy on cpu (Test CPU), float64 and "
            "torch on cpu (Test CPU), float32 and "
            "torch on cuda:0 (Test GPU), float32.\n") in reported[2]


def test_a_file_of_one_placement_reports_and_plots_as_before(study, reported):
    md = (study / "results" / "report.md").read_text()
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings == ["## Summary", "## Environment", "## Sweeps",
                        "## Growth exponents against theory", "## Local exponents",
                        "## Speedup of backprop over naive", "## Working memory", "## Figures"]
    assert "backend=" not in md and "(numpy cpu float64)" not in md
    # no trace of the Backends section it lacks (an empty one was one more blank line)
    assert "\n\n\n\n" not in md
    assert not list((study / "plots").glob("*-backends.*"))
    multi = [line for line in reported[2].splitlines() if line.startswith("## ")]
    assert multi == headings[:4] + ["## Backends"] + headings[4:]
    assert "\n![multi-backends](plots/multi-backends.png)\n" in reported[2]


def test_figure_titles_name_the_placements_and_each_device_once(results_frame):
    df = placed(results_frame)
    # the default study: the CPU, as before
    assert placement.title(results_frame(DEPTHS, [8])) == "Test CPU"
    cpus = df[df["device"] == "cpu"]
    assert placement.title(cpus) == "numpy cpu float64, torch cpu float32 on Test CPU"
    gpu = placement.rows_of(df, GPU)
    assert placement.title(gpu) == "torch cuda:0 float32 on Test GPU"


def test_a_file_of_shapes_that_sweep_nothing_gets_a_row_per_shape(tmp_path, results_frame,
                                                                  write_csv):
    # make bench-torch's kind of file: shapes that differ in every variable, each on NumPy and on
    # torch
    shapes = [(8, 16, 1), (16, 64, 32), (4, 256, 64)]
    frames = [results_frame([d], [w], methods=("backprop", "checkpoint"), batch=b, noise=0.3,
                            **where)
              for (d, w, b), where in itertools.product(shapes, ({}, {"backend": "torch"}))]
    df = pd.concat(frames, ignore_index=True)
    df.loc[df["backend"] == "torch", TIMES] *= 1.7  # torch's times differ from NumPy's
    assert not [s for s, rows in panels(ok_rows(df), by_placement=False) if placement.several(rows)]
    path = write_csv(tmp_path / "grid.csv", df)
    assert gradbench("report", path, "--plots-dir", tmp_path / "plots").code == 0
    md = section((tmp_path / "grid.md").read_text(), "## Backends")
    lines = [line for line in md.splitlines() if line.startswith("| ")]
    assert lines[0] == ("| depth | width | input_dim | batch | activation | seed "
                        "| backprop (numpy cpu float64) "
                        "| checkpoint (numpy cpu float64) | backprop (torch cpu float64) "
                        "| checkpoint (torch cpu float64) |")
    t = df.set_index(["depth", "backend", "method"])[TIME]
    # smallest edges x batch first: the order given
    for (d, w, b), line in zip(shapes, lines[1:], strict=True):
        ref = t[d, "numpy", "backprop"]
        cells = [f"{seconds(t[d, backend, m])} ({ratio(t[d, backend, m] / ref)})"
                 for backend in ("numpy", "torch") for m in ("backprop", "checkpoint")]
        assert line == f"| {d} | {w} | {w} | {b} | relu | 0 | " + " | ".join(cells) + " |"


def test_a_kind_whose_methods_share_no_sweep_is_left_out_with_a_note(tmp_path, results_frame):
    # naive and backprop are both in the file, but on different placements: no panel has both for
    # a speedup
    df = pd.concat([results_frame(DEPTHS, [8], methods=("backprop", "forward")),
                    results_frame(DEPTHS, [8], methods=("naive",), backend="torch")],
                   ignore_index=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(figures, "KINDS", ("time", "speedup"))
        written, notes = figures.draw(df, fit.fit_results(df), "apart", tmp_path)
    assert {p.name for p in written} == {"apart-time.png", "apart-time.svg"}
    assert "no speedup plot: no sweep in apart has backprop and naive together" in notes
