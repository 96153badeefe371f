"""A sweep's points: the one Point type (from options, a CSV row or a series' spec) and the plan
of a sweep."""

import importlib
import importlib.util
import re
from dataclasses import dataclass, fields
from itertools import product

import gradients
from bench.errors import UserError, whole_number
from bench.guard import MAX_DEPTH
from bench.placement import BACKENDS, DTYPES, Placement
from bench.schema import POINT_KEY
from bench.sweep.ranges import MAX_VALUES, parse_range
from gradients.sizes import uniform_edges, uniform_nodes


@dataclass(frozen=True)
class Point:
    """One row of the sweep: a method on one network shape and batch."""

    method: str
    depth: int
    width: int
    input_dim: int
    batch: int
    activation: str = "relu"
    seed: int = 0
    backend: str = "numpy"
    device: str = "cpu"
    dtype: str = "float64"

    @classmethod
    def from_row(cls, row):
        """The point of a results row (strings from csv or Python values)."""
        kinds = {f.name: f.type for f in fields(cls)}
        point = {k: int(row[k]) if kinds[k] is int else str(row[k]) for k in POINT_KEY}
        return cls(**{**point, "device": normal_device(point["device"])})

    @property
    def widths(self):
        return [self.input_dim] + [self.width] * self.depth

    @property
    def edges(self):
        return uniform_edges(self.depth, self.width, self.input_dim)

    @property
    def nodes(self):
        return uniform_nodes(self.depth, self.width, self.input_dim)

    @property
    def shape(self):
        """The network and batch, without the method: 'depth=4 width=8 input_dim=8 batch=1'."""
        return (f"depth={self.depth} width={self.width} input_dim={self.input_dim} "
                f"batch={self.batch}")

    @property
    def placement(self):
        return Placement(self.backend, self.device, self.dtype)

    @property
    def label(self):
        on = "" if self.placement.is_default else f" on {self.placement.label}"
        return f"{self.method} {self.shape}{on}"

    @property
    def slug(self):
        """File name of the point's pyperf JSON (its placement named where not the default)."""
        on = "" if self.placement.is_default else f"-{self.placement.slug}"
        return (f"{self.method}-d{self.depth}-w{self.width}-i{self.input_dim}-b{self.batch}"
                f"-{self.activation}-s{self.seed}{on}")

    def key(self):
        """The point key as strings, the form the CSV holds."""
        return tuple(str(getattr(self, k)) for k in POINT_KEY)


def parse_methods(text):
    """--methods: comma-separated registered gradient methods and baselines (forward), in order."""
    baselines = [n for n, r in gradients.RECORDS.items() if not r.is_gradient]
    known = list(gradients.METHODS) + baselines
    methods = [m.strip() for m in str(text).split(",") if m.strip()]
    if not methods:
        raise UserError(f"--methods: empty list (choose from {', '.join(known)})")
    for m in methods:
        record = gradients.RECORDS.get(m)
        if m not in known and record is not None and record.requires:  # registered where it can run
            raise UserError(f"--methods {text}: {m} is {record.about}, and "
                            f"{gradients.backends.not_installed(record.requires)}")
        if m not in known:
            raise UserError(f"--methods {text}: unknown method {m!r} "
                            f"(choose from {', '.join(known)})")
    return list(dict.fromkeys(methods))


DEVICE = re.compile(r"cpu|cuda(:\d+)?")


def normal_device(device):
    """The one spelling of a device in files and comparisons: 'cpu' or 'cuda:N'; 'cuda' is 'cuda:0'.

    A bare 'cuda' means the framework's current device, which in a process that never changed it
    (every sweep child, every `gradbench train`) is device 0 of those visible: the same device as
    'cuda:0', so the two must be one point, not two. Leading zeros go too ('cuda:01' is 'cuda:1').
    Anything else comes back as it is, for the caller's check to refuse.
    """
    kind, colon, index = str(device).strip().partition(":")
    if kind == "cuda" and (not colon or index.isdigit()):
        return f"cuda:{int(index or 0)}"
    return str(device).strip()


def _list(text, option):
    """A comma list's distinct, stripped items in order; empty: UserError."""
    items = list(dict.fromkeys(part.strip() for part in str(text).split(",") if part.strip()))
    if not items:
        raise UserError(f"{option}: empty list")
    return items


