"""The docs against the code: the generated column table, links, the README's example, the CLI
reference."""

import contextlib
import importlib.util
import io
import re
import sys
import types
from pathlib import Path

import click
import pytest

import gradients
from bench import schema
from bench.cli import cli
from bench.fit import FIT_COLUMNS, SOURCE_COLUMNS
from bench.schema import SCHEMA_VERSION, markdown_table
from bench.sweep.budget import PROFILES
from bench.train import COLUMNS as TRAIN_COLUMNS
from gradients.train import OPTIMIZERS, AdaGrad, Adam

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
COMMAND_PAGES = {"sweep": "sweep.md", "fit": "analysis.md", "plot": "analysis.md",
                 "report": "analysis.md", "compare": "analysis.md",
                 "train": "train.md"}  # where each command's options are documented
README_MAX_LINES = 150


def generate():
    """docs/generate.py as a module (docs/ is not a package)."""
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def without_code(text):
    """Markdown text with fenced code blocks and inline code removed.

    Links and headings count only outside code."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def section(text, heading):
    """The body under a heading line, up to the next heading of the same or a higher level."""
    level = len(heading.split(" ")[0])
    start = text.index(f"\n{heading}\n") + len(heading) + 2  # the section's body
    end = re.search(rf"^#{{1,{level}}} ", text[start:], flags=re.M)
    return text[start: start + end.start()] if end else text[start:]


def table_names(text):
    """The `name`s in the first cell of every table row, in order (several per cell allowed)."""
    cells = re.findall(r"^\| ([^|\n]*) \|", text, flags=re.M)
    return [name for cell in cells for name in re.findall(r"`(\w+)`", cell)]


# --- generated and code-owned tables ------------------------------------------------


def test_column_table_is_the_one_generated_from_the_schema():
    text = (DOCS / "results-csv.md").read_text()
    assert generate().block(text) == markdown_table(), ("stale column table: "
                                                        "run python docs/generate.py")


def test_generate_rewrites_only_the_block():
    gen = generate()
    stale = (f"# page\n\nbefore\n\n{gen.BEGIN}\n| column | meaning |\n|---|---|\n| `old` | gone |\n"
             f"{gen.END}\n\nafter\n")
    new = gen.with_block(stale, markdown_table())
    assert gen.block(new) == markdown_table()
    assert new.startswith("# page\n\nbefore\n\n") and new.endswith(f"{gen.END}\n\nafter\n")
    with pytest.raises(ValueError, match="expected one"):
        gen.block("no markers here")


def test_column_table_lists_every_column_in_file_order():
    from bench.schema import NAMES

    assert table_names(markdown_table()) == NAMES


def test_results_csv_page_names_the_schema_version():
    first = (DOCS / "results-csv.md").read_text().splitlines()[0]
    assert f"(schema version {SCHEMA_VERSION})" in first


def test_the_schema_module_names_the_key_of_a_row_as_it_is():
    doc = " ".join(schema.__doc__.split())
    assert f"(POINT_KEY: {', '.join(schema.POINT_KEY)})" in doc


def test_fits_table_lists_the_fits_columns_in_order():
    text = section((DOCS / "results-csv.md").read_text(), "## The fits CSV")
    assert table_names(text) == FIT_COLUMNS + SOURCE_COLUMNS


def test_training_output_table_lists_the_columns_in_order():
    text = section((DOCS / "train.md").read_text(), "## Output")
    assert table_names(text) == TRAIN_COLUMNS


def test_profile_table_holds_the_profiles():
    text = section((DOCS / "sweep.md").read_text(), "## Profiles")
    rows = [f"| `{name}` | {p.processes} | {p.rounds} | {p.block_s * 1000:g} ms |"
            for name, p in PROFILES.items()]
    assert [row for row in rows if row not in text] == []
    assert len(re.findall(r"^\| `\w+` \|", text, flags=re.M)) == len(PROFILES)


def test_optimizer_table_in_docs_holds_the_defaults():
    text = section((DOCS / "train.md").read_text(), "## The loop")
    defaults = dict(re.findall(r"^\| `(\w+)`[^|\n]*\|[^|\n]*\| ([^|\n]*) \|$", text, flags=re.M))
    assert set(defaults) == set(OPTIMIZERS)
    for name, optimizer in OPTIMIZERS.items():
        assert re.match(rf"lr {re.escape(short(optimizer.default_lr))}(,|$)", defaults[name]), name
    adam, adagrad = Adam(), AdaGrad()
    assert f"betas ({adam.beta1}, {adam.beta2}), eps {short(adam.eps)}" in defaults["adam"]
    assert f"eps {short(adagrad.eps)}," in defaults["adagrad"]


def short(x):
    """A number as the docs write it, in the fewest digits that read back exactly.

    For example 3e-2, 1e-10, 2.5e-3."""
    text = next(t for t in (f"{x:.{d}e}" for d in range(17)) if float(t) == x)
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{int(exponent)}"


# --- links ----------------------------------------------------------------------------


def slug(heading):
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page):
    """Every heading anchor of a Markdown file, with GitHub's -1, -2 suffixes on repeats."""
    seen, out = {}, set()
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)
    for heading in re.findall(r"^#{1,6} (.+)$", text, flags=re.M):
        base = slug(heading)
        out.add(base if base not in seen else f"{base}-{seen[base]}")
        seen[base] = seen.get(base, 0) + 1
    return out


