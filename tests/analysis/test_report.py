"""report: the Markdown holds every section, the environment, the exclusions, the fits and
resolvable figures."""

import pandas as pd

from bench import fit, plot


def test_report_content(study):
    md = (study / "results" / "report.md").read_text()
    for heading in ("## Summary", "## Environment", "## Sweeps",
                    "## Growth exponents against theory", "## Speedup of backprop over naive",
                    "## Figures"):
        assert heading in md
    assert "| cpu | Test CPU | Test CPU |" in md
    assert "excluded 1 point(s) with status != ok (1 skipped)" in md
    assert "predicted 90 s > budget 60 s" in md
    fits = fit.read_fits(study / "results" / "depth.fits.csv")
    bp = fits[(fits["method"] == "backprop") & (fits["variable"] == "depth")
              & (fits["quantity"] == "time")].iloc[0]
    assert (f"| depth | depth | backprop | {bp['k']:.3f} | "
            f"[{bp['k_lo']:.3f}, {bp['k_hi']:.3f}] |") in md
    # every figure link resolves from the report's folder
    links = [line[line.index("](") + 2:-1] for line in md.splitlines() if line.startswith("![")]
    assert all((study / "results" / link).is_file() for link in links)
    drawn = sorted((study / "plots").glob("*.png"))  # every kind of depth.csv, and width.csv's few
    assert len(links) == len(drawn) > len(plot.KINDS)
    assert {(study / "results" / link).resolve() for link in links} == {p.resolve() for p in drawn}


def test_space_section_trades_checkpoint_against_backprop_per_point(study):
    # backprop, checkpoint and others at depths 1 to 32
    df = pd.read_csv(study / "results" / "depth.csv")
    md = (study / "results" / "report.md").read_text()
    section = md[md.index("\n## Working memory"):md.index("\n## Figures")]
    assert "working memory vs depth" in section
    assert "checkpoint 0." in section  # its exponent, about 1/2 on these synthetic rows
    assert "| checkpoint | 32 |" in section  # the largest point per method
    rows = [line for line in section.splitlines()
            if line.startswith("| 4 |") or line.startswith("| 32 |")]
    assert len(rows) == 2
    bp4, bp32 = (df[(df["method"] == "backprop") & (df["depth"] == d)]["work_mem_bytes"].item()
                 for d in (4, 32))
    l2, llc = df["l2_bytes"].iloc[0], df["llc_bytes"].iloc[0]
    assert bp4 < l2 < llc < bp32  # the synthetic sizes straddle both caches
    assert "in L2" in rows[0]
    assert "beyond LLC" in rows[1]
    t = df.set_index(["method", "depth"])["time_min_s"]
    # checkpoint / backprop time
    assert f"| {t['checkpoint', 32] / t['backprop', 32]:.3g} |" in rows[1]
    depths = sorted(df.loc[df["method"] == "checkpoint", "depth"])
    times = [t["checkpoint", d] / t["backprop", d] for d in depths]
    o = df.set_index(["method", "depth"])["ops"]
    ops = [o["checkpoint", d] / o["backprop", d] for d in depths]
    assert (f"Across these {len(depths)} points checkpoint took {min(times):.3g} to "
            f"{max(times):.3g} times backprop's time, for {min(ops):.3g} to {max(ops):.3g} "
            "times its multiplications.") in section


def test_space_section_says_so_when_nothing_was_measured(study, tmp_path, gradbench):
    # the study's width.csv has no working memory; its fits and figures are made already: read,
    # not redrawn
    width = study / "results" / "width.csv"
    assert pd.read_csv(width)["work_mem_bytes"].isna().all()
    reported = gradbench("report", width, "--out", tmp_path / "old.md",
                         "--plots-dir", study / "plots")
    assert reported.code == 0
    assert "No working memory was measured in these files" in (tmp_path / "old.md").read_text()


def test_checkpoint_against_backprop_round_by_round_is_reported_beside_the_ratio_of_times(
        tmp_path, results_frame, write_csv, gradbench, only_kinds):
    df = results_frame([4, 8, 16], [8], methods=("backprop", "checkpoint"))
    paired = {4: 1.31, 8: 1.47, 16: 1.38}
    # empty for backprop
    df["time_vs_backprop"] = df["depth"].map(paired).where(df["method"] == "checkpoint")
    path = write_csv(tmp_path / "ck.csv", df)
    only_kinds("time")  # the tables are what this test reads
    assert gradbench("report", path, "--plots-dir", tmp_path / "p").code == 0
    md = (tmp_path / "ck.md").read_text()
    table = md[md.index("Checkpointed backprop against backprop, per point"):].splitlines()
    for depth, r in paired.items():
        (row,) = [line for line in table if line.startswith(f"| {depth} | ")]
        assert row.split(" | ")[4] == f"{r:.3g}"  # the same-round column, after the ratio of times
    assert "and 1.31 to 1.47 round by round, for" in md
