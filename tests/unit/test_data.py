"""gradients.data: the training tasks, from a CSV file (standardised on the training split) or a
seeded teacher."""

import numpy as np

from gradients import data


def test_csv_task_standardises_with_training_statistics(tmp_path):
    rng = np.random.default_rng(0)
    Z = rng.normal(5.0, 3.0, size=(40, 3))
    lines = ["a,y,b,c"] + [f"{p},{2 * p - q},{q},{r}" for p, q, r in Z]
    path = tmp_path / "d.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode())
    X, y, names = data.load_csv(path, "y")
    assert names == ["a", "b", "c"]
    assert X.shape == (40, 3)
    assert np.allclose(y, 2 * Z[:, 0] - Z[:, 1])
    task = data.csv_task(path, "y", 0.25, seed=0)
    assert len(task.y_train) == 30
    assert len(task.y_test) == 10
    assert np.allclose(task.X_train.mean(axis=0), 0)
    assert np.allclose(task.X_train.std(axis=0), 1)
    assert np.isclose(task.y_train.mean(), 0)
    assert np.isclose(task.y_train.std(), 1)


def test_synthetic_task_is_seeded_and_noisy_on_request():
    a = data.synthetic_task([3, 4, 4], 50, 0.0, 0.2, seed=0)
    b = data.synthetic_task([3, 4, 4], 50, 0.0, 0.2, seed=0)
    c = data.synthetic_task([3, 4, 4], 50, 0.5, 0.2, seed=0)
    assert np.array_equal(a.X_train, b.X_train)
    assert np.array_equal(a.y_test, b.y_test)
    assert np.array_equal(a.X_train, c.X_train)
    assert not np.allclose(a.y_train, c.y_train)
    assert len(a.y_train) == 40
    assert len(a.y_test) == 10
