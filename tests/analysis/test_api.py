"""bench's Python API: a results file or a sweep gives data, fits, figures, file and report."""

import pytest
from matplotlib.figure import Figure

import bench
from bench import api, fit
from bench.errors import UserError


@pytest.fixture
def results(tmp_path, results_frame, write_csv):
    path = write_csv(
        tmp_path / "d.csv", results_frame([1, 2, 4, 8], [8], methods=("naive", "backprop"))
    )
    return bench.load(path)


def test_load_gives_the_rows_and_the_fits_the_command_line_gives(results):
    assert len(results.df) == 8
    assert results.fit().equals(fit.fit_results(results.df))


def test_plot_returns_a_figure_that_jupyter_shows(results):
    fig = results.plot("ops", style="slides")
    assert isinstance(fig, Figure)
    assert fig.get_size_inches().tolist() == [12.5, 6.2]
    assert fig._repr_png_().startswith(b"\x89PNG")  # IPython's inline display


@pytest.mark.parametrize(
    "kind, says",
    [
        ("vs-forward", "no vs-forward plot: no ok points of forward in d"),
        ("bogus", "no bogus figure of d: choose from time, speedup"),
    ],
)
def test_a_figure_the_data_cannot_draw_says_why(results, kind, says):
    with pytest.raises(UserError, match=says):
        results.plot(kind)


def test_save_writes_the_file_byte_for_byte_and_report_writes_markdown(results, tmp_path,
                                                                       only_kinds):
    only_kinds("time")
    saved = results.save(tmp_path / "copy" / "d.csv")
    assert saved.read_bytes() == results.path.read_bytes()
    md = results.report(tmp_path / "r" / "d.md")
    assert md.read_text().startswith("#")
    assert (tmp_path / "r" / "plots" / "d-time.png").is_file()


@pytest.mark.parametrize(
    "value, text",
    [
        (8, "8"),
        ([1, 2, 4], "1,2,4"),
        (range(2, 7, 2), "2,4,6"),
        ("1:64:x2", "1:64:x2"),
        (None, None),
    ],
)
def test_ranges_as_python_values(value, text):
    assert api._range(value) == text


def test_run_sweep_keeps_the_command_lines_guarantees(tmp_path):
    out = tmp_path / "d.csv"
    out.write_text("not mine\n")
    with pytest.raises(UserError, match="already exists"):
        bench.run_sweep(out=out, depth=[1, 2], width=4)
    assert out.read_text() == "not mine\n"


def test_a_sweep_in_memory_fits_its_time_law_from_its_rounds():
    import bench

    out = bench.run_sweep(depth=[1, 2, 4], width=3, methods="backprop", profile="quick",
                          progress=False)
    time = out.fit(time_rule="all").query("quantity == 'time'")
    assert set(time["interval"]) == {"rounds"}  # read before the temporary folder went
