"""Training: the lecture's mini-batch loop, the optimizers' update rules, data loading, and `gradbench train`."""

import csv
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import gradients
from bench import train as training
from bench.cli import main
from bench.errors import UserError
from gradients import data
from gradients.train import OPTIMIZERS, SGD, AdaGrad, Adam, batches, fit, params_of

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
    assert a[-1]["train_loss"] < 0.9 * a[0]["train_loss"]  # the trajectory moves: not a trivial match
    for x, y in zip(a, b):
        assert rel(x["train_loss"], y["train_loss"]) <= 1e-9, x["epoch"]
        assert rel(x["test_loss"], y["test_loss"]) <= 1e-9, x["epoch"]


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_every_optimizer_trains_the_default_task_tenfold(optimizer):
    rows = training.run(optimizer=optimizer, progress=False)  # every other setting at its default
    assert rows[-1]["epoch"] == training.DEFAULTS["epochs"]
    assert rows[0]["train_loss"] / rows[-1]["train_loss"] >= 10
    assert rows[-1]["test_loss"] < rows[0]["test_loss"]


# --- optimizers: hand-computed steps ----------------------------------------------------


def scalar_steps(opt, grads, theta=1.0):
    params = [np.array(theta)]
    out = []
    for g in grads:
        params = opt.step(params, [np.array(g)])
        out.append(float(params[0]))
    return out


def test_sgd_step_is_theta_minus_eta_g():
    params = [np.array([[1.0, -2.0]]), np.array([0.5]), np.array(0.25)]
    grads = [np.array([[0.5, 1.0]]), np.array([-2.0]), np.array(4.0)]
    new = SGD(lr=0.1).step(params, grads)
    assert np.allclose(new[0], [[0.95, -2.1]]) and np.allclose(new[1], [0.7]) and np.isclose(new[2], -0.15)
    assert params[0][0, 0] == 1.0  # no update in place


def test_adam_matches_hand_computed_steps():
    # lr 0.1, theta 1, g1 = 2, g2 = -1, betas (0.9, 0.999), eps 1e-8
    # t=1: m = 0.2, v = 0.004; m_hat = 0.2/0.1 = 2, v_hat = 0.004/0.001 = 4
    #      theta = 1 - 0.1 * 2 / (2 + 1e-8) = 0.9000000005
    # t=2: m = 0.18 - 0.1 = 0.08, v = 0.003996 + 0.001 = 0.004996
    #      m_hat = 0.08 / 0.19 = 0.42105263, v_hat = 0.004996 / 0.001999 = 2.49924962, sqrt = 1.58090152
    #      theta = 0.9000000005 - 0.1 * 0.42105263 / 1.58090152 = 0.9 - 0.02663370 = 0.87336630
    got = scalar_steps(Adam(lr=0.1), [2.0, -1.0])
    assert got[0] == pytest.approx(0.9000000005, abs=1e-12)
    assert got[1] == pytest.approx(0.87336630, abs=1e-8)


def test_adagrad_matches_hand_computed_steps():
    # lr 0.1, theta 1, g1 = 2, g2 = -1, eps 1e-10
    # t=1: sum = 4, theta = 1 - 0.1 * 2 / (2 + 1e-10) = 0.9 (+5e-12)
    # t=2: sum = 5, theta = 0.9 + 0.1 / sqrt(5) = 0.9 + 0.04472136 = 0.94472136
    got = scalar_steps(AdaGrad(lr=0.1), [2.0, -1.0])
    assert got[0] == pytest.approx(0.9, abs=1e-10)
    assert got[1] == pytest.approx(0.94472136, abs=1e-8)


def test_adaptive_optimizers_scale_each_parameter_on_its_own():
    params = [np.array([[0.0, 0.0]]), np.array([0.0]), np.array(0.0)]
    grads = [np.array([[1e-3, -50.0]]), np.array([7.0]), np.array(0.0)]
    for opt in (Adam(lr=0.01), AdaGrad(lr=0.01)):
        new = opt.step(params, grads)
        # first step: lr * sign(g) whatever |g| is, up to eps (zero gradient: no move)
        assert np.allclose(new[0], [[-0.01, 0.01]], rtol=1e-4) and np.allclose(new[1], [-0.01], rtol=1e-4)
        assert float(new[2]) == 0.0


