"""bench.train and `gradbench train`: naive and backprop train alike, defaults as documented.

Bad input is refused in one line."""

import csv
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import gradients
from bench import train as training
from bench.errors import UserError
from gradients import data
from gradients.train import OPTIMIZERS, AdaGrad, Adam, train

SMALL = dict(depth=2, width=4, input_dim=3, samples=100, epochs=8, batch_size=16, progress=False)
NET_AND_DATA = (gradients.Network.init([2, 3], seed=0), *gradients.make_data([2, 3], 5, seed=0))


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b))


# --- the acceptance criteria -------------------------------------------------------------


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_naive_and_backprop_follow_the_same_trajectory(optimizer):
    lr = 1e-2 if optimizer == "adam" else None  # Adam's default 1e-3 barely moves in 8 epochs
    a = training.run(method="backprop", optimizer=optimizer, lr=lr, **SMALL)
    b = training.run(method="naive", optimizer=optimizer, lr=lr, **SMALL)
    assert len(a) == len(b) == SMALL["epochs"] + 1
    # the trajectory moves: not a trivial match
    assert a[-1]["train_loss"] < 0.9 * a[0]["train_loss"]
    for x, y in zip(a, b):
        assert rel(x["train_loss"], y["train_loss"]) <= 1e-9, x["epoch"]
        assert rel(x["test_loss"], y["test_loss"]) <= 1e-9, x["epoch"]


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_every_optimizer_trains_the_default_task_tenfold(optimizer):
    rows = training.run(optimizer=optimizer, progress=False)  # every other setting at its default
    assert rows[-1]["epoch"] == training.DEFAULTS["epochs"]
    assert rows[0]["train_loss"] / rows[-1]["train_loss"] >= 10
    assert rows[-1]["test_loss"] < rows[0]["test_loss"]


DOCUMENTED_LR = {"sgd": 3e-2, "adam": 1e-3, "adagrad": 3e-2}  # the README's optimizer table


def readme_optimizer_table():
    """{optimizer: defaults cell} from the README's training section."""
    text = (Path(__file__).parents[2] / "README.md").read_text()
    section = text[text.index("## Training"):]
    return dict(re.findall(r"^\| `(\w+)`[^|\n]*\|[^|\n]*\| ([^|\n]*) \|$", section, flags=re.M))


def test_default_learning_rates_are_the_documented_ones():
    from bench.cli import cli

    table = readme_optimizer_table()
    lr_help = next(p.help for p in cli.commands["train"].params if p.name == "lr")
    assert set(table) == set(OPTIMIZERS) == set(DOCUMENTED_LR)
    for name, lr in DOCUMENTED_LR.items():
        written = f"{lr:.0e}".replace("e-0", "e-")  # 3e-2, as the README and --help write it
        assert table[name].startswith(f"lr {written}"), name
        assert f"{name} {written}" in lr_help, name
        assert OPTIMIZERS[name]().lr == lr, name  # what an optimizer built without lr uses
        rows = training.run(optimizer=name, **{**SMALL, "epochs": 0})
        assert rows[0]["lr"] == lr, name  # what `gradbench train` without --lr uses and records
    assert (Adam().beta1, Adam().beta2, Adam().eps) == (0.9, 0.999, 1e-8)
    assert AdaGrad().eps == 1e-10
    assert "betas (0.9, 0.999), eps 1e-8" in table["adam"]
    assert "eps 1e-10" in table["adagrad"]


# --- runs -------------------------------------------------------------------------------


def test_same_seed_same_run_other_seed_other_run():
    a = training.run(**SMALL, seed=5)
    b = training.run(**SMALL, seed=5)
    c = training.run(**SMALL, seed=6)
    assert [r["train_loss"] for r in a] == [r["train_loss"] for r in b]
    assert a[0]["train_loss"] != c[0]["train_loss"]


def test_divergence_is_one_line_naming_the_epoch_without_numpy_warnings(tmp_path, gradbench):
    out = tmp_path / "train.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy overflow warning would now fail the run
        code, stdout, err = gradbench("train", "--lr", "1e6", "--depth", "2", "--width", "4",
                                      "--input-dim", "3", "--samples", "100", "--batch-size", "16",
                                      "--epochs", "8", "--no-progress", "--out", str(out))
    assert code == 2
    assert stdout == ""
    assert err == ("gradbench: error: training diverged at epoch 3 (parameters or gradient "
                   "overflowed to inf or NaN, learning rate 1e+06); lower --lr\n")
    with open(out, newline="") as f:
        # the epochs before it are kept
        assert [r["epoch"] for r in csv.DictReader(f)] == ["0", "1", "2"]


