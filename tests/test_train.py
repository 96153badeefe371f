"""Training: the lecture's mini-batch loop, the optimizers' update rules, data loading, and `gradbench train`."""

import csv

import numpy as np
import pytest

import gradients
from bench import train as training
from bench.cli import main
from gradients import data
from gradients.train import OPTIMIZERS, SGD, AdaGrad, Adam, batches, fit, params_of

SMALL = dict(depth=2, width=4, input_dim=3, samples=100, epochs=8, batch_size=16, progress=False)


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


def test_default_learning_rates():
    assert Adam().lr == 1e-3 and (Adam().beta1, Adam().beta2, Adam().eps) == (0.9, 0.999, 1e-8)
    assert AdaGrad().eps == 1e-10
    assert SGD(lr=0.5).lr == 0.5


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
    with pytest.raises(ValueError, match="non-finite"):
        fit(net, X, np.full(5, np.nan))


# --- data -----------------------------------------------------------------------------


def write(path, text):
    path.write_text(text)
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
    "letters.csv": ("a,b,y\n1,2,3\n4,x5,6\n", "row 2, column 'b': 'x5' is not a number"),
    "nan.csv": ("a,b,y\n1,2,3\n4,NaN,6\n", "row 2, column 'b': missing value"),
    "blank.csv": ("a,b,y\n1,,3\n", "row 1, column 'b': empty cell"),
    "inf.csv": ("a,b,y\n1,2,inf\n", "row 1, column 'y': 'inf' is not finite"),
    "header.csv": ("a,b,y\n", "empty data set"),
    "empty.csv": ("", "empty data set"),
    "only.csv": ("y\n1\n2\n", "no feature columns"),
    "notarget.csv": ("a,b,c\n1,2,3\n", "no target column 'y'"),
}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--batch-size", "0"], "batch size must be >= 1"),
        (["--lr", "0"], "learning rate must be a finite number > 0"),
        (["--lr", "-0.1"], "learning rate"),
        (["--lr", "nan"], "learning rate"),
        (["--epochs", "-1"], "epochs must be >= 0"),
        (["--depth", "0"], "depth must be >= 1"),
        (["--width", "0"], "width must be >= 1"),
        (["--samples", "0"], "samples must be >= 1"),
        (["--samples", "1", "--test-fraction", "0.6"], "empty data set"),
        (["--test-fraction", "1"], "test fraction"),
        (["--noise", "-1"], "noise"),
        (["--method", "magic"], "unknown method 'magic'"),
        (["--optimizer", "rmsprop"], "unknown optimizer 'rmsprop'"),
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