DOCUMENTED_LR = {"sgd": 3e-2, "adam": 1e-3, "adagrad": 3e-2}  # the README's optimizer table


def readme_optimizer_table():
    """{optimizer: defaults cell} from the README's training section."""
    text = (Path(__file__).parents[1] / "README.md").read_text()
    section = text[text.index("## Training"):]
    return dict(re.findall(r"^\| `(\w+)`[^|\n]*\|[^|\n]*\| ([^|\n]*) \|$", section, flags=re.M))


def test_default_learning_rates_are_the_documented_ones():
    from bench.cli import cli

    table = readme_optimizer_table()
    lr_help = next(p.help for p in cli.commands["train"].params if p.name == "lr")
    assert set(table) == set(OPTIMIZERS) == set(DOCUMENTED_LR)
    for name, lr in DOCUMENTED_LR.items():
        written = f"{lr:.0e}".replace("e-0", "e-")  # 3e-2, as the README and --help write it
        assert table[name].startswith(f"lr {written}") and f"{name} {written}" in lr_help, name
        assert OPTIMIZERS[name]().lr == lr, name  # what an optimizer built without lr uses
        rows = training.run(optimizer=name, **{**SMALL, "epochs": 0})
        assert rows[0]["lr"] == lr, name  # what `gradbench train` without --lr uses and records
    assert (Adam().beta1, Adam().beta2, Adam().eps) == (0.9, 0.999, 1e-8) and AdaGrad().eps == 1e-10
    assert "betas (0.9, 0.999), eps 1e-8" in table["adam"] and "eps 1e-10" in table["adagrad"]


# --- the loop -------------------------------------------------------------------------


def test_batches_shuffle_and_last_batch_is_smaller():
    parts = batches(10, 4, np.random.default_rng(0))
    assert [len(p) for p in parts] == [4, 4, 2]
    assert sorted(np.concatenate(parts)) == list(range(10))
    again = batches(10, 4, np.random.default_rng(0))
    assert all(np.array_equal(p, q) for p, q in zip(parts, again))  # seeded
    assert [len(p) for p in batches(3, 8, np.random.default_rng(0))] == [3]


def test_fit_calls_the_gradient_once_per_batch_with_the_batch_itself(monkeypatch):
    seen = []
    real = gradients.gradient

    def spy(net, X, y, method):
        seen.append((len(y), method))
        return real(net, X, y, method=method)

    monkeypatch.setattr(gradients, "gradient", spy)
    net = gradients.Network.init([3, 4, 4], seed=1)
    X, y = gradients.make_data([3, 4, 4], 10, seed=2)
    rows = list(fit(net, X, y, method="naive", epochs=2, batch_size=4, rng=np.random.default_rng(0)))
    assert seen == [(4, "naive"), (4, "naive"), (2, "naive")] * 2
    assert [r.epoch for r in rows] == [0, 1, 2]
    assert rows[0].seconds == rows[0].gradient_seconds == 0.0
    assert all(0 < r.gradient_seconds <= r.seconds for r in rows[1:])


def test_one_full_batch_epoch_is_one_gradient_step():
    widths = [3, 5, 5]
    net = gradients.Network.init(widths, seed=3)
    X, y = gradients.make_data(widths, 12, seed=4)
    rows = list(fit(net, X, y, optimizer="sgd", lr=0.05, epochs=1, batch_size=12, rng=np.random.default_rng(0)))
    g = gradients.gradient(net, X, y, method="backprop")
    want = [p - 0.05 * q for p, q in zip(params_of(net), [*g.weights, g.alpha, np.asarray(g.b)])]
    for p, q in zip(params_of(rows[-1].net), want):
        assert np.allclose(p, q, rtol=1e-12, atol=1e-14)
    assert rows[0].net is net and params_of(net)[0] is net.weights[0]  # the starting network is untouched
    assert rows[-1].train_loss == pytest.approx(gradients.loss(rows[-1].net, X, y))


