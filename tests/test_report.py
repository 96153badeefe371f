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
    assert len(links) == 2 * len(plot.KINDS)  # two results files
    assert all((study / "results" / link).is_file() for link in links)
