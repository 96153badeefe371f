"""gradbench sweep, by role: ranges and points (the plan), budget (profiles and predictions), loop
(the one sweep loop), series (the unit of work, the parent side), child (the process that times a
series in interleaved rounds), launcher (starting and killing it), cluster (the Dask executor),
results_file (the CSV), progress (what the user sees).
"""
