"""Training data: a seeded teacher-network regression task or a numeric CSV; split and standardise.

Bad input raises ValueError with a one-line message naming the problem (file, line, column).
"""

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gradients.network import Network


def teacher_task(teacher, n, noise, rng):
    """n examples of y = teacher(x) + noise * N(0, 1), with x standard normal."""
    if n < 1:
        raise ValueError(f"samples must be >= 1, got {n}")
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise}")
    X = rng.standard_normal((n, teacher.widths[0]))  # (n, d)
    with np.errstate(over="ignore", invalid="ignore"):  # refused below, in one line
        y = teacher.predict(X) + noise * rng.standard_normal(n)  # (n,)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"noise {noise:g} makes y overflow to inf: lower it")
    return X, y


def load_csv(path, target):
    """Read a numeric CSV file: `target` is y, every other column a feature: (X, y, feature names).

    Errors name the file's own line number (1 = the header, blank lines counted), which is what
    an editor shows; blank lines are skipped.
    """
    path = Path(path)
    if not path.is_file():  # a FIFO would block the read: refused as a folder or a device is
        raise ValueError(f"{path}: " + ("not a regular file" if path.exists() else "no such file"))
    header, rows, lines = _read_rows(path)
    if header is None:
        raise ValueError(f"{path}: empty data set (no header, no rows)")
    columns = [c.strip() for c in header]
    seen = set()
    for j, name in enumerate(columns):
        if name == "":
            raise ValueError(f"{path}: line {lines[0]}: column {j + 1} has no name")
        if name in seen:
            raise ValueError(f"{path}: line {lines[0]}: duplicate column name {name!r}")
        seen.add(name)
    if target not in columns:
        raise ValueError(f"{path}: no target column {target!r} (columns: {', '.join(columns)})")
    features = [c for c in columns if c != target]
    if not features:
        raise ValueError(f"{path}: no feature columns besides the target {target!r}")
    if not rows:
        raise ValueError(f"{path}: empty data set (a header but no rows)")
    for row, line in zip(rows, lines[1:]):
        if len(row) != len(columns):
            raise ValueError(f"{path}: line {line} has {len(row)} fields, "
                             f"the header has {len(columns)}")
    values = np.empty((len(rows), len(columns)))  # (n, columns)
    for j, name in enumerate(columns):
        values[:, j] = _numeric_column([row[j] for row in rows], lines[1:], name, path)
    t = columns.index(target)  # once: an index() per feature was quadratic in the columns
    return np.delete(values, t, axis=1), values[:, t], features  # X (n, d), y (n,)


def _read_rows(path):
    """The header, the data rows and each one's line number in the file, blank lines left out."""
    rows, lines = [], []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, skipinitialspace=True)
            for row in reader:
                # skip a blank line, not a row of empty cells
                if len(row) > 1 or (row and row[0].strip()):
                    rows.append(row)
                    # the row's last line: a quoted cell may span lines
                    lines.append(reader.line_num)
    except (csv.Error, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not a CSV file ({str(e).splitlines()[0]})") from None
    if not rows:
        return None, [], []
    return rows[0], rows[1:], lines


def _numeric_column(cells, lines, name, path):
    """The column as floats, or ValueError naming the first cell that is not a finite number."""
    values = np.empty(len(cells))  # (n,)
    for i, cell in enumerate(cells):
        cell = cell.strip()
        where = f"{path}: line {lines[i]}, column {name!r}"
        try:
            # float() takes 1_000: a CSV does not
            values[i] = float(cell) if "_" not in cell else math.nan
        except ValueError:
            values[i] = math.nan
        if math.isfinite(values[i]):
            continue
        if cell == "":
            raise ValueError(f"{where}: empty cell")
        if cell.lower() in {"nan", "na", "n/a", "null", "none"}:
            raise ValueError(f"{where}: missing value ({cell})")
        if math.isnan(values[i]):
            raise ValueError(f"{where}: {cell!r} is not a number")
        raise ValueError(f"{where}: {cell!r} is not finite")
    return values


def split(X, y, test_fraction, rng):
    """Shuffle once and hold out round(n * test_fraction) examples.

    Returns (X_train, y_train, X_test, y_test).
    """
    n = len(y)
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test fraction must be in [0, 1), got {test_fraction}")
    n_test = int(round(n * test_fraction))
    if n - n_test < 1:
        raise ValueError(f"empty data set: {n} examples leave none for training "
                         f"at test fraction {test_fraction}")
    order = rng.permutation(n)  # (n,)
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]