def parse_placements(backend, device, dtype):
    """--backend x --device x --dtype: every Placement to run, each checked to be installed and
    present.

    Nothing is imported but what a named backend needs (find_spec first): a missing library or
    device is refused here, before the sweep touches a file. Devices come back in their normal form
    (normal_device: cuda is cuda:0), so every point, row and comparison spells a device one way.
    """
    backends, devices = _list(backend, "--backend"), _list(device, "--device")
    dtypes = _list(dtype, "--dtype")
    for b in backends:
        if b not in BACKENDS:
            raise UserError(f"--backend {b}: choose from {', '.join(BACKENDS)}")
        if importlib.util.find_spec(b) is None:
            raise UserError(f"--backend {b}: {gradients.backends.not_installed(b)}")
    for d in devices:
        if not DEVICE.fullmatch(d):
            raise UserError(f"--device {d}: choose cpu, cuda or cuda:N")
    for t in dtypes:
        if t not in DTYPES:
            raise UserError(f"--dtype {t}: choose from {', '.join(DTYPES)}")
    for b, d in product(backends, devices):
        check_device(b, d)  # the device as given: the message speaks of what the user wrote
    devices = list(dict.fromkeys(normal_device(d) for d in devices))
    return [Placement(*on) for on in product(backends, devices, dtypes)]


FLOAT64_ONLY = {"numerical": "central differences: a step of 1e-5 is lost in float32 rounding"}


def check_float64_only(methods, dtypes, option):
    """UserError, before any work, for a method that needs float64 (numerical) in another dtype."""
    for m in methods:
        other = [t for t in dtypes if t != "float64"]
        if m in FLOAT64_ONLY and other:
            raise UserError(f"{option} {m} --dtype {other[0]}: {m} needs float64 "
                            f"({FLOAT64_ONLY[m]}); leave {m} out or use --dtype float64")


def check_device(backend, device):
    """UserError unless `backend` can compute on `device` on this machine, saying what was found."""
    if backend == "numpy" and device != "cpu":
        raise UserError(f"--backend numpy --device {device}: NumPy computes on the CPU only "
                        "(--backend torch or cupy for a GPU)")
    if backend == "cupy" and device == "cpu":
        raise UserError("--backend cupy --device cpu: CuPy computes on CUDA devices only "
                        "(--device cuda)")
    if device == "cpu":
        return
    index = int(device.partition(":")[2] or 0)
    count, found = cuda_devices(backend)
    if index >= count:
        raise UserError(f"--device {device}: {gradients.backends.EXTRAS[backend][0]} finds {found}")


def cuda_devices(backend):
    """(how many CUDA devices `backend` sees, what it found in words)."""
    lib = importlib.import_module(backend)
    if backend == "torch":
        count = lib.cuda.device_count() if lib.cuda.is_available() else 0
        built = f"built for CUDA {lib.version.cuda}" if lib.version.cuda else "a CPU-only build"
        names = "".join(f", cuda:{i} {lib.cuda.get_device_name(i)}" for i in range(count))
        return count, f"{count} CUDA device(s){names} (torch {lib.__version__}, {built})"
    try:
        count = lib.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDARuntimeError: no driver, no device
        message = str(e).splitlines()[0] if str(e) else "no message"
        return 0, f"no CUDA device ({type(e).__name__}: {message})"
    found = f"{count} CUDA device(s) (cuda:0 to cuda:{count - 1})" if count else "no CUDA device"
    return count, found


def plan(depth, width, batch, methods, input_dim=None, activation="relu", seed=0, backend="numpy",
         device="cpu", dtype="float64"):
    """Every point of the sweep, smallest network first (fewest edges, then smallest batch), each
    for every backend, device, dtype and method."""
    depths = parse_range(depth, "--depth")
    widths = parse_range(width, "--width")
    batches = parse_range(batch, "--batch")
    input_dims = None if input_dim in (None, "") else parse_range(input_dim, "--input-dim")
    # first: a missing library says what to install
    placements = parse_placements(backend, device, dtype)
    methods = parse_methods(methods)
    check_float64_only(methods, [on.dtype for on in placements], "--methods")
    if activation not in gradients.ACTIVATIONS:
        raise UserError(f"--activation {activation}: "
                        f"choose from {', '.join(gradients.ACTIVATIONS)}")
    if whole_number(seed, "--seed") < 0:
        raise UserError(f"--seed {seed}: must be 0 or more")
    if depths[-1] > MAX_DEPTH:
        raise UserError(f"--depth {depth}: {depths[-1]:,} layers, more than {MAX_DEPTH:,}: "
                        "a network is an array per layer, and even the op count of a deeper one "
                        "takes minutes")
    shapes = len(depths) * len(widths) * len(batches) * len(input_dims or [1])
    count = shapes * len(methods) * len(placements)
    if count > MAX_VALUES:
        raise UserError("--depth x --width x --batch x --input-dim x --methods x --backend "
                        f"x --device x --dtype: {count:,} points, more than {MAX_VALUES:,}")
    points = []
    for d, w, b in product(depths, widths, batches):
        for i in input_dims or [w]:
            points += [Point(m, d, w, i, b, activation, int(seed), *on)
                       for on in placements for m in methods]
    # stable: each shape's methods keep their order
    return sorted(points, key=lambda p: (p.edges, p.batch, p.depth, p.width, p.input_dim))
