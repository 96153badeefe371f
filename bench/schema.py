"""The results CSV's layout: columns, their meaning, version (data only; bench.results reads it).

One row per point (POINT_KEY: method, depth, width, input_dim, batch, activation, seed, backend,
device, dtype). The CSV is the interface between `sweep` and `fit`/`plot`/`report`; bump
SCHEMA_VERSION when a column changes meaning, and readers refuse files of another version.
"""

SCHEMA_VERSION = 4
# Files of version 1 (before backends and working memory) are read as if their rows had run on
# NumPy, on the CPU, in float64 (the only possibility then), with the memory columns empty; files of
# versions 1 and 2 (before time_vs_backprop) with that column empty; files of versions 1 to 3
# (points timed by separate pyperf runs) with time_s their fastest value, time_min_s, and the
# columns of rounds empty.
READABLE_VERSIONS = (1, 2, 3, 4)
V1_DEFAULTS = {"backend": "numpy", "device": "cpu", "dtype": "float64"}
# a header alone (a sweep stopped in its first point) of version 2 lacks only these
ADDED_IN_3 = {"time_vs_backprop"}
ADDED_IN_4 = {"time_s", "time_lo_s", "time_hi_s", "local_k", "local_k_lo", "local_k_hi", "series"}

# (name, meaning) in file order; the column table of docs/results-csv.md is written from this list.
COLUMNS = [
    ("schema_version", "version of this column layout (readers read 1 to 4, and refuse others)"),
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
    ("time_s", "seconds of one call: the 10th percentile of the point's rounds (a block of calls "
               "each; bench.rounds says why); files of versions 1 to 3: their time_min_s"),
    ("time_lo_s", "lower end of time_s's 95% interval, a bootstrap over the rounds"),
    ("time_hi_s", "upper end of that interval"),
    ("time_median_s", "median seconds of one call over the rounds"),
    ("time_mean_s", "mean seconds of one call over the rounds"),
    ("time_stdev_s", "standard deviation of the rounds' values"),
    ("time_min_s", "fastest round"),
    ("time_max_s", "slowest round"),
    ("n_values", "rounds timed: one value each"),
    ("time_vs_backprop", "one call's time over backprop's on the same network and batch: the "
                         "median over their shared rounds of the ratio; empty for backprop and "
                         "forward and where the sweep has no backprop at that point"),
    ("local_k", "local exponent: log(t / t_before) / log(n / n_before) from the point before this "
                "one along the sweep's variable, same method, from same-round ratios; empty for "
                "the first point and where the sweep varies several of depth, width, batch"),
    ("local_k_lo", "lower end of local_k's 95% interval (bootstrap over shared rounds)"),
    ("local_k_hi", "upper end of that interval"),
    ("series", "the series (one child process's rounds) that timed the point: points of one series "
               "shared their rounds"),
    ("max_rel_err", "largest relative difference from backprop on the same network and batch"),
    ("agree", "max_rel_err within tolerance (1e-8; numerical 1e-5)"),
    ("peak_mem_bytes", "peak memory allocated during one call, the returned gradient included "
                       "(tracemalloc; on a GPU the device's peak allocation)"),
    ("work_mem_bytes", "working memory of one call: peak_mem_bytes minus the bytes of the "
                       "gradient it returns"),
    ("mem_model_bytes", "the working memory the method's model predicts (gradients.memory_count)"),
    ("status", "ok, skipped (over budget), timeout, or error"),
    ("reason", "why a point was skipped, timed out or failed; empty when ok"),
    ("seed", "seed of the network and data"),
    ("profile", "timing profile: quick, study, default, rigorous (rounds and block seconds)"),
    ("pyperf_json", "the pyperf suite of the point's series, relative to the CSV's folder; its "
                    "benchmark named by the point holds the rounds' values in round order"),
    ("python", "Python version"),
    ("numpy", "NumPy version"),
    ("framework", "the backend's library and version, e.g. numpy 2.4.0 or torch 2.13.0"),
    ("device_name", "the device that ran the call: the CPU model, or the GPU's name"),
    ("blas", "BLAS library NumPy uses"),
    ("blas_threads", "BLAS threads in the timing processes"),
    ("cpu", "CPU model"),
    ("l2_bytes", "the CPU's level 2 cache of one core, bytes (Linux /sys; empty where unknown)"),
    ("llc_bytes", "the CPU's last-level cache, bytes (Linux /sys; empty where unknown)"),
    ("timestamp", "UTC time the row was written (ISO 8601)"),
    # pyperf's metadata of the timing (empty when the point was not timed)
    ("loops", "calls of the method in one block (time_* columns are per call)"),
    ("pyperf", "pyperf version"),
    ("hostname", "machine that ran the series"),
    ("platform", "operating system, as pyperf records it"),
    ("cpu_count", "logical CPUs of the machine"),
]
NAMES = [name for name, _ in COLUMNS]
# The time of a point in summaries, fits, plots and tables: a low quantile of its rounds
# (bench.rounds says why), or for files of versions 1 to 3 the fastest of their pyperf values.
TIME = "time_s"
POINT_KEY = ["method", "depth", "width", "input_dim", "batch", "activation", "seed", "backend",
             "device", "dtype"]
# numeric columns readers compute with: whole numbers known before anything runs (every row has
# them), and measurements (empty when their step did not run)
COUNTS = {"depth": 1, "width": 1, "input_dim": 1, "batch": 1, "seed": 0, "params": 1, "edges": 1,
          "nodes": 1, "ops": 1}  # column -> smallest valid value
MEASURES = ["time_s", "time_lo_s", "time_hi_s", "local_k", "local_k_lo", "local_k_hi",
            "time_median_s", "time_mean_s", "time_stdev_s", "time_min_s", "time_max_s", "n_values",
            "time_vs_backprop", "max_rel_err", "peak_mem_bytes", "work_mem_bytes",
            "mem_model_bytes", "l2_bytes", "llc_bytes"]
# an ok row has them, positive and in this order
OK_TIMES = ["time_s", "time_min_s", "time_median_s", "time_max_s"]


def markdown_table():
    """The Markdown table of COLUMNS, a row per column in order, as docs/results-csv.md holds it."""
    # | splits cells
    rows = ["| `{}` | {} |".format(name, meaning.replace("|", r"\|")) for name, meaning in COLUMNS]
    return "\n".join(["| column | meaning |", "|---|---|", *rows]) + "\n"
# seconds of one call a sweep can measure (pyperf's clock resolves nanoseconds; no budget waits
# years): beyond them a time is damage, and it would overflow the plots' axes
TIME_RANGE = (1e-15, 1e9)
STATUSES = ("ok", "skipped", "timeout", "error")
