"""Range syntax of --depth, --width, --batch: `8`, `1,2,4`, `2:20:2` (stop included), `1:64:x2`."""

import math

from bench.errors import UserError

MAX_VALUES = 10_000  # a longer range is a typo: its sweep would never end


def parse_range(text, name="range", minimum=1):
    """Parse one range: a sorted list of distinct ints >= minimum, or UserError naming the fault."""
    spec = str(text).strip()
    if not spec:
        raise UserError(f"{name}: empty range (examples: 8, 1,2,4, 2:20:2, 1:64:x2)")
    if ":" in spec:
        values = _slice(spec, name)
    else:
        values = [_int(part, spec, name) for part in spec.split(",")]
    for v in values:
        if v < minimum:
            raise UserError(f"{name} {spec}: {v} is below the minimum {minimum}")
    values = sorted(set(values))
    _check_count(len(values), spec, name)
    return values


def _check_count(count, spec, name):
    if count > MAX_VALUES:
        raise UserError(f"{name} {spec}: more than {MAX_VALUES:,} values")


def _slice(spec, name):
    """`start:stop:step` (arithmetic) or `start:stop:xF` (geometric); stop included when reached."""
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise UserError(f"{name} {spec}: expected start:stop:step or start:stop:xFACTOR")
    start, stop = _int(parts[0], spec, name), _int(parts[1], spec, name)
    if stop < start:
        raise UserError(f"{name} {spec}: stop {stop} is below start {start}")
    step = parts[2].strip() if len(parts) == 3 else "1"
    if step[:1].lower() == "x":
        return _geometric(start, stop, step[1:], spec, name)
    step = _int(step, spec, name)
    if step < 1:
        raise UserError(f"{name} {spec}: step must be a positive integer, not {step}")
    _check_count((stop - start) // step + 1, spec, name)  # before building the list
    return list(range(start, stop + 1, step))


def _geometric(start, stop, factor_text, spec, name):
    """start, start*f, start*f^2, ... <= stop, rounded to ints (distinct, so x1.5 works too)."""
    try:
        factor = float(factor_text)
    except ValueError:
        raise UserError(f"{name} {spec}: factor {factor_text!r} is not a number") from None
    if not math.isfinite(factor) or factor <= 1:
        raise UserError(f"{name} {spec}: factor must be greater than 1, not {factor_text}")
    if start < 1:
        raise UserError(f"{name} {spec}: a geometric range must start at 1 or more, not {start}")
    values, k = [], 0
    while (v := round(start * factor**k)) <= stop:
        if not values or v > values[-1]:
            values.append(v)
            _check_count(len(values), spec, name)
        # jump to just before the first power that can round past v: a factor near 1 takes one step
        # per value
        k = max(k + 1, math.ceil(math.log((v + 0.5) / start, factor)) - 1)
    return values


def _int(part, spec, name):
    """One integer of a range, or a UserError quoting the whole range."""
    part = part.strip()
    try:
        return int(part)
    except ValueError:
        raise UserError(f"{name} {spec}: {part!r} is not an integer "
                        "(examples: 8, 1,2,4, 2:20:2, 1:64:x2)") from None
