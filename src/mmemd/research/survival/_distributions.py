"""The two distribution functions survival output needs, from the standard library.

``scipy.stats`` takes about 0.5 s to import and even ``scipy.special`` about 0.15 s (its array-API layer), which is
most of a small ``mmemd survival`` run. The normal quantile is ``statistics.NormalDist.inv_cdf`` (Wichura's AS 241,
full double precision). The chi-square upper tail is needed only at whole degrees of freedom (log-rank: groups − 1),
where the regularised upper incomplete gamma function ``Q(k/2, x/2)`` has a finite closed form (Abramowitz & Stegun
26.4.4–26.4.5): for even k, ``e^(−y) Σ_{i<k/2} y^i / i!``; for odd k, ``erfc(√y) + e^(−y) Σ_{j=1}^{(k−1)/2}
y^(j−1/2) / Γ(j+1/2)``, with y = x/2. The tests compare both with scipy.
"""

from __future__ import annotations

import math
from statistics import NormalDist

_STANDARD_NORMAL = NormalDist()


def normal_quantile(p: float) -> float:
    """z with P(Z ≤ z) = p for a standard normal Z."""
    return _STANDARD_NORMAL.inv_cdf(p)


def chi2_upper_tail(x: float, df: int) -> float:
    """P(X ≥ x) for X chi-square on a whole number ``df ≥ 1`` of degrees of freedom."""
    if df < 1 or df != int(df):
        raise ValueError(f"degrees of freedom must be a whole number >= 1, got {df!r}")
    if math.isnan(x):
        return math.nan
    if x <= 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    y = x / 2.0
    log_y = math.log(y)
    if df % 2 == 0:
        # Sum in log space: e^(−y) y^i / i! stays finite for large y where e^(−y) alone underflows late.
        return min(1.0, sum(math.exp(i * log_y - y - math.lgamma(i + 1)) for i in range(df // 2)))
    tail = math.erfc(math.sqrt(y))
    tail += sum(math.exp((j - 0.5) * log_y - y - math.lgamma(j + 0.5)) for j in range(1, (df - 1) // 2 + 1))
    return min(1.0, tail)
