"""The pipeline: plot and report make missing fits and figures first; outputs checked before any
work."""

import hashlib
import os
import time

import matplotlib.image
import pandas as pd
import pytest

from bench import fit, pipeline, plot
from bench.errors import UserError


def test_report_makes_fits_and_every_plot_when_missing(study):
    # depth.csv supports every kind; width.csv (backprop alone, no working memory) time, ops and
    # rate; the study ran on NumPy alone
    one_placement = tuple(k for k in plot.KINDS if k not in plot.SEVERAL_ONLY)
    for name, kinds in (("depth", one_placement), ("width", ("time", "ops", "rate", "local"))):
        assert fit.read_fits(study / "results" / f"{name}.fits.csv").shape[0] > 0
        assert sorted(p.name for p in (study / "plots").glob(f"{name}-*")) == sorted(
            f"{name}-{kind}.{ext}" for kind in kinds for ext in ("png", "svg"))
        for kind in kinds:
            for ext in ("png", "svg"):
                assert (study / "plots" / f"{name}-{kind}.{ext}").stat().st_size > 5000
    img = matplotlib.image.imread(study / "plots" / "depth-time.png")  # a real, readable PNG
    assert img.shape[0] > 400
    assert img.shape[1] > 600
    assert img[..., :3].std() > 0.05  # not blank


def test_skipped_point_is_not_plotted_or_fitted(study):
    fits = fit.read_fits(study / "results" / "depth.fits.csv")
    naive = fits[(fits["method"] == "naive") & (fits["variable"] == "depth")]
    assert (naive["n_max"] == 16).all()


def test_report_one_file_default_name_and_out(tmp_path, gradbench, results_frame, write_csv):
    # one method without working memory: three figures to draw (the study draws every kind)
    df = pd.concat([results_frame([2], [8], ("backprop",), batch=b) for b in (1, 4, 16, 64)])
    df["work_mem_bytes"] = ""
    path = write_csv(tmp_path / "batch.csv", df)
    assert gradbench("report", str(path), "--plots-dir", str(tmp_path / "figs")).code == 0
    md = (tmp_path / "batch.md").read_text()
    assert "| batch | batch | backprop |" in md
    assert "![batch-time](figs/batch-time.png)" in md
    assert gradbench("report", str(path), "--out", str(tmp_path / "sub" / "r.md"),
                     "--plots-dir", str(tmp_path / "figs")).code == 0
    assert "](../figs/batch-time.png)" in (tmp_path / "sub" / "r.md").read_text()


def test_plot_without_naive_skips_speedup_and_writes_missing_fits(tmp_path, results_frame,
                                                                  write_csv):
    df = results_frame([1, 2, 4, 8], [8], methods=("backprop", "forward"))
    # fewer figures: memory and tradeoff without naive are test_robust_results' lone backprop
    df["work_mem_bytes"] = ""
    path = write_csv(tmp_path / "bp.csv", df)
    written, notes = pipeline.plot(path, tmp_path / "p")
    # the others need backprop and forward; backends a file of several placements
    kinds = [k for k in plot.KINDS
             if k not in ("speedup", "memory", "tradeoff", *plot.SEVERAL_ONLY)]
    assert {"speedup", "memory", "tradeoff"} < set(plot.KINDS)
    assert {p.name for p in written} == {f"bp-{k}.{e}" for k in kinds for e in ("png", "svg")}
    assert any("no speedup plot" in n for n in notes)
    assert any("no memory plot" in n for n in notes) and any("no tradeoff plot" in n for n in notes)
    # the README says so: plot writes the fits file first when it is missing, and says it did
    fits = tmp_path / "bp.fits.csv"
    wrote = f"wrote {fits} (it was missing or not fitted from {path} as it is now)"
    assert wrote in notes
    assert fit.read_fits(tmp_path / "bp.fits.csv").shape[0] > 0
    assert pipeline.ensure_fits(path)[1] == []  # now fresh: read, not refitted


def test_report_out_that_cannot_be_written_fails_in_one_line_before_any_work(
        tmp_path, gradbench, unwritable, results_frame, write_csv):
    path = write_csv(tmp_path / "d.csv", results_frame([1, 2, 4, 8], [8]))
    for folder in unwritable:
        out = folder / "r.md"
        code, _, err = gradbench("report", str(path), "--out", str(out),
                                 "--plots-dir", str(tmp_path / "p"))
        assert code == 2
        assert f"{out}: cannot write (" in err
        assert len(err.strip().splitlines()) == 1
    (tmp_path / "r.md").mkdir()
    with pytest.raises(UserError, match="it is a folder"):
        pipeline.report([path], tmp_path / "r.md", tmp_path / "p")
    assert not (tmp_path / "d.fits.csv").exists()  # no fitting
    assert not (tmp_path / "p").exists()  # no drawing


