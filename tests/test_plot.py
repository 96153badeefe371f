"""plot: the figures say what the fits say; an output that cannot be written fails in one line."""

import xml.etree.ElementTree as ET

from bench import fit


def test_svg_has_labels_and_fit_legend(study):
    svg = (study / "plots" / "depth-time.svg").read_text()
    fits = fit.read_fits(study / "results" / "depth.fits.csv")
    naive = fits[(fits["method"] == "naive") & (fits["variable"] == "depth") & (fits["quantity"] == "time")].iloc[0]
    # svg.fonttype none: every string is a <text> element, not glyph paths (no DejaVuSans-* glyph ids)
    texts = {"".join(e.itertext()).strip() for e in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")}
    assert "time per call (s)" in texts
    assert "DejaVuSans-" not in svg
    assert any(t.startswith("depth L (weight matrices); ") for t in texts)
    assert f"k = {naive['k']:.2f} [{naive['k_lo']:.2f}, {naive['k_hi']:.2f}], theory 2" in texts


def test_plot_out_dir_that_cannot_be_made_fails_in_one_line_before_any_work(tmp_path, gradbench, unwritable,
                                                                           results_frame, write_csv):
    path = write_csv(tmp_path / "d.csv", results_frame([1, 2, 4, 8], [8]))
    for out_dir in unwritable:
        code, _, err = gradbench("plot", str(path), "--out-dir", str(out_dir))
        assert code == 2
        assert f"{out_dir / 'd-time.png'}: cannot write (" in err
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "d.fits.csv").exists()  # refused before fitting


def test_plot_figure_that_cannot_be_written_fails_in_one_line(tmp_path, gradbench, results_frame, write_csv):
    path = write_csv(tmp_path / "d.csv", results_frame([1, 2, 4, 8], [8]))
    (tmp_path / "p" / "d-time.svg").mkdir(parents=True)  # the second file written
    code, _, err = gradbench("plot", str(path), "--out-dir", str(tmp_path / "p"))
    assert code == 2
    assert f"{tmp_path / 'p' / 'd-time.svg'}: cannot write (" in err
    assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["d-time.png", "d-time.svg"]  # no .tmp left