def test_same_seed_same_run_other_seed_other_run():
    a = training.run(**SMALL, seed=5)
    b = training.run(**SMALL, seed=5)
    c = training.run(**SMALL, seed=6)
    assert [r["train_loss"] for r in a] == [r["train_loss"] for r in b]
    assert a[0]["train_loss"] != c[0]["train_loss"]


def test_fit_refuses_bad_arguments():
    net = gradients.Network.init([2, 3], seed=0)
    X, y = gradients.make_data([2, 3], 5, seed=0)
    for kwargs, match in [(dict(batch_size=0), "batch size"), (dict(epochs=-1), "epochs"),
                          (dict(lr=0.0), "learning rate"), (dict(lr=-1.0), "learning rate"),
                          (dict(method="magic"), "method"), (dict(optimizer="rmsprop"), "optimizer")]:
        with pytest.raises(ValueError, match=match):
            fit(net, X, y, **kwargs)
    with pytest.raises(ValueError, match="empty data set"):
        fit(net, X[:0], y[:0])
    with pytest.raises(ValueError, match="training set: y has non-finite"):
        fit(net, X, np.full(5, np.nan))
    with pytest.raises(ValueError, match=r"test set: X must have shape \(batch >= 1, 2\)"):
        fit(net, X, y, X_test=X[:, :1], y_test=y)


def test_divergence_is_one_line_naming_the_epoch_without_numpy_warnings(tmp_path, capsys):
    out = tmp_path / "train.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy overflow warning would now fail the run
        code, stdout, err = gradbench(capsys, "train", "--lr", "1e6", "--depth", "2", "--width", "4",
                                      "--input-dim", "3", "--samples", "100", "--batch-size", "16",
                                      "--epochs", "8", "--no-progress", "--out", str(out))
    assert code == 2 and stdout == ""
    assert err == ("gradbench: error: training diverged at epoch 3 (parameters or gradient overflowed to inf or NaN, "
                   "learning rate 1e+06); lower --lr\n")
    with open(out, newline="") as f:
        assert [r["epoch"] for r in csv.DictReader(f)] == ["0", "1", "2"]  # the epochs before it are kept


def test_divergence_of_the_loss_alone_is_caught_too():
    net = gradients.Network.init([3, 4, 4], seed=0)
    X, y = gradients.make_data([3, 4, 4], 80, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^training diverged at epoch \d+ \(train loss inf, "
                                              r"learning rate 1000\); lower --lr$"):
            list(fit(net, X, y, lr=1e3, epochs=50, batch_size=16))


# --- data -----------------------------------------------------------------------------


def write(path, text):
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_csv_task_standardises_with_training_statistics(tmp_path):
    rng = np.random.default_rng(0)
    Z = rng.normal(5.0, 3.0, size=(40, 3))
    lines = ["a,y,b,c"] + [f"{p},{2 * p - q},{q},{r}" for p, q, r in Z]
    path = write(tmp_path / "d.csv", "\n".join(lines) + "\n")
    X, y, names = data.load_csv(path, "y")
    assert names == ["a", "b", "c"] and X.shape == (40, 3) and np.allclose(y, 2 * Z[:, 0] - Z[:, 1])
    task = data.csv_task(path, "y", 0.25, seed=0)
    assert len(task.y_train) == 30 and len(task.y_test) == 10
    assert np.allclose(task.X_train.mean(axis=0), 0) and np.allclose(task.X_train.std(axis=0), 1)
    assert np.isclose(task.y_train.mean(), 0) and np.isclose(task.y_train.std(), 1)


def test_train_on_a_csv_file(tmp_path):
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((60, 2))
    lines = ["u,v,target"] + [f"{p},{q},{max(p, 0) - q}" for p, q in Z]
    path = write(tmp_path / "d.csv", "\n".join(lines) + "\n")
    rows = training.run(data=str(path), target="target", depth=2, width=6, epochs=30, progress=False)
    assert rows[0]["input_dim"] == 2 and rows[0]["n_train"] == 48 and rows[0]["n_test"] == 12
    assert rows[-1]["train_loss"] < 0.5 * rows[0]["train_loss"]


def test_synthetic_task_is_seeded_and_noisy_on_request():
    a = data.synthetic_task([3, 4, 4], 50, 0.0, 0.2, seed=0)
    b = data.synthetic_task([3, 4, 4], 50, 0.0, 0.2, seed=0)
    c = data.synthetic_task([3, 4, 4], 50, 0.5, 0.2, seed=0)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_test, b.y_test)
    assert np.array_equal(a.X_train, c.X_train) and not np.allclose(a.y_train, c.y_train)
    assert len(a.y_train) == 40 and len(a.y_test) == 10