def write(path, text):
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_train_on_a_csv_file(tmp_path):
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((60, 2))
    lines = ["u,v,target"] + [f"{p},{q},{max(p, 0) - q}" for p, q in Z]
    path = write(tmp_path / "d.csv", "\n".join(lines) + "\n")
    rows = training.run(data=str(path), target="target", depth=2, width=6, epochs=30,
                        progress=False)
    assert rows[0]["input_dim"] == 2
    assert rows[0]["n_train"] == 48
    assert rows[0]["n_test"] == 12
    assert rows[-1]["train_loss"] < 0.5 * rows[0]["train_loss"]


# --- the command ------------------------------------------------------------------------


def test_train_command_writes_rows_and_plot(tmp_path, gradbench):
    out, png = tmp_path / "r" / "train.csv", tmp_path / "p" / "train.png"
    code, stdout, _ = gradbench("train", "--method", "backprop", "--optimizer", "adam",
                                "--depth", "3", "--width", "16", "--epochs", "5",
                                "--batch-size", "32", "--lr", "1e-2", "--seed", "0",
                                "--out", str(out), "--plot", str(png), "--no-progress")
    assert code == 0
    assert "backprop/adam" in stdout
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == training.COLUMNS
    assert [int(r["epoch"]) for r in rows] == list(range(6))
    assert {r["optimizer"] for r in rows} == {"adam"}
    assert float(rows[0]["lr"]) == 1e-2
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_choices_are_the_registries():
    from bench.cli import cli

    choices = {p.name: list(p.type.choices) for p in cli.commands["train"].params
               if hasattr(p.type, "choices")}
    assert choices == {"optimizer": list(OPTIMIZERS), "activation": list(gradients.ACTIVATIONS)}
    # a comma list: a race
    [method] = [p for p in cli.commands["train"].params if p.name == "method"]
    assert all(m in method.help for m in gradients.METHODS)


@pytest.mark.parametrize("settings, library", [
    (dict(batch_size=0), lambda: train(*NET_AND_DATA, batch_size=0)),
    (dict(epochs=-1), lambda: train(*NET_AND_DATA, epochs=-1)),
    (dict(lr=-1.0), lambda: train(*NET_AND_DATA, lr=-1.0)),
    (dict(method="magic"), lambda: train(*NET_AND_DATA, method="magic")),
    (dict(optimizer="rmsprop"), lambda: train(*NET_AND_DATA, optimizer="rmsprop")),
    (dict(test_fraction=1.0), lambda: data.split(*NET_AND_DATA[1:], 1.0, np.random.default_rng(0))),
    (dict(noise=float("inf")), lambda: data.teacher_task(NET_AND_DATA[0], 5, float("inf"), None)),
    (dict(samples=0), lambda: data.teacher_task(NET_AND_DATA[0], 0, 0.0, None)),
])
def test_run_refuses_with_the_library_message(settings, library):
    with pytest.raises(ValueError) as want:
        library()
    with pytest.raises(UserError) as got:
        training.run(**{**SMALL, **settings})
    assert str(got.value) == str(want.value)  # one check, one message, wherever it is called from


def test_outputs_are_checked_before_training(tmp_path, monkeypatch, gradbench):
    calls = []
    monkeypatch.setattr(gradients.train, "gradient", lambda *a, **k: calls.append(1))
    (tmp_path / "file").write_text("")
    out = tmp_path / "keep.csv"
    out.write_text("old rows\n")
    refused = [(["--plot", str(tmp_path / "file" / "t.png")], "a parent of it is a file"),
               (["--plot", "/proc/gradbench/t.png"], "/proc/gradbench/t.png: cannot write"),
               (["--plot", str(tmp_path / "t.xyz")], "cannot draw a .xyz file; use one of"),
               (["--out", str(tmp_path / "file" / "r.csv")], "a parent of it is a file"),
               (["--out", str(tmp_path)], "is a directory")]  # click's own check
    for args, message in refused:
        code, stdout, err = gradbench("train", "--no-progress", "--out", str(out), *args)
        assert code == 2, err
        assert stdout == "", err
        assert err.count("\n") == 1, err
        assert message in err, err
    for where in ("out", "plot"):
        with pytest.raises(UserError, match="cannot write \\(it is a folder\\)"):
            training.run(**{**SMALL, where: tmp_path})
    assert calls == []  # no training started
    assert out.read_text() == "old rows\n"  # and no output was replaced
    # no scratch file left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "keep.csv"]


def test_plot_format_follows_the_suffix(tmp_path, gradbench):
    svg = tmp_path / "new" / "curves.svg"
    code, _, _ = gradbench("train", "--epochs", "2", "--no-progress", "--plot", str(svg))
    assert code == 0
    assert b"<svg" in svg.read_bytes()[:500]
    assert sorted(p.name for p in svg.parent.iterdir()) == ["curves.svg"]


def test_cli_defaults_are_the_library_defaults():
    from bench.cli import cli

    params = {p.name: p.default for p in cli.commands["train"].params}
    for name, value in training.DEFAULTS.items():
        assert params[name] == value, name


