"""A Markdown report of one or more results frames: environment, sweeps, fits vs theory, speedups,
memory, figures.

It tabulates what it is given (results, fits, figure paths) and writes only the report;
bench.pipeline reads the files and makes missing fits and figures first.
document: the report as a file; growth: exponents and speedups; local: local exponents; space:
working memory and checkpoint; placements: the placements (backend, device, dtype) of a file side
by side; readme: the README's results block.
"""

from bench.report.document import write_report

__all__ = ["write_report"]