class Standardiser:
    """x -> (x - mean) / std with the training set's statistics; a constant column is only centred.

    Scaled first: each column is divided by its largest magnitude before the mean and the
    spread are taken, so values near the float64 limit (1e300) cannot overflow the square in
    the variance, nor tiny ones (1e-300) underflow it. `names` label the columns in errors.
    """

    def __init__(self, A, names):
        self.names = [names] if isinstance(names, str) else list(names)
        _check_finite(A, self.names, "the training set")
        scale = np.max(np.abs(A), axis=0)  # (d,) or ()
        self.scale = np.where(scale > 0, scale, 1.0)  # (d,) or (): an all-zero column stays zeros
        B = A / self.scale  # (n, d) or (n,), entries in [-1, 1]
        self.mean = B.mean(axis=0)  # (d,) or ()
        # exactly equal values: rounding in the mean must not become a spread
        constant = np.ptp(B, axis=0) == 0
        self.std = np.where(constant, 1.0, B.std(axis=0))  # (d,) or ()

    def __call__(self, A):
        with np.errstate(over="ignore", invalid="ignore"):  # refused below, naming the column
            Z = (A / self.scale - self.mean) / self.std  # (n, d) or (n,)
        _check_finite(Z, self.names, "a standardised set (a value far outside the training range)")
        return Z


def _check_finite(A, names, what):
    """ValueError naming the first column of A with a NaN or inf."""
    bad = ~np.all(np.isfinite(A if A.ndim == 2 else A[:, None]), axis=0)  # (d,)
    if bad.any():
        raise ValueError(f"{names[int(np.argmax(bad))]}: {what} has values "
                         "that are not finite numbers")


def streams(seed):
    """Independent seeded streams from one seed: the teacher's seed, and data, split and shuffle
    generators."""
    teacher, data, split_, shuffle = np.random.SeedSequence(seed).spawn(4)
    return {
        "teacher": int(teacher.generate_state(1)[0]),
        "data": np.random.default_rng(data),
        "split": np.random.default_rng(split_),
        "shuffle": np.random.default_rng(shuffle),
    }


@dataclass
class Task:
    """A regression task ready to train on: standardised targets, train/test split."""

    X_train: np.ndarray  # (n_train, d)
    y_train: np.ndarray  # (n_train,)
    X_test: np.ndarray  # (n_test, d)
    y_test: np.ndarray  # (n_test,)
    features: list  # feature names, len d


def synthetic_task(widths, samples, noise, test_fraction, seed, activation="relu"):
    """The default task: y = teacher(x) + noise, the teacher a random network of these widths
    (its own seed)."""
    s = streams(seed)
    teacher = Network.init(widths, seed=s["teacher"], activation=activation)
    X, y = teacher_task(teacher, samples, noise, s["data"])
    # x is already N(0, 1); scaling y by train statistics keeps the task a network of the family
    # (the student's alpha and b absorb the affine map), so the student can fit it exactly.
    names = [f"x{i + 1}" for i in range(X.shape[1])]
    return _standardised(*split(X, y, test_fraction, s["split"]), names,
                         features=False, target="the teacher's y (lower noise)")


def csv_task(path, target, test_fraction, seed):
    """A task from a numeric CSV file: features and target standardised by training-set stats."""
    X, y, names = load_csv(path, target)
    return _standardised(*split(X, y, test_fraction, streams(seed)["split"]), names,
                         features=True, target=target)


def _standardised(X_train, y_train, X_test, y_test, names, features, target="y"):
    """Standardise y (and X if `features`) with the training set's mean and std."""
    sy = Standardiser(y_train, target)
    if features:
        sx = Standardiser(X_train, names)
        X_train, X_test = sx(X_train), sx(X_test)
    return Task(X_train, sy(y_train), X_test, sy(y_test), list(names))
