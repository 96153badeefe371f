"""Numbers as text, one place for every command: durations, ratios, value lists, Markdown tables."""

import re
import urllib.parse


def seconds(s):
    """A duration for people: 83.0 us, 3.23 ms, 1.50 s, 2m05s; ? when unknown."""
    if s is None:
        return "?"
    if s >= 60:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def clock(s):
    """A wall-clock duration to the second: 7 s, 2m05s; ? when unknown."""
    return "?" if s is None else seconds(s) if s >= 60 else f"{s:.0f} s"


def ratio(x):
    """A ratio: 3.2, 45.6, 8,390."""
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def nbytes(n):
    """A size for people: 512 B, 3.2 KiB, 16 MiB, 1.5 GiB, 2 TiB, 7.1e+03 PiB."""
    for unit, scale in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20),
                        ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} B"


def values(series):
    """Distinct values of a pandas Series, compact: '16' or '1, 2, 4, 8, 16, 32'."""
    return ", ".join(str(v) for v in sorted(series.unique()))


def table(header, rows):
    """A Markdown table, as a list of lines; a `|` or a line break in a cell stays in its cell."""
    lines = ["| " + " | ".join(map(cell, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return lines


def cell(value):
    """A table cell's text: `|` escaped (GitHub's rule, code spans too), line breaks as spaces."""
    return " ".join(str(value).splitlines()).replace("|", "\\|")


def link(text, target, image=False):
    """A Markdown link (or image) to a relative path: the text's brackets escaped, the path
    percent-encoded, so spaces, parentheses and brackets in names keep the link whole."""
    text = " ".join(str(text).splitlines())
    for c in "\\[]":
        text = text.replace(c, "\\" + c)
    return f"{'!' * image}[{text}]({urllib.parse.quote(str(target), safe='/')})"


def code(text):
    """Inline code that holds any text: a fence of more backticks than the text's longest run."""
    text = " ".join(str(text).splitlines())
    fence = "`" * (1 + max((len(run) for run in re.findall("`+", text)), default=0))
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