def test_report_refuses_two_files_of_one_name(tmp_path, gradbench, results_frame, write_csv):
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir(), b.mkdir()
    df = results_frame([1, 2, 4], [8])
    first, second = write_csv(a / "d.csv", df), write_csv(b / "d.csv", df)
    code, _, err = gradbench("report", str(first), str(second))
    assert code == 2
    assert "share a name" in err


def test_plot_refuses_two_files_of_one_name_before_drawing(tmp_path, gradbench, results_frame,
                                                           write_csv):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    df = results_frame([1, 2, 4], [8])
    a, b = write_csv(tmp_path / "a" / "d.csv", df), write_csv(tmp_path / "b" / "d.csv", df)
    code, _, err = gradbench("plot", str(a), str(b), "--out-dir", str(tmp_path / "p"))
    assert (code, err) == (2, f"gradbench: error: two results files share a name ({a}, {b}): "
                              "their figures would overwrite each other\n")
    assert not (tmp_path / "p").exists()  # nothing drawn, not even a's


def test_plot_refuses_one_file_named_twice(tmp_path, gradbench, results_frame, write_csv):
    a = write_csv(tmp_path / "d.csv", results_frame([1, 2, 4], [8]))
    code, _, err = gradbench("plot", str(a), str(a), "--out-dir", str(tmp_path / "p"))
    assert code == 2 and "share a name" in err


def test_a_fits_file_of_another_sweep_is_refitted_however_new(tmp_path, results_frame, write_csv):
    a = write_csv(tmp_path / "a.csv", results_frame([1, 2, 4, 8], [8], methods=("backprop",)))
    b = write_csv(tmp_path / "b.csv", results_frame([1, 2, 4, 8], [8], methods=("naive",)))
    fit.fit_file(b)
    # b's fits as a's, newer than a.csv
    (tmp_path / "a.fits.csv").write_bytes((tmp_path / "b.fits.csv").read_bytes())
    fits, notes = pipeline.ensure_fits(a)
    assert set(fits["method"]) == {"backprop"}
    assert notes and notes[0].startswith(f"wrote {tmp_path / 'a.fits.csv'}")


def test_a_results_file_touched_but_unchanged_keeps_its_fits(tmp_path, results_frame, write_csv):
    path = write_csv(tmp_path / "a.csv", results_frame([1, 2, 4, 8], [8], methods=("backprop",)))
    fit.fit_file(path)
    os.utime(path, (time.time() + 60, time.time() + 60))  # newer than its fits, the same bytes
    assert pipeline.ensure_fits(path)[1] == []


def test_a_results_file_changed_in_place_is_refitted(tmp_path, results_frame, write_csv):
    path = write_csv(tmp_path / "a.csv", results_frame([1, 2, 4, 8], [8], methods=("backprop",)))
    fit.fit_file(path)
    write_csv(path, results_frame([1, 2, 4, 8], [8], methods=("backprop", "naive")))
    os.utime(path, (0, 0))  # older than its fits, other bytes
    fits, notes = pipeline.ensure_fits(path)
    assert set(fits["method"]) == {"backprop", "naive"} and notes


def test_a_fits_file_records_its_results_file(tmp_path, results_frame, write_csv):
    path = write_csv(tmp_path / "a.csv", results_frame([1, 2, 4, 8], [8], methods=("backprop",)))
    fit.fit_file(path)
    fits = pd.read_csv(tmp_path / "a.fits.csv")
    assert set(fits["results_file"]) == {"a.csv"}
    assert set(fits["results_sha256"]) == {hashlib.sha256(path.read_bytes()).hexdigest()}


def test_figures_drawn_from_another_file_of_one_name_are_drawn_again(tmp_path, results_frame,
                                                                     write_csv, only_kinds):
    only_kinds("time", "ops")  # two stamps to read; every kind is drawn by the study
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    df = results_frame([1, 2, 4, 8], [8], methods=("backprop",))
    df["work_mem_bytes"] = ""  # fewer figures
    a = write_csv(tmp_path / "a" / "d.csv", df)
    b = write_csv(tmp_path / "b" / "d.csv", df.assign(time_min_s=df["time_min_s"] / 2))
    fit.fit_file(b)  # b's fits, older than the figures a is about to draw
    os.utime(tmp_path / "b" / "d.fits.csv", (0, 0))
    pipeline.plot(a, tmp_path / "p")
    pngs, notes = pipeline.ensure_plots(b, tmp_path / "p")
    assert notes and notes[0] == f"drew the plots of {b}"
    assert pipeline.ensure_plots(b, tmp_path / "p")[1] == []  # now b's: read, not drawn
    assert {pipeline._stamp_of(p) for p in pngs} == {pipeline._stamp(b)}
