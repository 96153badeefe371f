"""gradbench's measuring and presenting side: sweep -> fit -> plot -> report.

From Python: `out = bench.run_sweep(depth=[1, 2, 4, 8])` or `out = bench.load("results/depth.csv")`,
then `out.df`, `out.fit()`, `out.plot("time")`, `out.save(path)`, `out.report(path)` (bench.api).
"""

__all__ = ["Results", "load", "run_sweep"]


def __getattr__(name):  # bench.api on first use: the command line does not pay for pandas here
    if name in __all__:
        from bench import api

        return getattr(api, name)
    raise AttributeError(f"module 'bench' has no attribute {name!r}")
