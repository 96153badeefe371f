"""Rewrite the generated blocks of the docs from the code that owns them.

    python docs/generate.py  # rewrites docs/results-csv.md's column table from bench.schema.COLUMNS

tests/front/test_docs.py fails when a block differs from what this would write.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "results-csv.md"
BEGIN = "<!-- columns: begin (generated from bench.schema.COLUMNS; do not edit) -->"
END = "<!-- columns: end -->"


def block(text):
    """The text between the markers (without them), or ValueError unless each is there once."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f"expected one {BEGIN!r} followed by one {END!r}")
    return text.split(BEGIN)[1].split(END)[0].strip("\n") + "\n"


def with_block(text, table):
    """The text with the block between the markers replaced by `table`."""
    block(text)  # the markers are there, once each
    head, rest = text.split(BEGIN)
    tail = rest.split(END)[1]
    table = table.rstrip("\n")
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


def main():
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing it
    from bench.schema import markdown_table

    text = PAGE.read_text()
    new = with_block(text, markdown_table())
    if new == text:
        print(f"{PAGE.relative_to(ROOT)}: up to date")
    else:
        PAGE.write_text(new)
        print(f"wrote {PAGE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
