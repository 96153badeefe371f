"""The README's results block is what the code that writes the report makes of results/."""

import re
from pathlib import Path

from bench.fit import fits_path, read_fits
from bench.report import readme
from bench.results import read_results

ROOT = Path(__file__).resolve().parents[2]
STUDY = ["depth", "width", "wide", "memory"]  # make bench's files, in its order


def test_the_readme_block_matches_results():
    paths = [ROOT / "results" / f"{name}.csv" for name in STUDY]
    frames = {p.stem: read_results(p) for p in paths}
    fits = {p.stem: read_fits(fits_path(p)) for p in paths}
    expected = readme.block(frames, fits, ROOT / "plots", ROOT)
    text = (ROOT / "README.md").read_text()
    found = re.search(re.escape(readme.BEGIN) + r"\n(.*?)\n" + re.escape(readme.END), text, re.S)
    assert found, "README.md lost its results block"
    assert found.group(1).splitlines() == expected, ("README.md's results differ from results/: "
                                                     "run make bench")


def test_update_replaces_only_the_block(tmp_path):
    page = tmp_path / "README.md"
    page.write_text(f"before\n{readme.BEGIN}\nold\n{readme.END}\nafter\n")
    readme.update(page, ["new", "lines"])
    assert page.read_text() == f"before\n{readme.BEGIN}\nnew\nlines\n{readme.END}\nafter\n"
