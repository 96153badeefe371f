"""A real series: one child process times a quick sweep in rounds; its rows, pyperf suite, fits."""

import subprocess
import sys

import pyperf
import pytest

from bench import fit, schema
from bench.results import read_results, read_rounds
from bench.sweep.loop import sweep


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("series") / "r.csv"
    sweep(out=out, depth="1,2,4,8", width="4", methods="naive,backprop,forward", profile="quick")
    return out, read_results(out)


def test_every_point_has_its_time_interval_and_rounds(quick):
    _, df = quick
    assert (df["status"] == "ok").all() and (df["schema_version"] == schema.SCHEMA_VERSION).all()
    assert (df["time_lo_s"] <= df["time_s"]).all() and (df["time_s"] <= df["time_hi_s"]).all()
    assert (df["time_min_s"] <= df["time_s"]).all() and (df["time_s"] <= df["time_max_s"]).all()
    assert (df["n_values"] == 15).all()  # the quick profile's rounds
    assert df["series"].nunique() == 1  # one placement: one child, one set of rounds


def test_same_round_ratios_fill_time_vs_backprop_and_the_local_exponents(quick):
    _, df = quick
    naive = df[df["method"] == "naive"].sort_values("depth")
    assert (naive["time_vs_backprop"] > 0).all()
    # backprop and forward: none
    assert df.loc[df["method"] != "naive", "time_vs_backprop"].isna().all()
    for _, rows in df.groupby("method"):
        rows = rows.sort_values("depth")
        assert rows["local_k"].iloc[:1].isna().all()  # the first point has none before it
        k = rows["local_k"].iloc[1:]
        assert k.notna().all()
        assert (rows["local_k_lo"].iloc[1:] <= k).all() and (k <= rows["local_k_hi"].iloc[1:]).all()


def test_the_series_is_one_pyperf_suite_that_pyperf_reads(quick):
    out, df = quick
    [name] = df["pyperf_json"].unique()
    suite = pyperf.BenchmarkSuite.load(str(out.parent / name))
    assert len(suite.get_benchmarks()) == len(df)
    values = read_rounds(out, df)
    assert all(len(v) == n for v, n in zip(values, df["n_values"]))
    stats = subprocess.run([sys.executable, "-m", "pyperf", "stats", str(out.parent / name)],
                           capture_output=True, text=True)
    assert stats.returncode == 0 and "Number of benchmarks: 12" in stats.stdout


def test_the_time_law_takes_its_interval_from_the_rounds(quick):
    out, df = quick
    fits = fit.fit_results(df, rounds=read_rounds(out, df), time_rule="all")
    time = fits[fits["quantity"] == "time"]
    assert set(time["interval"]) == {"rounds"}
    assert set(fits.loc[fits["quantity"] == "ops", "interval"]) == {"t"}
    assert (time["k_lo"] <= time["k"]).all() and (time["k"] <= time["k_hi"]).all()


def test_without_its_suite_the_law_falls_back_to_the_spread_of_the_times(quick):
    _, df = quick
    fits = fit.fit_results(df, time_rule="all")  # no rounds read: a file moved without its folder
    assert set(fits["interval"]) == {"t"}


def test_force_leaves_no_json_of_points_it_no_longer_has(tmp_path):
    out = tmp_path / "r.csv"
    sweep(out=out, depth="1,2", width="3", methods="backprop", profile="quick")
    first = set((tmp_path / "r.csv.pyperf").iterdir())
    sweep(out=out, depth="3", width="3", methods="backprop", profile="quick", force=True)
    second = set((tmp_path / "r.csv.pyperf").iterdir())
    assert first and second and not first & second
    [name] = read_results(out)["pyperf_json"]
    assert {p.name for p in second} == {name.split("/")[-1]}


def test_a_version_3_file_reads_with_its_fastest_value_as_the_time(tmp_path, results_frame,
                                                                   write_csv):
    df = results_frame([1, 2, 4], [4]).drop(columns=sorted(schema.ADDED_IN_4))
    df["schema_version"] = 3
    back = read_results(write_csv(tmp_path / "v3.csv", df))
    assert (back["time_s"] == back["time_min_s"]).all()
    assert back["local_k"].isna().all() and (back["series"] == "").all()


def test_each_later_process_times_every_point_again_and_is_a_pyperf_run(tmp_path, monkeypatch):
    from bench.sweep import budget, loop

    profile = budget.Profile(rounds=5, block_s=0.001, processes=3)
    monkeypatch.setitem(loop.PROFILES, "quick", profile)
    out = tmp_path / "r.csv"
    sweep(out=out, depth="1,2,4", width="3", methods="naive,backprop", profile="quick",
          progress=False)
    df = read_results(out)
    assert (df["n_values"] == 15).all() and df["series"].nunique() == 1
    [name] = df["pyperf_json"].unique()
    for bench_ in pyperf.BenchmarkSuite.load(str(tmp_path / name)).get_benchmarks():
        assert [len(r.values) for r in bench_.get_runs()] == [5, 5, 5]
    # rounds of all processes
    assert df.loc[df["method"] == "naive", "time_vs_backprop"].notna().all()