# --- the command ------------------------------------------------------------------------


def gradbench(capsys, *args):
    with pytest.raises(SystemExit) as e:
        main(list(args))
    out, err = capsys.readouterr()
    return e.value.code, out, err


def test_train_command_writes_rows_and_plot(tmp_path, capsys):
    out, png = tmp_path / "r" / "train.csv", tmp_path / "p" / "train.png"
    code, stdout, _ = gradbench(capsys, "train", "--method", "backprop", "--optimizer", "adam", "--depth", "3",
                                "--width", "16", "--epochs", "5", "--batch-size", "32", "--lr", "1e-2", "--seed", "0",
                                "--out", str(out), "--plot", str(png), "--no-progress")
    assert code == 0 and "backprop/adam" in stdout
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == training.COLUMNS
    assert [int(r["epoch"]) for r in rows] == list(range(6))
    assert {r["optimizer"] for r in rows} == {"adam"} and float(rows[0]["lr"]) == 1e-2
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_choices_are_the_registries():
    from bench.cli import cli

    choices = {p.name: list(p.type.choices) for p in cli.commands["train"].params if hasattr(p.type, "choices")}
    assert choices == {"method": list(gradients.METHODS), "optimizer": list(OPTIMIZERS),
                       "activation": list(gradients.ACTIVATIONS)}


