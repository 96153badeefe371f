"""The report's Markdown stays whole whatever the files hold: a `|` in a cell, spaces and
parentheses in a figure's or results file's path, backticks in the command."""

from bench import fit
from bench.formatting import code, link, table
from bench.report import write_report
from bench.results import read_results


def _cells(line):
    """A table row's cells, split at the pipes that are not escaped."""
    parts, current, i = [], "", 1
    while i < len(line) - 1:
        if line[i] == "\\" and line[i + 1] == "|":
            current, i = current + "\\|", i + 2
            continue
        if line[i] == "|":
            parts.append(current.strip())
            current = ""
        else:
            current += line[i]
        i += 1
    return parts + [current.strip()] if current.strip() else parts


def test_a_pipe_in_a_cell_is_escaped():
    lines = table(["", "r"], [["cpu", "Intel | Xeon"], ["blas", "a\nb"]])
    assert lines[2] == "| cpu | Intel \\| Xeon |"
    assert lines[3] == "| blas | a b |"
    assert all(len(_cells(line)) == 2 for line in lines if not line.startswith("|---"))


def test_links_to_paths_with_spaces_and_parentheses_stay_whole():
    image = link("d-time", "my figs (1)/d-time.png", image=True)
    assert image == "![d-time](my%20figs%20%281%29/d-time.png)"
    assert link("a [b]", "a [b].csv") == "[a \\[b\\]](a%20%5Bb%5D.csv)"


def test_inline_code_holds_backticks():
    assert code("gradbench report a.csv") == "`gradbench report a.csv`"
    assert code("a`b") == "``a`b``"
    assert code("`x") == "`` `x ``"


def test_a_report_of_hostile_names_keeps_its_tables_and_links(tmp_path, results_frame, write_csv):
    df = results_frame([1, 2, 4], [8], methods=("backprop", "naive"))
    df["cpu"] = "Intel(R) | Xeon(R)"
    path = write_csv(tmp_path / "d (1).csv", df)
    df = read_results(path)
    pngs = [tmp_path / "my figs (1)" / "d (1)-time.png"]
    out = tmp_path / "r.md"
    fits = {"d (1)": fit.fit_results(df)}
    write_report({"d (1)": df}, fits, {"d (1)": pngs}, out, "gradbench `x`", [path])
    md = out.read_text()
    assert "| cpu | Intel(R) \\| Xeon(R) |" in md
    assert "![d (1)-time](my%20figs%20%281%29/d%20%281%29-time.png)" in md
    assert "[d (1).csv](d%20%281%29.csv)" in md
    assert "by `` gradbench `x` `` from" in md
    assert all(len(_cells(line)) == 2 for line in md.splitlines() if line.startswith("| cpu"))
