"""report: the Markdown holds every section, the environment, the exclusions, the fits and resolvable figures."""

from bench import fit, plot


def test_report_content(study):
    md = (study / "results" / "report.md").read_text()
    for heading in ("## Summary", "## Environment", "## Sweeps", "## Growth exponents against theory",
                    "## Speedup of backprop over naive", "## Figures"):
        assert heading in md
    assert "| cpu | Test CPU | Test CPU |" in md
    assert "excluded 1 point(s) with status != ok (1 skipped)" in md
    assert "predicted 90 s > budget 60 s" in md
    fits = fit.read_fits(study / "results" / "depth.fits.csv")
    bp = fits[(fits["method"] == "backprop") & (fits["variable"] == "depth") & (fits["quantity"] == "time")].iloc[0]
    assert f"| depth | depth | backprop | {bp['k']:.3f} | [{bp['k_lo']:.3f}, {bp['k_hi']:.3f}] |" in md
    # every figure link resolves from the report's folder
    links = [line[line.index("](") + 2:-1] for line in md.splitlines() if line.startswith("![")]
    assert all((study / "results" / link).is_file() for link in links)
    drawn = sorted((study / "plots").glob("*.png"))  # every kind of depth.csv, and width.csv's few
    assert len(links) == len(drawn) > len(plot.KINDS)
    assert {(study / "results" / link).resolve() for link in links} == {p.resolve() for p in drawn}


def test_memory_section_trades_checkpoint_against_backprop_per_point(tmp_path, results_frame, write_csv, gradbench):
    df = results_frame([4, 8, 16, 32], [8], methods=("backprop", "checkpoint"))
    df["l2_bytes"], df["llc_bytes"] = 2**10, 4 * 2**10  # small enough for the synthetic memory to leave them
    path = write_csv(tmp_path / "mem.csv", df)
    assert gradbench("report", path, "--plots-dir", tmp_path / "p").code == 0
    md = (tmp_path / "mem.md").read_text()
    section = md[md.index("\n## Working memory"):md.index("\n## Figures")]
    assert "working memory vs depth" in section
    assert "checkpoint 0." in section  # its exponent, about 1/2 on these synthetic rows
    assert "| checkpoint | 32 |" in section  # the largest point per method
    rows = [line for line in section.splitlines() if line.startswith("| 4 |") or line.startswith("| 32 |")]
    assert len(rows) == 2
    bp4, bp32 = (df[(df["method"] == "backprop") & (df["depth"] == d)]["work_mem_bytes"].item() for d in (4, 32))
    assert bp4 < 2**10 < 4 * 2**10 < bp32  # the synthetic sizes straddle both caches
    assert "in L2" in rows[0]
    assert "beyond LLC" in rows[1]
    t = df.set_index(["method", "depth"])["time_min_s"]
    assert f"| {t['checkpoint', 32] / t['backprop', 32]:.3g} |" in rows[1]  # checkpoint / backprop time


def test_memory_section_says_so_when_nothing_was_measured(tmp_path, results_frame, write_csv, gradbench):
    df = results_frame([1, 2, 4], [4], methods=("backprop",))
    df["work_mem_bytes"] = ""
    path = write_csv(tmp_path / "old.csv", df)
    assert gradbench("report", path, "--plots-dir", tmp_path / "p").code == 0
    assert "No working memory was measured in these files" in (tmp_path / "old.md").read_text()