@pytest.mark.parametrize("settings, library", [
    (dict(batch_size=0), lambda: fit(*NET_AND_DATA, batch_size=0)),
    (dict(epochs=-1), lambda: fit(*NET_AND_DATA, epochs=-1)),
    (dict(lr=-1.0), lambda: fit(*NET_AND_DATA, lr=-1.0)),
    (dict(method="magic"), lambda: fit(*NET_AND_DATA, method="magic")),
    (dict(optimizer="rmsprop"), lambda: fit(*NET_AND_DATA, optimizer="rmsprop")),
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


def test_outputs_are_checked_before_training(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(gradients, "gradient", lambda *a, **k: calls.append(1))
    (tmp_path / "file").write_text("")
    out = tmp_path / "keep.csv"
    out.write_text("old rows\n")
    for args, message in [(["--plot", str(tmp_path / "file" / "t.png")], "a parent of it is a file"),
                          (["--plot", "/proc/gradbench/t.png"], "/proc/gradbench/t.png: cannot write"),
                          (["--plot", str(tmp_path / "t.xyz")], "cannot draw a .xyz file; use one of"),
                          (["--out", str(tmp_path / "file" / "r.csv")], "a parent of it is a file"),
                          (["--out", str(tmp_path)], "is a directory")]:  # click's own check
        code, stdout, err = gradbench(capsys, "train", "--no-progress", "--out", str(out), *args)
        assert code == 2 and stdout == "" and err.count("\n") == 1 and message in err, err
    for where in ("out", "plot"):
        with pytest.raises(UserError, match="cannot write \\(it is a folder\\)"):
            training.run(**{**SMALL, where: tmp_path})
    assert calls == []  # no training started
    assert out.read_text() == "old rows\n"  # and no output was replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "keep.csv"]  # no scratch file left


def test_plot_format_follows_the_suffix(tmp_path, capsys):
    svg = tmp_path / "new" / "curves.svg"
    code, _, _ = gradbench(capsys, "train", "--epochs", "2", "--no-progress", "--plot", str(svg))
    assert code == 0 and b"<svg" in svg.read_bytes()[:500]
    assert sorted(p.name for p in svg.parent.iterdir()) == ["curves.svg"]


def test_cli_defaults_are_the_library_defaults():
    from bench.cli import cli

    params = {p.name: p.default for p in cli.commands["train"].params}
    for name, value in training.DEFAULTS.items():
        assert params[name] == value, name


def test_interrupted_run_leaves_the_finished_epochs(tmp_path, monkeypatch, capsys):
    calls = []
    real = gradients.gradient

    def interrupting(net, X, y, method):
        calls.append(1)
        if len(calls) > 20:  # inside epoch 2 of 13 batches each
            raise KeyboardInterrupt
        return real(net, X, y, method=method)

    monkeypatch.setattr(gradients, "gradient", interrupting)
    out = tmp_path / "train.csv"
    code, _, err = gradbench(capsys, "train", "--out", str(out), "--no-progress")
    assert code == 130 and "interrupted" in err
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1"] and all(r["test_fraction"] == "0.2" for r in rows)


BAD_CSV = {
    "good.csv": ("a,b,y\n1,2,3\n4,5,6\n", None),
    "letters.csv": ("a,b,y\n1,2,3\n4,x5,6\n", "letters.csv: line 3, column 'b': 'x5' is not a number"),
    "nan.csv": ("a,b,y\n1,2,3\n4,NaN,6\n", "line 3, column 'b': missing value (NaN)"),
    "blank.csv": ("a,b,y\n1,,3\n", "line 2, column 'b': empty cell"),
    "inf.csv": ("a,b,y\n1,2,inf\n", "line 2, column 'y': 'inf' is not finite"),
    # line numbers are the file's: blank lines (before the header too) and a two-line quoted cell count
    "gaps.csv": ("\na,b,y\n\n1,2,3\n\n\n4,x5,6\n", "gaps.csv: line 7, column 'b': 'x5' is not a number"),
    "quoted.csv": ('a,"b\nc",y\n1,2,3\n4,5,\n', "line 4, column 'y': empty cell"),
    "dup.csv": ("a,b,a,y\n1,2,3,4\n", "dup.csv: line 1: duplicate column name 'a'"),
    "spaced.csv": ("a, a ,y\n1,2,3\n", "duplicate column name 'a'"),
    "unnamed.csv": ("a,,y\n1,2,3\n", "line 1: column 2 has no name"),
    "ragged.csv": ("a,b,y\n1,2,3\n4,5\n", "line 3 has 2 fields, the header has 3"),
    "emptyrow.csv": ("a,b,y\n1,2,3\n,,\n4,5,6\n", "line 3, column 'a': empty cell"),  # not a blank line
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
        (["--method", "magic"], "'magic' is not one of 'backprop', 'naive', 'numerical'"),
        (["--optimizer", "rmsprop"], "'rmsprop' is not one of 'sgd', 'adam', 'adagrad'"),
        (["--activation", "tanh"], "'tanh' is not one of 'relu', 'identity'"),
        (["--epochs", "two"], "'two' is not a valid integer"),
        (["--target", "y"], "--data and --target go together"),
        (["--data", "NOFILE.csv", "--target", "y"], "no such file"),
        (["--data", "good.csv", "--target", "y", "--input-dim", "5"], "2 feature columns but --input-dim is 5"),
        *[(["--data", name, "--target", "y"], message) for name, (_, message) in BAD_CSV.items() if message],
    ],
)
def test_bad_input_is_one_line_and_status_2(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, (text, _) in BAD_CSV.items():
        write(tmp_path / name, text)
    code, out, err = gradbench(capsys, "train", "--epochs", "1", "--no-progress", *args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("gradbench: error: ") and "Traceback" not in err
    assert message in err
