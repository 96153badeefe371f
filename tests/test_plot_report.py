"""plot and report: the files are made, readable, say what the fits say; bad inputs exit 2 in one line."""

import os

import matplotlib.image
import pandas as pd
import pytest

from bench import fit, plot, report
from bench.cli import main
from test_fit import synthetic_rows, write_csv


def run(args):
    """main() as the shell runs it: (exit status)."""
    with pytest.raises(SystemExit) as e:
        main(args)
    return e.value.code


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A depth and a width results CSV, one skipped point; fitted and plotted once for the module."""
    root = tmp_path_factory.mktemp("study")
    (root / "results").mkdir()
    depth = synthetic_rows([1, 2, 4, 8, 16, 32], [8])
    skip = (depth["method"] == "naive") & (depth["depth"] == 32)
    depth.loc[skip, ["status", "reason"]] = ["skipped", "predicted 90 s > budget 60 s"]
    paths = [write_csv(root / "results" / "depth.csv", depth),
             write_csv(root / "results" / "width.csv", synthetic_rows([2], [4, 8, 16, 32]))]
    cwd = os.getcwd()
    os.chdir(root)  # the commands' defaults are relative: plots/, results/
    try:
        assert run(["report", "results/depth.csv", "results/width.csv"]) == 0
    finally:
        os.chdir(cwd)
    return root


def test_report_makes_fits_and_every_plot_when_missing(study):
    for name in ("depth", "width"):
        assert fit.read_fits(study / "results" / f"{name}.fits.csv").shape[0] > 0
        for kind in plot.KINDS:
            for ext in ("png", "svg"):
                assert (study / "plots" / f"{name}-{kind}.{ext}").stat().st_size > 5000
    img = matplotlib.image.imread(study / "plots" / "depth-time.png")  # a real, readable PNG
    assert img.shape[0] > 400 and img.shape[1] > 600 and img[..., :3].std() > 0.05  # not blank


def test_svg_has_labels_and_fit_legend(study):
    svg = (study / "plots" / "depth-time.svg").read_text()
    fits = fit.read_fits(study / "results" / "depth.fits.csv")
    naive = fits[(fits["method"] == "naive") & (fits["variable"] == "depth") & (fits["quantity"] == "time")].iloc[0]
    # matplotlib writes text as paths but keeps each string in a comment
    assert "time per call (s)" in svg and "depth L (weight matrices)" in svg
    assert f"k = {naive['k']:.2f} [{naive['k_lo']:.2f}, {naive['k_hi']:.2f}], theory 2" in svg


def test_report_content(study):
    md = (study / "results" / "report.md").read_text()
    for heading in ("## Summary", "## Environment", "## Sweeps", "## Growth exponents against theory",
                    "## Speedup of backprop over naive", "## Figures"):
        assert heading in md
    assert "| cpu | Test CPU | Test CPU |" in md
    assert "excluded 1 point(s) with status != ok (1 skipped)" in md
    assert "predicted 90 s > budget 60 s" in md
    fits = fit.read_fits(study / "results" / "depth.fits.csv")
    bp = fits[(fits["method"] == "backprop") & (fits["variable"] == "depth") & (fits["quantity"] == "time")].iloc[0]
    assert f"| depth | depth | backprop | {bp['k']:.3f} | [{bp['k_lo']:.3f}, {bp['k_hi']:.3f}] |" in md
    # every figure link resolves from the report's folder
    links = [line[line.index("](") + 2:-1] for line in md.splitlines() if line.startswith("![")]
    assert len(links) == 2 * len(plot.KINDS)  # two results files
    assert all((study / "results" / link).is_file() for link in links)


def test_skipped_point_is_not_plotted_or_fitted(study):
    fits = fit.read_fits(study / "results" / "depth.fits.csv")
    naive = fits[(fits["method"] == "naive") & (fits["variable"] == "depth")]
    assert (naive["n_max"] == 16).all()


def test_report_one_file_default_name_and_out(tmp_path, capsys):
    df = pd.concat([synthetic_rows([2], [8], batch=b) for b in (1, 4, 16, 64)])
    path = write_csv(tmp_path / "batch.csv", df)
    assert run(["report", str(path), "--plots-dir", str(tmp_path / "figs")]) == 0
    md = (tmp_path / "batch.md").read_text()
    assert "| batch | batch | naive |" in md and "![batch-time](figs/batch-time.png)" in md
    assert run(["report", str(path), "--out", str(tmp_path / "sub" / "r.md"),
                "--plots-dir", str(tmp_path / "figs")]) == 0
    assert "](../figs/batch-time.png)" in (tmp_path / "sub" / "r.md").read_text()


def test_plot_without_naive_skips_speedup(tmp_path, capsys):
    path = write_csv(tmp_path / "bp.csv", synthetic_rows([1, 2, 4, 8], [8], methods=("backprop", "forward")))
    written, notes = plot.plot_file(path, tmp_path / "p")
    assert {p.name for p in written} == {f"bp-{k}.{e}" for k in ("time", "ops", "vs-forward", "rate") for e in ("png", "svg")}
    assert any("no speedup plot" in n for n in notes)


@pytest.mark.parametrize("command", ["plot", "report"])
@pytest.mark.parametrize("content, message", [
    ("a,b\n1,2\n", "not a gradbench results file"),
    ("schema_version,method\n7,naive\n", "schema version 7"),
    ("\x00\x01 binary", "not a"),
])
def test_readers_refuse_other_files(tmp_path, capsys, command, content, message):
    path = tmp_path / "x.csv"
    path.write_text(content)
    assert run([command, str(path), "--plots-dir" if command == "report" else "--out-dir", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "p").exists() and not (tmp_path / "x.md").exists()


def test_report_refuses_two_files_of_one_name(tmp_path, capsys):
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir(), b.mkdir()
    df = synthetic_rows([1, 2, 4], [8])
    assert run(["report", str(write_csv(a / "d.csv", df)), str(write_csv(b / "d.csv", df))]) == 2
    assert "share a name" in capsys.readouterr().err


def test_fmt_time():
    assert report.fmt_time(1.5) == "1.5 s" and report.fmt_time(0.0042) == "4.2 ms"
    assert report.fmt_time(3.1e-5) == "31 us"
