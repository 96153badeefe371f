"""The results CSV's layout: its columns, their meaning and its version (data only; bench.results reads it).

One row per (method, depth, width, batch, input_dim, activation) point. The CSV is the
interface between `sweep` and `fit`/`plot`/`report`; bump SCHEMA_VERSION when a column
changes meaning, and readers refuse files of another version.
"""

SCHEMA_VERSION = 3
# Files of version 1 (before backends and working memory) are read as if their rows had run on NumPy,
# on the CPU, in float64 (the only possibility then), with the memory columns empty; files of versions
# 1 and 2 (before time_vs_backprop) with that column empty.
READABLE_VERSIONS = (1, 2, 3)
V1_DEFAULTS = {"backend": "numpy", "device": "cpu", "dtype": "float64"}
ADDED_IN_3 = {"time_vs_backprop"}  # a header alone (a sweep stopped in its first point) of version 2 lacks only these

# (name, meaning) in file order; the column table of docs/results-csv.md is written from this list.
COLUMNS = [
    ("schema_version", "version of this column layout (readers read 1, 2 and 3, and refuse others)"),
    ("method", "gradient method (gradients.METHODS) or forward (the loss alone)"),
    ("depth", "L, the number of weight matrices"),
    ("width", "hidden width n[2..L+1]"),
    ("input_dim", "d = n[1]"),
    ("batch", "B, examples in the mini-batch"),
    ("activation", "relu or identity"),
    ("backend", "array library the network and batch live on: numpy, torch or cupy"),
    ("device", "cpu, or cuda:N (a bare cuda is written cuda:0, the device it means)"),
    ("dtype", "float64 or float32"),
    ("params", "trainable parameters, E + 1"),
    ("edges", "E = sum_t n[t+1]*n[t] + n[L+1] (weights plus alpha)"),
    ("nodes", "V = sum_t n[t] + 1"),
    ("ops", "exact multiplications of one call (gradients.op_count)"),
    ("time_median_s", "median seconds of one call (pyperf values)"),
    ("time_mean_s", "mean seconds of one call"),
    ("time_stdev_s", "standard deviation of the values"),
    ("time_min_s", "fastest value"),
    ("time_max_s", "slowest value"),
    ("n_values", "number of timed values pyperf kept"),
    ("time_vs_backprop", "one call's time over backprop's on the same network and batch, timed in alternating "
                         "blocks in one process (median of 5 to 25 rounds); empty for backprop and forward and "
                         "where five rounds take over 0.15 s"),
    ("max_rel_err", "largest relative difference from backprop on the same network and batch"),
    ("agree", "max_rel_err within tolerance (1e-8; numerical 1e-5)"),
    ("peak_mem_bytes", "peak memory allocated during one call, the returned gradient included (tracemalloc; "
                       "on a GPU the device's peak allocation)"),
    ("work_mem_bytes", "working memory of one call: peak_mem_bytes minus the bytes of the gradient it returns"),
    ("mem_model_bytes", "the working memory the method's model predicts (gradients.memory_count)"),
    ("status", "ok, skipped (over budget), timeout, or error"),
    ("reason", "why a point was skipped, timed out or failed; empty when ok"),
    ("seed", "seed of the network and data"),
    ("profile", "pyperf profile: quick, study, default, rigorous"),
    ("pyperf_json", "the point's pyperf JSON, relative to the CSV's folder"),
    ("python", "Python version"),
    ("numpy", "NumPy version"),
    ("framework", "the backend's library and version, e.g. numpy 2.4.0 or torch 2.13.0"),
    ("device_name", "the device that ran the call: the CPU model, or the GPU's name"),
    ("blas", "BLAS library NumPy uses"),
    ("blas_threads", "BLAS threads in the timing workers"),
    ("cpu", "CPU model"),
    ("l2_bytes", "the CPU's level 2 cache of one core, bytes (Linux /sys; empty where unknown)"),
    ("llc_bytes", "the CPU's last-level cache, bytes (Linux /sys; empty where unknown)"),
    ("timestamp", "UTC time the row was written (ISO 8601)"),
    # pyperf's metadata of the timing run (empty when the point was not timed)
    ("loops", "calls of the method per pyperf value (time_* columns are per call)"),
    ("pyperf", "pyperf version"),
    ("hostname", "machine that ran the timing workers"),
    ("platform", "operating system, as pyperf records it"),
    ("cpu_count", "logical CPUs of the machine"),
]
NAMES = [name for name, _ in COLUMNS]
# The time of a point in summaries, fits, plots and tables: the fastest of pyperf's values (each
# value is itself a mean over a loop of calls). On a shared machine noise only ever adds time,
# and a whole worker process can run slow; the fastest value is the least disturbed estimate
# of what the call costs, where a median over three processes can still land on a slow one.
TIME = "time_min_s"
POINT_KEY = ["method", "depth", "width", "input_dim", "batch", "activation", "seed", "backend", "device", "dtype"]
# numeric columns readers compute with: whole numbers known before anything runs (every row has them),
# and measurements (empty when their step did not run)
COUNTS = {"depth": 1, "width": 1, "input_dim": 1, "batch": 1, "seed": 0, "params": 1, "edges": 1, "nodes": 1,
          "ops": 1}  # column -> smallest valid value
MEASURES = ["time_median_s", "time_mean_s", "time_stdev_s", "time_min_s", "time_max_s", "n_values",
            "time_vs_backprop", "max_rel_err", "peak_mem_bytes", "work_mem_bytes", "mem_model_bytes", "l2_bytes",
            "llc_bytes"]
OK_TIMES = ["time_min_s", "time_median_s", "time_max_s"]  # an ok row has them, positive and in this order


def markdown_table():
    """The Markdown table of COLUMNS, one row per column in file order, as docs/results-csv.md holds it."""
    rows = ["| `{}` | {} |".format(name, meaning.replace("|", r"\|")) for name, meaning in COLUMNS]  # | splits cells
    return "\n".join(["| column | meaning |", "|---|---|", *rows]) + "\n"
# seconds of one call a sweep can measure (pyperf's clock resolves nanoseconds; no budget waits years):
# beyond them a time is damage, and it would overflow the plots' axes
TIME_RANGE = (1e-15, 1e9)
STATUSES = ("ok", "skipped", "timeout", "error")