def broken_links(page):
    """The local link targets of a page that name no file, or no heading of the file they name."""
    broken = []
    for target in re.findall(r"!?\[[^\]]*\]\(([^)\s]+)\)", without_code(page.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.name}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_local_link_resolves(page):
    assert broken_links(page) == []


def test_link_check_catches_a_missing_file_and_heading(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("# Title\n\n[a](gone.md) [b](#title) [c](#nowhere) [d](https://x.org) "
                    "`[e](code.md)`\n")
    assert broken_links(page) == ["gone.md: no such file", "#nowhere: no heading #nowhere in p.md"]


def test_readme_shows_a_figure_the_suite_made():
    figures = re.findall(r"!\[[^\]]*\]\((plots/[^)]+\.png)\)", (ROOT / "README.md").read_text())
    assert figures and all((ROOT / f).is_file() for f in figures)


# --- the README -----------------------------------------------------------------------


def test_readme_is_a_front_page():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, (f"README.md has {len(lines)} lines; "
                                            "move reference text to docs/")


def test_readme_example_runs_and_prints_what_the_readme_shows(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text()
    code = re.search(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    shown = re.search(r"^```text\n(.*?)^```", text[code.end():], flags=re.S | re.M)
    assert code and shown, "the README needs a ```python example followed by its ```text output"
    monkeypatch.chdir(tmp_path)  # the example writes nothing; if it did, not into the checkout
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), "README.md", "exec"), {"__name__": "__readme__"})
    assert out.getvalue() == shown.group(1)


# --- the command line -----------------------------------------------------------------


def mentioned(name, text):
    """Whether an option (--max-seconds) or argument (RESULTS) appears as a word of its own."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


def params_missing(command, text):
    """The options and arguments of a click command that the text does not mention."""
    names = []
    for param in command.params:
        if isinstance(param, click.Option):
            names += param.opts + param.secondary_opts
        else:
            names.append(param.human_readable_name)  # RESULTS
    return [name for name in names if not mentioned(name, text)]


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_and_option_is_on_its_page(name):
    assert name in COMMAND_PAGES, (f"gradbench {name}: no docs page; "
                                   "add it to docs/ and to COMMAND_PAGES")
    text = (DOCS / COMMAND_PAGES[name]).read_text()
    assert mentioned(f"gradbench {name}", text)
    assert params_missing(cli.commands[name], text) == []


def test_every_command_is_in_the_index_and_the_group_options_too():
    text = (DOCS / "README.md").read_text()
    assert [name for name in cli.commands if not mentioned(name, text)] == []
    assert params_missing(cli, text) == []


def test_option_check_catches_an_undocumented_option():
    command = click.Command("demo", params=[click.Option(["--seen"]),
                                            click.Option(["--flag/--no-flag"]),
                                            click.Argument(["files"], nargs=-1)])
    assert params_missing(command, "--seen and --flag for FILES") == ["--no-flag"]


# --- every Python example of docs/ runs as written ---------------------------------------

BLOCK = re.compile(r"(?:<!-- (needs|not run): ([^>]*) -->\n)?^```python\n(.*?)^```",
                   flags=re.S | re.M)
EXAMPLES = [(page, i, *m.groups()) for page in sorted(DOCS.glob("*.md"))
            for i, m in enumerate(BLOCK.finditer(page.read_text()))]


@pytest.mark.parametrize("page, index, mark, what, code", EXAMPLES,
                         ids=[f"{p.name}:{i}" for p, i, *_ in EXAMPLES])
def test_every_python_block_of_the_docs_runs_as_written(tmp_path, monkeypatch, page, index, mark,
                                                        what, code):
    """A block runs unless the line before it says `<!-- needs: MODULE -->` (absent here) or
    `<!-- not run: why -->`; each in a fresh folder, with its own names only."""
    if mark == "not run":
        pytest.skip(f"{page.name}: {what}")
    if mark == "needs":
        pytest.importorskip(what.strip())
    monkeypatch.chdir(tmp_path)
    module = types.ModuleType("__docs__")  # a module, as a block that registers a method is one
    monkeypatch.setitem(sys.modules, module.__name__, module)
    registered = set(gradients.RECORDS)
    try:
        exec(compile(code, f"{page.name} block {index}", "exec"), module.__dict__)
    finally:
        for name in set(gradients.RECORDS) - registered:  # the block's own methods go with it
            gradients.registry.unregister(name)
