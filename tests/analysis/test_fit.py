"""The fitter: known exponents recovered with honest intervals, swept variables found, bad files
refused."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bench import fit


@pytest.mark.parametrize("m", [3, 4, 7, 12])
def test_power_fit_matches_scipy_linregress(m):
    rng = np.random.default_rng(m)
    n = 2.0 ** np.arange(m)  # (m,)
    t = 3e-4 * n ** 1.5 * np.exp(rng.normal(0, 0.3, m))  # noisy: the residual variance matters
    f = fit.power_fit(n, t)
    ref = stats.linregress(np.log(n), np.log(t))
    half = ref.stderr * stats.t.ppf(0.975, m - 2)  # 95% CI half-width with m - 2 degrees of freedom
    assert f["k"] == pytest.approx(ref.slope, rel=1e-12)
    assert f["c"] == pytest.approx(np.exp(ref.intercept), rel=1e-12)
    assert f["k_lo"] == pytest.approx(ref.slope - half, rel=1e-12, abs=1e-12)
    assert f["k_hi"] == pytest.approx(ref.slope + half, rel=1e-12, abs=1e-12)
    assert f["r2"] == pytest.approx(ref.rvalue**2, rel=1e-12)
    assert f["a"] == 0


def test_power_fit_interval_covers_truth_95_percent_with_four_points():
    # with 2 degrees of freedom the usual mistakes show: residual variance over m instead of
    # m - 2 covers 90.7%, over m - 1 92.8%, the normal quantile instead of t's 81%
    rng = np.random.default_rng(1)
    n = np.array([1.0, 2.0, 4.0, 8.0])  # (4,)
    draws = 10_000
    hits = 0
    for _ in range(draws):
        # exact model for log t: the t interval is exact
        t = 3e-4 * n**1.5 * np.exp(rng.normal(0, 0.1, n.size))
        f = fit.power_fit(n, t)
        hits += f["k_lo"] <= 1.5 <= f["k_hi"]
    sd = np.sqrt(0.95 * 0.05 / draws)  # binomial sd of the covered share
    assert abs(hits / draws - 0.95) < 4 * sd  # 94.1% .. 95.9%


def test_power_fit_exact_data():
    n = np.array([1, 2, 4, 8, 16.0])
    f = fit.power_fit(n, 7 * n**2)
    assert f["k"] == pytest.approx(2, abs=1e-12)
    assert f["c"] == pytest.approx(7)
    assert f["r2"] == pytest.approx(1)


def test_offset_fit_sees_through_constant_overhead():
    rng = np.random.default_rng(2)
    n = 2.0 ** np.arange(0, 8)  # (8,)
    hits, ks = 0, []
    for _ in range(200):
        # overhead-dominated below n=8
        t = (5e-5 + 1e-6 * n**2) * np.exp(rng.normal(0, 0.05, n.size))
        f = fit.offset_fit(n, t)
        ks.append(f["k"])
        hits += f["k_lo"] <= 2 <= f["k_hi"]
    assert abs(np.mean(ks) - 2) < 0.05
    assert hits / 200 >= 0.88  # asymptotic interval of a nonlinear fit: close to 95%
    # the plain log-log fit over the same points is biased low by the overhead
    assert fit.power_fit(n, 5e-5 + 1e-6 * n**2)["k"] < 1.6


@pytest.mark.parametrize("rule, used, rule_used", [
    ("all", 7, "all"), ("top:3", 3, "top:3"), ("top:5", 5, "top:5"), ("upper:4", 3, "upper:4"),
    ("ratio:10", 4, "ratio:10"), ("upper:2", 3, "top:3"), ("upper:1", 3, "top:3"),
    ("top:1", 3, "top:3"), ("offset", 7, "offset"),
])
def test_fit_rules_choose_the_range_and_name_the_rule_used(rule, used, rule_used):
    n = 2.0 ** np.arange(7)  # 1..64
    f, n_used, got = fit.fit_points(n, 1 + n**2, rule)
    assert len(n_used) == used
    assert n_used.max() == 64
    assert got == rule_used
    assert np.isfinite(f["k"])


def test_offset_falls_back_to_all_and_says_so(tmp_path, monkeypatch, results_frame, write_csv):
    n = np.array([1.0, 2.0, 4.0])
    f, used, rule = fit.fit_points(n, 1 + n**2, "offset")  # three parameters, three points
    assert rule == "all"
    assert len(used) == 3
    path = write_csv(tmp_path / "d.csv", results_frame([1, 2, 4, 8, 16], [8]))
    monkeypatch.setattr(fit, "offset_fit", lambda n, t: None)  # curve_fit found nothing
    out, fits, notes = fit.fit_file(path, time_rule="offset")
    time = fits[fits["quantity"] == "time"]
    assert len(time) == 6  # every series kept, none vanished
    assert (time["fit_rule"] == "all").all()
    assert (time["n_points"] == 5).all()
    assert notes == ["6 fit(s) used another rule than asked (too few points, or the offset fit "
                     "failed): see their fit_rule"]


def test_fit_results_depth_sweep_matches_theory(results_frame):
    df = results_frame([2, 4, 8, 16, 32, 64, 96, 128], [16])
    fits = fit.fit_results(df)
    assert set(fits["variable"]) == {"depth", "E"}  # width and batch are not swept
    by = fits.set_index(["method", "variable", "quantity"])
    for m, theory in (("naive", 2), ("backprop", 1), ("forward", 1)):
        for var in ("depth", "E"):
            row = by.loc[(m, var, "time")]
            assert row["theory_k"] == theory
            assert abs(row["k"] - theory) < 0.15, (m, var, row["k"])
            assert abs(by.loc[(m, var, "ops"), "k"] - theory) < 0.05
    assert by.loc[("naive", "depth", "time"), "fit_rule"] == "upper:8"
    assert by.loc[("naive", "depth", "time"), "n_min"] == 16
    assert by.loc[("naive", "depth", "ops"), "fit_rule"] == "top:3"
    assert by.loc[("naive", "depth", "ops"), "n_min"] == 64


def test_width_theory_doubles_when_input_dim_follows_width(results_frame):
    df = results_frame([4], [8, 16, 32, 64, 128])
    fits = fit.fit_results(df).set_index(["method", "variable", "quantity"])
    assert fits.loc[("naive", "width", "ops"), "theory_k"] == 4
    assert fits.loc[("backprop", "width", "ops"), "theory_k"] == 2
    assert abs(fits.loc[("naive", "width", "ops"), "k"] - 4) < 0.1
    assert "input_dim=width" in fits.loc[("naive", "width", "ops"), "fixed"]


def test_two_sweeps_in_one_file_are_fitted_separately(results_frame):
    df = pd.concat([results_frame([1, 2, 4, 8], [8]), results_frame([1, 2, 4, 8], [16], seed=0)])
    fits = fit.fit_results(df)
    depth = fits[(fits["variable"] == "depth") & (fits["method"] == "naive")
                 & (fits["quantity"] == "ops")]
    fixed = ["width=8 batch=1 activation=relu seed=0 input_dim=8",
             "width=16 batch=1 activation=relu seed=0 input_dim=16"]
    assert sorted(depth["fixed"]) == sorted(fixed)


def test_points_not_ok_are_excluded(tmp_path, results_frame, write_csv):
    df = results_frame([1, 2, 4, 8, 16], [8])
    deepest = (df["method"] == "naive") & (df["depth"] == 16)
    df.loc[deepest, ["status", "reason"]] = ["skipped", "budget"]
    df.loc[deepest, fit.TIME] = 1e-12  # would wreck the fit
    out, fits, notes = fit.fit_file(write_csv(tmp_path / "d.csv", df))
    naive = fits[(fits["method"] == "naive") & (fits["quantity"] == "time")
                 & (fits["variable"] == "depth")]
    assert naive["n_max"].item() == 8
    assert naive["n_points"].item() == 4
    assert notes == ["excluded 1 point(s) with status != ok (1 skipped)"]


def test_fit_command_writes_fits_csv(tmp_path, gradbench, results_frame, write_csv):
    path = write_csv(tmp_path / "depth.csv", results_frame([1, 2, 4, 8, 16, 32], [8]))
    code, out, _ = gradbench("fit", str(path))
    assert code == 0
    fits = fit.read_fits(tmp_path / "depth.fits.csv")
    assert list(fits.columns[:16]) == ["method", "backend", "device", "dtype", "variable",
                                       "quantity", "k", "k_lo", "k_hi", "r2", "n_min", "n_max",
                                       "n_points", "fit_rule", "theory_k", "covers_theory"]
    assert len(fits) == 3 * 2 * 3  # methods x (depth, E) x (time, ops, memory)
    assert "naive" in out


@pytest.mark.parametrize("content, message", [
    ("a,b\n1,2\n", "not a gradbench results file"),
    ("", "not a CSV file"),
])
def test_fit_refuses_other_files(tmp_path, gradbench, content, message):
    path = tmp_path / "x.csv"
    path.write_text(content)
    code, _, err = gradbench("fit", str(path))
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.fits.csv").exists()


def test_fit_refuses_other_schema_version_and_bad_rule(tmp_path, gradbench, results_frame,
                                                       write_csv):
    df = results_frame([1, 2, 4], [8])
    good = write_csv(tmp_path / "good.csv", df)
    df["schema_version"] = 99
    old = write_csv(tmp_path / "old.csv", df)
    for args, message in ((["fit", str(old)], "schema version 99"),
                          (["fit", "--time-rule", "top:x", str(good)], "bad time rule 'top:x'"),
                          (["fit", "--time-rule", "upper:0", str(good)], "bad time rule 'upper:0'"),
                          (["fit", "--ops-rule", "top:0", str(good)], "bad ops rule 'top:0'"),
                          (["fit", str(tmp_path / "none.csv")], "no such file")):
        code, _, err = gradbench(*args)
        assert code == 2
        assert message in err
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "good.fits.csv").exists()


def test_fit_output_that_cannot_be_written_is_one_line(tmp_path, gradbench, results_frame,
                                                       write_csv):
    path = write_csv(tmp_path / "d.csv", results_frame([1, 2, 4, 8], [8]))
    (tmp_path / "d.fits.csv").mkdir()  # where the fits file goes
    code, _, err = gradbench("fit", str(path))
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert f"{tmp_path / 'd.fits.csv'}: cannot write" in err
    # no temporary file left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "d.fits.csv"]


def test_a_two_value_sweep_says_in_one_line_why_no_law_was_fitted(tmp_path, gradbench,
                                                                  results_frame, write_csv):
    two = results_frame([1, 2], [8], methods=("naive", "backprop"))
    path = write_csv(tmp_path / "two.csv", two)
    code, out, _ = gradbench("fit", path)
    assert code == 0
    [line] = [x for x in out.splitlines() if "law" in x]
    assert line == ("could not fit a law: depth sweep "
                    "(width=8 batch=1 activation=relu seed=0 input_dim=8): "
                    "2 values of depth (1, 2) for backprop, naive; a law needs 3; "
                    "sweep 3 or more values")


def test_the_report_of_a_two_value_sweep_names_the_laws_it_could_not_fit(
        tmp_path, gradbench, results_frame, write_csv, only_kinds):
    only_kinds("time")  # the text is what this test reads
    two = results_frame([1, 2], [8], methods=("naive", "backprop"))
    path = write_csv(tmp_path / "two.csv", two)
    code, _, _ = gradbench("report", path, "--plots-dir", tmp_path / "plots")
    assert code == 0
    md = (tmp_path / "two.md").read_text()
    assert "exponents ." not in md
    assert ("- two, time vs depth (width=8 batch=1 activation=relu seed=0 input_dim=8): "
            "no law fitted (2 values of depth (1, 2) for backprop, naive; a law needs 3).") in md
    assert "Laws not fitted (too few points):" in md


def test_fit_leaves_out_a_law_that_read_fits_would_refuse(tmp_path, monkeypatch, gradbench,
                                                          results_frame, write_csv):
    df = results_frame([1, 2, 4, 8], [8], methods=("naive", "backprop"))
    path = write_csv(tmp_path / "d.csv", df)
    real = fit.fit_results

    def overflowing(*args, **kwargs):  # what a series far from a power law can give
        fits = real(*args, **kwargs)
        fits.loc[0, "k_lo"] = -np.inf
        fits.loc[1, "c"] = 1e308
        return fits

    monkeypatch.setattr(fit, "fit_results", overflowing)
    code, out, err = gradbench("fit", str(path))
    assert code == 0, err
    assert "left out 2 law(s) whose fit is not a finite number in range" in out
    fits = fit.read_fits(tmp_path / "d.fits.csv")  # readable: plot and report take it
    assert len(fits) == len(real(pd.read_csv(path))) - 2
