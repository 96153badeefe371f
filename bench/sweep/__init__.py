"""gradbench sweep, by role: points (the plan), ranges, budget, results_file (the CSV), launcher (the parent
that spawns a point's processes), worker (what runs inside them), progress (what the user sees), run (the loop).
"""
