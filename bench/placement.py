"""Where a row ran, its placement: the backend, the device and the dtype, and how fits, figures
and tables name it.

A file of one sweep on one placement (the NumPy default study) names no placement in its labels;
a file holding several (`sweep --backend numpy,torch --dtype float64,float32`) keys every sweep,
fit and curve by it, as `backprop (torch cuda:0 float32)`.
"""

from typing import NamedTuple

from bench.formatting import values
from gradients import backends

# the array libraries a sweep runs on: gradients' backends but array_api_strict, a test's library
BACKENDS = tuple(b for b in backends.BACKENDS if b != "array_api_strict")
DTYPES = backends.DTYPES


class Placement(NamedTuple):
    """Where a point ran: an array library, a device ('cpu', 'cuda:N') and a float dtype."""

    backend: str = "numpy"
    device: str = "cpu"
    dtype: str = "float64"

    @classmethod
    def of(cls, row):
        """The placement of a results row (a mapping or a pandas row)."""
        return cls(*(str(row[name]) for name in cls._fields))

    @property
    def label(self):
        """'torch cuda:0 float32'."""
        return " ".join(self)

    @property
    def is_default(self):
        """NumPy on the CPU in float64: where every method runs with nothing extra installed."""
        return self == DEFAULT

    @property
    def slug(self):
        """The placement in a file name: 'torch-cuda0-float32'."""
        return f"{self.backend}-{self.device.replace(':', '')}-{self.dtype}"


PLACEMENT = Placement._fields  # the results columns that say where a row ran
DEFAULT = Placement()  # the default study's, named nowhere when it is a file's only one


def placements(df):
    """The distinct placements of a frame's rows: the default first, then by backend, device,
    dtype."""
    rows = df[list(PLACEMENT)].drop_duplicates().itertuples(index=False)
    found = {Placement(*map(str, p)) for p in rows}
    return sorted(found, key=lambda p: (p != DEFAULT, p.backend != DEFAULT.backend, p.backend,
                                        p.device, p.dtype != DEFAULT.dtype, p.dtype))


def several(df):
    """The frame holds rows of more than one placement."""
    return len(placements(df)) > 1


def method_label(method, placement, keyed=True):
    """'backprop (torch cuda:0 float32)'; the bare method where placements are not keyed (a
    one-placement file)."""
    return f"{method} ({placement.label})" if keyed else method


def rows_of(df, placement):
    """The rows of one placement."""
    keep = ((df["backend"] == placement.backend) & (df["device"] == placement.device)
            & (df["dtype"] == placement.dtype))
    return df[keep]


def device_name(rows):
    """The device that ran the rows: device_name, or for a file without it (schema 1) the CPU."""
    named = rows["device_name"].astype(str).str.strip()
    named = named[named != ""]
    if len(named):
        return values(named)
    cpus = rows["cpu"].astype(str).str.strip()
    on_cpus = (rows["device"] == "cpu").all() and (cpus != "").any()
    return values(cpus[cpus != ""]) if on_cpus else "?"


def describe(df):
    """Each placement of a frame in words: 'numpy on cpu (AMD EPYC 7R13), float64'."""
    return [f"{p.backend} on {p.device} ({device_name(rows_of(df, p))}), {p.dtype}"
            for p in placements(df)]


def title(df):
    """What a figure's title says of where its rows ran: the CPU alone for the default study,
    else each placement."""
    found = placements(df)
    if found == [DEFAULT]:
        return str(df["cpu"].iloc[0])
    names = [device_name(rows_of(df, p)) for p in found]
    if len(set(names)) == 1:  # one device ran them all: name it once
        return ", ".join(p.label for p in found) + f" on {names[0]}"
    return "; ".join(f"{p.label} on {name}" for p, name in zip(found, names))


def fit_labels(fits):
    """Each fit's method as people read it: with its placement where the fits hold several, else
    the bare method."""
    where = [Placement.of(r) for _, r in fits[list(PLACEMENT)].iterrows()]
    keyed = len(set(where)) > 1
    return [method_label(m, p, keyed) for m, p in zip(fits["method"], where)]
