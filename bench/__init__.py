"""gradbench's measuring and presenting side: sweep -> fit -> plot -> report.

From Python: `out = bench.run_sweep(depth=[1, 2, 4, 8])` or `out = bench.load("results/depth.csv")`,
then `out.df`, `out.fit()`, `out.plot("time")`, `out.save(path)`, `out.report(path)` (bench.api).

The stages: sweep/ (timing, the results CSV), fit (growth exponents), plot/ (figures), report/
(Markdown), train/ (`gradbench train` and its race); compare (two files side by side), pipeline
(what the command line makes first), api (all of it from Python), cli (the command line).
What they share: schema (the CSV's columns), results (its reader), rounds (statistics over
rounds), rules (which points a fit takes), placement (backend, device, dtype), guard (the memory
a run needs against what there is), output (files written whole), errors (one-line errors),
formatting (numbers as text), progress (bars), signals (stop signals end a command as Ctrl-C),
limits (a resource limit too small for the command, found before it starts).
"""

__all__ = ["Results", "load", "run_sweep"]


def __getattr__(name):  # bench.api on first use: the command line does not pay for pandas here
    if name in __all__:
        from bench import api

        return getattr(api, name)
    raise AttributeError(f"module 'bench' has no attribute {name!r}")
