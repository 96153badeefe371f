"""plot: the figures say what the fits say, in a style and formats asked; an output that cannot be
written fails in one line."""

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from helpers import svg_texts

from bench import fit


def test_svg_has_labels_and_fit_legend(study):
    svg = (study / "plots" / "depth-time.svg").read_text()
    fits = fit.read_fits(study / "results" / "depth.fits.csv")
    naive = fits[(fits["method"] == "naive") & (fits["variable"] == "depth")
                 & (fits["quantity"] == "time")].iloc[0]
    # svg.fonttype none: every string is a <text> element, not glyph paths (no DejaVuSans-*
    # glyph ids)
    texts = {"".join(e.itertext()).strip() for e in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")}
    assert "time per call (s)" in texts
    assert "DejaVuSans-" not in svg
    assert "depth L (weight matrices)" in texts  # the fixed settings are in the caption, not here
    assert (f"naive: k = {naive['k']:.2f} [{naive['k_lo']:.2f}, {naive['k_hi']:.2f}], "
            "theory 2") in texts


def test_plot_out_dir_that_cannot_be_made_fails_in_one_line_before_any_work(
        tmp_path, gradbench, unwritable, results_frame, write_csv):
    path = write_csv(tmp_path / "d.csv", results_frame([1, 2, 4, 8], [8]))
    for out_dir in unwritable:
        code, _, err = gradbench("plot", str(path), "--out-dir", str(out_dir))
        assert code == 2
        assert f"{out_dir / 'd-time.png'}: cannot write (" in err
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "d.fits.csv").exists()  # refused before fitting


def test_plot_figure_that_cannot_be_written_fails_in_one_line(tmp_path, gradbench, results_frame,
                                                              write_csv):
    path = write_csv(tmp_path / "d.csv", results_frame([1, 2, 4, 8], [8]))
    (tmp_path / "p" / "d-time.svg").mkdir(parents=True)  # the second file written
    code, _, err = gradbench("plot", str(path), "--out-dir", str(tmp_path / "p"))
    assert code == 2
    assert f"{tmp_path / 'p' / 'd-time.svg'}: cannot write (" in err
    assert len(err.strip().splitlines()) == 1
    # no .tmp left
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["d-time.png", "d-time.svg"]


def _svg_texts(path):
    return svg_texts(path.read_text())


def test_one_legend_entry_per_method_and_the_fixed_settings_in_a_caption(study):
    texts = _svg_texts(study / "plots" / "depth-time.svg")
    for m in ("naive", "backprop", "checkpoint", "forward"):
        assert sum(t.startswith(f"{m}") for t in texts) == 1, m  # marker and fit line: one entry
    caption = next(t for t in texts if t.startswith("Fixed: "))
    assert caption.startswith("Fixed: width 8, batch 1, ReLU, seed 0, input dim 8.")
    assert not any("=" in t and "seed" in t for t in texts)  # no 'seed=0 input_dim=8' jargon


def test_time_and_ops_figures_have_guide_slopes_of_the_theory(study):
    for kind in ("time", "ops"):
        texts = _svg_texts(study / "plots" / f"depth-{kind}.svg")
        # the n^2 guide (mathtext ∝)
        assert any("L" in t and "2" in t and "\u221d" in t for t in texts), kind


@pytest.mark.parametrize("style", ["paper", "slides"])
def test_plot_writes_each_format_asked_in_a_style(tmp_path, gradbench, results_frame, write_csv,
                                                  style, only_kinds):
    only_kinds("time")  # the figure read here; the study draws every kind
    df = results_frame([1, 2, 4, 8], [8], methods=("naive", "backprop"))
    path = write_csv(tmp_path / "d.csv", df)
    code, _, _ = gradbench("plot", path, "--format", "pdf,png", "--style", style,
                           "--out-dir", tmp_path / "p")
    assert code == 0
    assert (tmp_path / "p" / "d-time.pdf").read_bytes().startswith(b"%PDF")
    assert not (tmp_path / "p" / "d-time.svg").exists()
    from PIL import Image

    width, height = Image.open(tmp_path / "p" / "d-time.png").size
    # a 16:9 slide is wide, a paper column is not
    assert (width / height > 1.7) == (style == "slides")


@pytest.mark.parametrize("option", [("--format", "png,xyz"), ("--style", "poster")])
def test_a_bad_format_or_style_is_one_line_and_exit_2(tmp_path, gradbench, results_frame,
                                                      write_csv, option):
    path = write_csv(tmp_path / "d.csv", results_frame([1, 2, 4], [8], methods=("backprop",)))
    code, _, err = gradbench("plot", path, *option, "--out-dir", tmp_path / "p")
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert option[1] in err
    assert not (tmp_path / "d.fits.csv").exists()  # refused before fitting


IMPORTS = """
import matplotlib
def settings():  # as stored: reading 'backend' through rcParams would pick one
    return {k: dict.__getitem__(matplotlib.rcParams, k) for k in matplotlib.rcParams}
before = settings()
import bench, gradients, bench.plot, bench.train.plot, bench.pipeline, bench.cli
after = settings()
changed = [k for k in before if not (after[k] is before[k] or after[k] == before[k])]
assert not changed, f"an import changed matplotlib.rcParams: {changed}"
assert "matplotlib.pyplot" not in sys.modules, "an import loaded pyplot (and picked a backend)"
"""


def test_importing_gradbench_changes_no_matplotlib_setting():
    code = "import sys\n" + IMPORTS
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_drawing_restores_matplotlib_settings(tmp_path, results_frame):
    import matplotlib

    from bench import plot

    df = results_frame([1, 2, 4], [8], methods=("backprop",))
    before = {k: v for k, v in matplotlib.rcParams.items() if k != "backend"}
    plot.draw(df, None, "d", tmp_path, formats="png", style="slides")
    assert {k: v for k, v in matplotlib.rcParams.items() if k != "backend"} == before
