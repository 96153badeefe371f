"""Where a row ran, its placement: the backend, the device and the dtype, and how fits, figures and tables name it.

A file of one sweep on one placement (the NumPy default study) names no placement in its labels;
a file holding several (`sweep --backend numpy,torch --dtype float64,float32`) keys every sweep,
fit and curve by it, as `backprop (torch cuda:0 float32)`.
"""

from bench.formatting import values

PLACEMENT = ("backend", "device", "dtype")  # the results columns that say where a row ran
DEFAULT = ("numpy", "cpu", "float64")  # the default study's, named nowhere when it is a file's only one


def placements(df):
    """The distinct (backend, device, dtype) of a frame's rows: the default first, then by backend, device, dtype."""
    found = {tuple(str(v) for v in p) for p in df[list(PLACEMENT)].drop_duplicates().itertuples(index=False)}
    return sorted(found, key=lambda p: (p != DEFAULT, p[0] != DEFAULT[0], p[0], p[1], p[2] != DEFAULT[2], p[2]))


def several(df):
    """The frame holds rows of more than one placement."""
    return len(placements(df)) > 1


def label(placement):
    """'torch cuda:0 float32'."""
    return " ".join(placement)


def method_label(method, placement, keyed=True):
    """'backprop (torch cuda:0 float32)'; the bare method where placements are not keyed (a one-placement file)."""
    return f"{method} ({label(placement)})" if keyed else method


def fixed_suffix(placement):
    """What a sweep's fixed label gains in a file of several placements: ' backend=torch device=cpu dtype=float32'."""
    return "".join(f" {k}={v}" for k, v in zip(PLACEMENT, placement))


def rows_of(df, placement):
    """The rows of one placement."""
    keep = (df["backend"] == placement[0]) & (df["device"] == placement[1]) & (df["dtype"] == placement[2])
    return df[keep]


def device_name(rows):
    """The device that ran the rows: device_name, or for a file without it (schema version 1) the CPU column."""
    named = rows["device_name"].astype(str).str.strip()
    named = named[named != ""]
    if len(named):
        return values(named)
    cpus = rows["cpu"].astype(str).str.strip()
    return values(cpus[cpus != ""]) if (rows["device"] == "cpu").all() and (cpus != "").any() else "?"


def describe(df):
    """Each placement of a frame in words: 'numpy on cpu (AMD EPYC 7R13), float64'."""
    return [f"{p[0]} on {p[1]} ({device_name(rows_of(df, p))}), {p[2]}" for p in placements(df)]


def title(df):
    """What a figure's title says of where its rows ran: the CPU alone for the default study, else each placement."""
    found = placements(df)
    if found == [DEFAULT]:
        return str(df["cpu"].iloc[0])
    names = [device_name(rows_of(df, p)) for p in found]
    if len(set(names)) == 1:  # one device ran them all: name it once
        return ", ".join(label(p) for p in found) + f" on {names[0]}"
    return "; ".join(f"{label(p)} on {name}" for p, name in zip(found, names))


def fit_labels(fits):
    """Each fit's method as people read it: with its placement where the fits hold several, else the bare method."""
    where = fits[list(PLACEMENT)].astype(str).agg(tuple, axis=1) if len(fits) else fits["method"]
    keyed = where.nunique() > 1
    return [method_label(m, p, keyed) for m, p in zip(fits["method"], where)]
