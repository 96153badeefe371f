"""Statistics over rounds: a point's time, same-round ratios, local exponents and the time law.

A series times its points in rounds (bench.sweep.child): each round holds one block of calls of
every live point, so round r of two points ran within a fraction of a second of each other.
A point's values are the seconds per call of its blocks, value r from round r.

- A point's time is a low quantile of its values, the 10th percentile (QUANTILE). On a shared
  machine noise only adds time: a block preempted by another process, or slowed by a neighbour on
  the same cache, is slower, never faster, so the fastest blocks are the least disturbed. Measured
  here with both cores busy, the median of 21 rounds moved backprop's depth exponent by 0.25 where
  the 10th percentile moved it by 0.06. It is not the minimum: the bootstrap of a minimum is too
  narrow (an interval it calls 95% covered the truth 86% of the time in a simulation of slow
  spells and preemptions; the 10th percentile's 98%), and one lucky block sets it alone.
- Its interval, and every other interval here, is a percentile bootstrap over rounds. Where two
  points are compared (a ratio, a local exponent, a law over several points), each resample
  draws the same rounds for all of them: a slow spell that hit a whole round moves every point
  of it together and cancels in their ratio, as it does in the measurement.
"""

import numpy as np

QUANTILE = 0.1  # a point's time: this quantile of its rounds (see above)
LEVEL = 0.95
RESAMPLES = 2000
SEED = 0  # the bootstrap's own seed: the same file gives the same intervals


def _rng():
    return np.random.default_rng(SEED)


def _draws(rounds, rng, resamples=RESAMPLES):
    """Round indices of each resample: (resamples, rounds)."""
    return rng.integers(0, rounds, size=(resamples, rounds))


def _interval(samples):
    """The central LEVEL interval of bootstrap samples (NaN where none is finite)."""
    samples = np.asarray(samples, float)
    samples = samples[np.isfinite(samples)]
    if not len(samples):
        return np.nan, np.nan
    tail = 50 * (1 - LEVEL)
    lo, hi = np.percentile(samples, [tail, 100 - tail])
    return float(lo), float(hi)


def estimate(values, axis=-1):
    """A point's time from its rounds' values: their QUANTILE."""
    return np.quantile(values, QUANTILE, axis=axis)


def point_time(values):
    """(time, lo, hi): a point's time from its blocks, and its bootstrap interval."""
    v = np.asarray(values, float)  # (rounds,)
    if len(v) < 2:
        return (float(v[0]), np.nan, np.nan) if len(v) else (np.nan, np.nan, np.nan)
    resampled = estimate(v[_draws(len(v), _rng())])  # (resamples,)
    return (float(estimate(v)), *_interval(resampled))


def common(*series):
    """The rounds every series reached (points only ever leave the rounds): a (k, rounds) array."""
    n = min(len(s) for s in series)
    return np.array([np.asarray(s, float)[:n] for s in series])


def ratio(values, reference):
    """(ratio, lo, hi): median over shared rounds of values[r] / reference[r], and its interval."""
    a, b = common(values, reference)
    r = a / b  # (rounds,)
    if len(r) < 2:
        return (float(r[0]) if len(r) else np.nan), np.nan, np.nan
    medians = np.median(r[_draws(len(r), _rng())], axis=1)  # (resamples,)
    return (float(np.median(r)), *_interval(medians))


def local_exponent(n0, values0, n1, values1):
    """(k, lo, hi): log(t1 / t0) / log(n1 / n0) from same-round ratios of neighbouring points."""
    step = np.log(n1 / n0)
    return tuple(float(np.log(x) / step) for x in ratio(values1, values0))


def slope(x, y):
    """Least-squares slopes of the columns of y (points, ...) on x (points,)."""
    x = np.asarray(x, float)
    dx = x - x.mean()  # (points,)
    y = np.asarray(y, float)
    return np.tensordot(dx, y - y.mean(axis=0), axes=(0, 0)) / (dx @ dx)


def law_interval(n, values, groups=None):
    """(lo, hi) of the exponent k of t = c n^k over the points, by resampling rounds.

    values: each point's round values; groups: the series each point was timed in (one draw of
    rounds per series: points of different series shared no rounds). A point with fewer rounds
    than the longest of its series takes draw r as its round floor(u_r * its rounds).
    """
    groups = [0] * len(n) if groups is None else list(groups)
    rng = _rng()
    logs = np.empty((len(n), RESAMPLES))  # (points, resamples): log of each resample's time
    for g in dict.fromkeys(groups):
        members = [i for i, gi in enumerate(groups) if gi == g]
        longest = max(len(values[i]) for i in members)
        u = rng.random((RESAMPLES, longest))  # (resamples, rounds): one draw for the whole series
        for i in members:
            v = np.asarray(values[i], float)  # (rounds_i,)
            picks = v[(u * len(v)).astype(int)]  # (resamples, longest)
            logs[i] = np.log(estimate(picks))
    return _interval(slope(np.log(np.asarray(n, float)), logs))
