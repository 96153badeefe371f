"""A method record: everything bench needs to know of a method, kept beside its module.

The registry (gradients.registry) holds one per method; bench reads them instead of keeping
tables of its own (colours, theory exponents, table order, which calls tracemalloc sees).
"""

import importlib.util
import math
from dataclasses import dataclass, fields
from numbers import Real
from types import ModuleType

GRADIENT, BASELINE = "gradient", "baseline"
KINDS = (GRADIENT, BASELINE)


@dataclass(frozen=True)
class Method:
    """One method. Every field is required: a record that lacks one is refused."""

    name: str
    # gradient(net, X, y, tally), op_count, memory_count; None: the loss alone
    module: ModuleType | None
    kind: str  # GRADIENT, or BASELINE: timed beside the gradients, no gradient of its own
    about: str  # what it is, in a few words
    time_in_e: float  # theory: exponent of a call's time in E (the edges)
    memory_in_depth: float  # theory: exponent of its working memory in the depth (nan: none)
    memory_in_width: float  # ... and in the width
    traced: bool  # tracemalloc sees its memory: it allocates through NumPy
    color: str  # matplotlib colour of its points and lines
    marker: str  # matplotlib marker
    order: float  # place in tables and legends, the expensive first
    contender: bool  # a column of the speedup tables (numerical is an oracle, not a contender)
    requires: str | None  # the module it needs (also the extra that installs it), or None

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.name not in ("module", "requires"):
                raise ValueError(f"method record {self.name!r}: {f.name} is missing")
        for name in ("name", "about", "color", "marker"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"method record {self.name!r}: {name} must be a non-empty string")
        if self.kind not in KINDS:
            raise ValueError(f"method record {self.name!r}: kind must be one of {KINDS}, "
                             f"got {self.kind!r}")
        for name in ("time_in_e", "memory_in_depth", "memory_in_width", "order"):
            value = getattr(self, name)
            if not isinstance(value, Real) or isinstance(value, bool) or math.isinf(value):
                raise ValueError(f"method record {self.name!r}: {name} must be a number, "
                                 f"got {value!r}")
        for name in ("traced", "contender"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"method record {self.name!r}: {name} must be True or False")
        if (self.module is None) != (self.kind == BASELINE):
            raise ValueError(f"method record {self.name!r}: "
                             "a gradient method has a module, a baseline none")
        missing = [f for f in ("gradient", "op_count")
                   if self.module and not hasattr(self.module, f)]
        if missing:
            raise ValueError(f"method record {self.name!r}: its module has no {', '.join(missing)}")

    @property
    def is_gradient(self):
        return self.kind == GRADIENT

    def available(self):
        """Whether it can run here: what it requires is installed."""
        return self.requires is None or importlib.util.find_spec(self.requires) is not None


class Unknown:
    """What bench shows a method no record describes (a results file of another set-up) as: a
    gradient, no theory, matplotlib's next colour and a dot, after every known method."""

    def __init__(self, name):
        self.name, self.module, self.kind, self.about = name, None, GRADIENT, "not registered here"
        self.time_in_e = self.memory_in_depth = self.memory_in_width = float("nan")
        self.traced, self.color, self.marker, self.order = False, None, "o", math.inf
        self.contender, self.requires, self.is_gradient = False, None, True

    def available(self):
        return False
