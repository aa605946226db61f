"""Back-transformations to the natural scale, as metafor's ``transf.*`` functions compute them.

* PLO: inverse logit (``transf.ilogit``); RR, OR: exp (``exp``); PR, RD: identity; GEN: none.
* PAS: ``sin(x)^2``, clipped to [0, 1] outside [0, π/2] (``transf.iarcsin``).
* PFT: Miller's (1978) inversion of the Freeman–Tukey double arcsine with the **harmonic mean** of the studies'
  sample sizes for a pooled value (``transf.ipft.hm``), or a study's own n for that study (``transf.ipft``); values
  beyond the transform of 0 or 1 at that n are clipped to 0 or 1, as metafor does.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from mmemd.research.meta._effect import FloatArray, Measure


def pft(p: float, n: float) -> float:
    """metafor's ``transf.pft``: the (half-scaled) Freeman–Tukey transform of proportion ``p`` at sample size n."""
    x = p * n
    return 0.5 * (math.asin(math.sqrt(x / (n + 1))) + math.asin(math.sqrt((x + 1) / (n + 1))))


def ipft(x: float, n: float) -> float:
    """Miller (1978) inverse of the Freeman–Tukey transform at sample size n (metafor ``transf.ipft``)."""
    if x > pft(1.0, n):
        return 1.0
    if x < pft(0.0, n):
        return 0.0
    s = math.sin(2 * x)
    inner = 1 - (s + (s - 1 / s) / n) ** 2
    if inner < 0:  # metafor: NaN -> NA
        return math.nan
    return 0.5 * (1 - math.copysign(1.0, math.cos(2 * x)) * math.sqrt(inner))


def harmonic_mean(ni: FloatArray) -> float:
    return float(1 / np.mean(1 / ni))


def iarcsin(x: float) -> float:
    if x < 0:
        return 0.0
    if x > math.asin(1):
        return 1.0
    return math.sin(x) ** 2


def ilogit(x: float) -> float:
    # Stable at large |x|: exp of a negative number only.
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


def back_transform(measure: Measure, ni: FloatArray | None) -> Callable[[float], float] | None:
    """The function taking a value on the measure's scale to the natural scale; None for GEN (scale unknown).

    For PFT, ``ni`` are the sample sizes of the studies pooled (their harmonic mean is used).
    """
    if measure in (Measure.PR, Measure.RD):
        return lambda x: x
    if measure is Measure.PLO:
        return ilogit
    if measure in (Measure.RR, Measure.OR):
        return math.exp
    if measure is Measure.PAS:
        return iarcsin
    if measure is Measure.PFT:
        if ni is None:
            return None
        nhm = harmonic_mean(ni)
        return lambda x: ipft(x, nhm)
    return None


def back_transform_array(measure: Measure, x: FloatArray, n: FloatArray | None) -> FloatArray | None:
    """:func:`back_transform` over an array at once; for PFT each value uses its own ``n`` (a study's own interval,
    metafor ``transf.ipft``). Same formulas and clipping as the scalar functions."""
    x = np.asarray(x, dtype=np.float64)
    if measure in (Measure.PR, Measure.RD):
        return x.copy()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if measure is Measure.PLO:
            e = np.exp(-np.abs(x))
            return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        if measure in (Measure.RR, Measure.OR):
            return np.exp(x)
        if measure is Measure.PAS:
            return np.where(x < 0, 0.0, np.where(x > math.asin(1), 1.0, np.sin(x) ** 2))
        if measure is Measure.PFT and n is not None:
            n = np.asarray(n, dtype=np.float64)
            top = 0.5 * (np.arcsin(np.sqrt(n / (n + 1))) + np.arcsin(np.sqrt((n + 1) / (n + 1))))  # pft(1, n)
            bottom = 0.5 * (np.arcsin(0.0) + np.arcsin(np.sqrt(1 / (n + 1))))  # pft(0, n)
            sn = np.sin(2 * x)
            inner = 1 - (sn + (sn - 1 / sn) / n) ** 2
            mid = np.where(inner < 0, np.nan, 0.5 * (1 - np.copysign(1.0, np.cos(2 * x)) * np.sqrt(inner)))
            return np.where(x > top, 1.0, np.where(x < bottom, 0.0, mid))
    return None
