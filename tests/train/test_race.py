"""`gradbench train --method naive,backprop`: a race from one seed, one figure, one trajectory."""

import csv

import pytest
from helpers import svg_texts

from bench.train import race

SMALL = [
    "--depth",
    "2",
    "--width",
    "4",
    "--input-dim",
    "3",
    "--samples",
    "100",
    "--epochs",
    "8",
    "--batch-size",
    "16",
    "--no-progress",
]


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_race_trains_each_method_from_one_seed_to_the_same_losses(tmp_path, gradbench):
    out, pdf = tmp_path / "race.csv", tmp_path / "race.pdf"
    code, stdout, _ = gradbench(
        "train", "--method", "naive,backprop", *SMALL, "--out", out, "--plot", pdf
    )
    assert code == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    rows = _rows(out)
    naive = [r for r in rows if r["method"] == "naive"]
    backprop = [r for r in rows if r["method"] == "backprop"]
    assert (
        [r["epoch"] for r in naive] == [r["epoch"] for r in backprop] == [str(e) for e in range(9)]
    )
    assert float(naive[-1]["train_loss"]) < 0.9 * float(
        naive[0]["train_loss"]
    )  # it moved: not a trivial match
    for a, b in zip(naive, backprop):
        for key in ("train_loss", "test_loss"):
            x, y = float(a[key]), float(b[key])
            assert abs(x - y) <= 1e-9 * max(abs(x), abs(y)), (a["epoch"], key)
    assert "the same trajectory (losses agree within" in stdout
    assert "time relative to backprop: naive " in stdout


def test_the_race_figure_gives_each_method_its_time_against_backprop(tmp_path, gradbench):
    svg = tmp_path / "race.svg"
    assert gradbench("train", "--method", "backprop,naive", *SMALL, "--plot", svg).code == 0
    texts = svg_texts(svg.read_text())
    assert any(t.startswith("naive: ") and t.endswith("x backprop's time") for t in texts)
    assert any(t.startswith("backprop: ") and t.endswith(" s") for t in texts)
    assert {"Loss against time", "Loss against epochs: the same trajectory", "epoch"} <= set(texts)


@pytest.mark.parametrize(
    "methods, says", [("naive,foo", "unknown method 'foo'"), (",", "empty list")]
)
def test_a_bad_method_list_is_one_line_and_exit_2(tmp_path, gradbench, methods, says):
    code, _, err = gradbench("train", "--method", methods, *SMALL, "--plot", tmp_path / "r.png")
    assert code == 2
    assert says in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.png").exists()


def test_max_disagreement_and_ratios():
    runs = {
        "naive": [
            dict(seconds=0.0, train_loss=2.0, test_loss=1.0),
            dict(seconds=3.0, train_loss=1.0, test_loss=0.5),
        ],
        "backprop": [
            dict(seconds=0.0, train_loss=2.0, test_loss=1.0),
            dict(seconds=1.0, train_loss=1.0 + 1e-6, test_loss=0.5),
        ],
    }
    assert race.max_disagreement(runs) == pytest.approx(1e-6, rel=1e-5)
    assert race.ratios(runs) == {"naive": 3.0, "backprop": 1.0}


def test_the_race_figure_is_a_figure_a_notebook_shows():
    from bench.train.plot import race_figure

    runs = race.run(["naive", "backprop"], depth=2, width=3, epochs=2, samples=20, progress=False)
    fig = race_figure(runs)
    assert len(fig.axes) == 2
    assert fig._repr_png_().startswith(b"\x89PNG")  # what Jupyter shows when a cell returns it
