"""plot and report: the files are made, readable, say what the fits say; bad inputs exit 2 in one line."""

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image
import pandas as pd
import pytest
from test_fit import synthetic_rows, write_csv

from bench import fit, formatting, pipeline, plot, rules
from bench.cli import main
from bench.errors import UserError


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
    write_csv(root / "results" / "depth.csv", depth)
    write_csv(root / "results" / "width.csv", synthetic_rows([2], [4, 8, 16, 32]))
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
    # svg.fonttype none: every string is a <text> element, not glyph paths (no DejaVuSans-* glyph ids)
    texts = {"".join(e.itertext()).strip() for e in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")}
    assert "time per call (s)" in texts and "DejaVuSans-" not in svg
    assert any(t.startswith("depth L (weight matrices); ") for t in texts)
    assert f"k = {naive['k']:.2f} [{naive['k_lo']:.2f}, {naive['k_hi']:.2f}], theory 2" in texts


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


def test_plot_without_naive_skips_speedup_and_writes_missing_fits(tmp_path, capsys):
    path = write_csv(tmp_path / "bp.csv", synthetic_rows([1, 2, 4, 8], [8], methods=("backprop", "forward")))
    written, notes = pipeline.plot(path, tmp_path / "p")
    kinds = [k for k in plot.KINDS if k != "speedup"]  # every other kind needs only backprop and forward
    assert "speedup" in plot.KINDS
    assert {p.name for p in written} == {f"bp-{k}.{e}" for k in kinds for e in ("png", "svg")}
    assert any("no speedup plot" in n for n in notes)
    # the README says so: plot writes the fits file first when it is missing, and says it did
    assert f"wrote {tmp_path / 'bp.fits.csv'} (it was missing or older than {path})" in notes
    assert fit.read_fits(tmp_path / "bp.fits.csv").shape[0] > 0
    assert pipeline.ensure_fits(path)[1] == []  # now fresh: read, not refitted


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


def unwritable(tmp_path):
    """Output folders that cannot be made: under a file, and (on Linux) under /proc."""
    (tmp_path / "file").write_text("")
    return [tmp_path / "file" / "sub"] + [Path("/proc/gradbench-no-such")] * os.path.isdir("/proc/self")


def test_plot_out_dir_that_cannot_be_made_fails_in_one_line_before_any_work(tmp_path, capsys):
    path = write_csv(tmp_path / "d.csv", synthetic_rows([1, 2, 4, 8], [8]))
    for out_dir in unwritable(tmp_path):
        assert run(["plot", str(path), "--out-dir", str(out_dir)]) == 2
        err = capsys.readouterr().err
        assert f"{out_dir / 'd-time.png'}: cannot write (" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "d.fits.csv").exists()  # refused before fitting


def test_plot_figure_that_cannot_be_written_fails_in_one_line(tmp_path, capsys):
    path = write_csv(tmp_path / "d.csv", synthetic_rows([1, 2, 4, 8], [8]))
    (tmp_path / "p" / "d-time.svg").mkdir(parents=True)  # the second file written
    assert run(["plot", str(path), "--out-dir", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'p' / 'd-time.svg'}: cannot write (" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["d-time.png", "d-time.svg"]  # no .tmp left


def test_report_out_that_cannot_be_written_fails_in_one_line_before_any_work(tmp_path, capsys):
    path = write_csv(tmp_path / "d.csv", synthetic_rows([1, 2, 4, 8], [8]))
    for folder in unwritable(tmp_path):
        out = folder / "r.md"
        assert run(["report", str(path), "--out", str(out), "--plots-dir", str(tmp_path / "p")]) == 2
        err = capsys.readouterr().err
        assert f"{out}: cannot write (" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "r.md").mkdir()
    with pytest.raises(UserError, match="it is a folder"):
        pipeline.report([path], tmp_path / "r.md", tmp_path / "p")
    assert not (tmp_path / "d.fits.csv").exists() and not (tmp_path / "p").exists()  # no fitting, no drawing


def test_report_refuses_two_files_of_one_name(tmp_path, capsys):
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir(), b.mkdir()
    df = synthetic_rows([1, 2, 4], [8])
    assert run(["report", str(write_csv(a / "d.csv", df)), str(write_csv(b / "d.csv", df))]) == 2
    assert "share a name" in capsys.readouterr().err


def test_fmt_time():
    assert formatting.seconds(1.5) == "1.5 s" and formatting.seconds(0.0042) == "4.2 ms"
    assert formatting.seconds(3.1e-5) == "31 us"


def test_help_names_every_plot_kind_and_the_fit_defaults(capsys):
    assert run(["plot", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(kind in out for kind in plot.KINDS)
    assert run(["fit", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # click wraps the help
    assert f"[default: {rules.TIME_RULE}]" in out and f"[default: {rules.OPS_RULE}]" in out
