"""The click group: help that names what the library defines."""

from bench import plot, rules


def test_help_names_every_plot_kind_and_the_fit_defaults(gradbench):
    code, out, _ = gradbench("plot", "--help")
    assert code == 0
    assert all(kind in out for kind in plot.KINDS)
    code, out, _ = gradbench("fit", "--help")
    assert code == 0
    out = " ".join(out.split())  # click wraps the help
    assert f"[default: {rules.TIME_RULE}]" in out
    assert f"[default: {rules.OPS_RULE}]" in out


def test_no_arguments_prints_the_usage_as_lines(gradbench):
    code, out, err = gradbench()
    assert code == 2
    assert "\\n" not in err  # not one line with the newlines escaped
    lines = err.splitlines()
    assert lines[0] == "Usage: gradbench [OPTIONS] COMMAND [ARGS]..."
    assert any(line.split()[:1] == ["sweep"] for line in lines)  # the commands, a line each