def test_interrupted_run_leaves_the_finished_epochs(tmp_path, monkeypatch, gradbench):
    calls = []
    real = gradients.gradient

    def interrupting(net, X, y, method):
        calls.append(1)
        if len(calls) > 20:  # inside epoch 2 of 13 batches each
            raise KeyboardInterrupt
        return real(net, X, y, method=method)

    monkeypatch.setattr(gradients.train, "gradient", interrupting)
    out = tmp_path / "train.csv"
    code, _, err = gradbench("train", "--out", str(out), "--no-progress")
    assert code == 130
    assert "interrupted" in err
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert all(r["test_fraction"] == "0.2" for r in rows)


BAD_CSV = {
    "good.csv": ("a,b,y\n1,2,3\n4,5,6\n", None),
    "letters.csv": ("a,b,y\n1,2,3\n4,x5,6\n",
                    "letters.csv: line 3, column 'b': 'x5' is not a number"),
    "nan.csv": ("a,b,y\n1,2,3\n4,NaN,6\n", "line 3, column 'b': missing value (NaN)"),
    "blank.csv": ("a,b,y\n1,,3\n", "line 2, column 'b': empty cell"),
    "inf.csv": ("a,b,y\n1,2,inf\n", "line 2, column 'y': 'inf' is not finite"),
    # line numbers are the file's: blank lines (before the header too) and a two-line quoted cell
    # count
    "gaps.csv": ("\na,b,y\n\n1,2,3\n\n\n4,x5,6\n",
                 "gaps.csv: line 7, column 'b': 'x5' is not a number"),
    "quoted.csv": ('a,"b\nc",y\n1,2,3\n4,5,\n', "line 4, column 'y': empty cell"),
    "dup.csv": ("a,b,a,y\n1,2,3,4\n", "dup.csv: line 1: duplicate column name 'a'"),
    "spaced.csv": ("a, a ,y\n1,2,3\n", "duplicate column name 'a'"),
    "unnamed.csv": ("a,,y\n1,2,3\n", "line 1: column 2 has no name"),
    "ragged.csv": ("a,b,y\n1,2,3\n4,5\n", "line 3 has 2 fields, the header has 3"),
    # not a blank line
    "emptyrow.csv": ("a,b,y\n1,2,3\n,,\n4,5,6\n", "line 3, column 'a': empty cell"),
    "underscore.csv": ("a,b,y\n1_000,2,3\n", "line 2, column 'a': '1_000' is not a number"),
    "binary.csv": (b"a,b,y\n\xff\xfe,1,2\n", "binary.csv: not a CSV file"),
    "header.csv": ("a,b,y\n", "empty data set"),
    "empty.csv": ("", "empty data set"),
    "only.csv": ("y\n1\n2\n", "no feature columns"),
    "notarget.csv": ("a,b,c\n1,2,3\n", "no target column 'y'"),
}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--batch-size", "0"], "batch size must be an integer >= 1"),
        (["--lr", "0"], "learning rate must be a finite number > 0"),
        (["--lr", "-0.1"], "learning rate"),
        (["--lr", "nan"], "learning rate"),
        (["--epochs", "-1"], "epochs must be an integer >= 0"),
        (["--depth", "0"], "depth must be >= 1"),
        (["--width", "0"], "width must be >= 1"),
        (["--samples", "0"], "samples must be >= 1"),
        (["--samples", "1", "--test-fraction", "0.6"], "empty data set"),
        (["--test-fraction", "1"], "test fraction"),
        (["--noise", "-1"], "noise must be a finite number >= 0, got -1.0"),
        (["--noise", "inf"], "noise must be a finite number >= 0, got inf"),
        (["--input-dim", "0"], "every width must be >= 1, got [0, 8, 8, 8]"),
        (["--method", "magic"], "unknown method 'magic' (choose from backprop, naive, numerical"),
        (["--optimizer", "rmsprop"], "'rmsprop' is not one of 'sgd', 'adam', 'adagrad'"),
        (["--activation", "tanh"], "'tanh' is not one of 'relu', 'identity'"),
        (["--epochs", "two"], "'two' is not a valid integer"),
        (["--target", "y"], "--data and --target go together"),
        (["--data", "NOFILE.csv", "--target", "y"], "no such file"),
        (["--data", "good.csv", "--target", "y", "--input-dim", "5"],
         "2 feature columns but --input-dim is 5"),
        *[(["--data", name, "--target", "y"], message)
          for name, (_, message) in BAD_CSV.items() if message],
    ],
)
def test_bad_input_is_one_line_and_status_2(args, message, tmp_path, gradbench, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, (text, _) in BAD_CSV.items():
        write(tmp_path / name, text)
    code, out, err = gradbench("train", "--epochs", "1", "--no-progress", *args)
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("gradbench: error: ")
    assert "Traceback" not in err
    assert message in err
