"""k-group log-rank test from the engine's risk tables (R ``survdiff(..., rho = 0)``).

At each distinct event time j of the pooled data, with n_j at risk and d_j events, group g expects
``E_gj = d_j n_gj / n_j``; the covariance is ``V_gh = Σ_j d_j (n_j − d_j) / (n_j − 1) · n_gj / n_j (δ_gh − n_hj / n_j)``.
The statistic is ``(O − E)ᵀ V⁻ (O − E)`` over all groups but the first with E > 0, on that many degrees of freedom
(as survdiff). With delayed entry, the risk sets are ``entry < t <= time`` (survdiff itself refuses counting-process
data; the statistic then equals the score test of a Breslow-ties Cox model on the group, which the tests check).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mmemd.research.survival._distributions import chi2_upper_tail
from mmemd.research.survival._models import LogRankGroup, LogRankResult
from mmemd.research.survival._risk_sets import RiskTable, pool, risk_tables_of


def logrank_from_tables(tables: list[RiskTable], pooled: RiskTable | None = None) -> LogRankResult:
    """The test from per-group risk tables; ``pooled`` is :func:`pool` of them when the caller already has it."""
    if len(tables) < 2:
        from mmemd.research.survival._backend import SurvivalInputError

        raise SurvivalInputError(
            "--group", f"the log-rank test needs at least 2 groups (found {len(tables)})"
        )
    pooled = (pooled if pooled is not None else pool(tables)).exits()
    has_event = pooled.events > 0
    times = pooled.times[has_event]
    d = pooled.events[has_event].astype(np.float64)
    n = pooled.at_risk()[has_event].astype(np.float64)
    k = len(tables)
    # the share of each group in the risk set at each pooled event time (k x J); each group's events all fall on
    # pooled event times, so its observed count is its own event total
    frac = np.empty((k, len(times)))
    for i, rt in enumerate(tables):
        frac[i] = rt.at_risk_before(times)
    frac /= n
    observed = np.array([rt.n_events for rt in tables], dtype=np.float64)
    expected = (frac * d).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(n > 1, d * (n - d) / (n - 1), 0.0)
    var = np.einsum("j,gj->g", w, frac)[:, None] * np.eye(k) - np.einsum("j,gj,hj->gh", w, frac, frac)
    keep = np.flatnonzero(expected > 0)[1:]
    diff = (observed - expected)[keep]
    v = var[np.ix_(keep, keep)]
    stat = float(diff @ np.linalg.pinv(v) @ diff) if len(keep) else 0.0
    df = len(keep)
    p = chi2_upper_tail(stat, df) if df > 0 else 1.0
    groups = [
        LogRankGroup(name=str(rt.name), n=rt.n, observed=int(observed[i]), expected=float(expected[i]))
        for i, rt in enumerate(tables)
    ]
    return LogRankResult(chi2=stat, df=df, p=p, groups=groups)


def logrank_test(
    source: Any,
    *,
    time: str,
    event: str,
    group: str,
    entry: str | None = None,
    backend: str = "duckdb",
) -> LogRankResult:
    """Log-rank test of equal survival across the values of ``group`` (``result["chi2"]``, ``["df"]``, ``["p"]``)."""
    _, tables, _ = risk_tables_of(source, backend, time=time, event=event, entry=entry, group=group)
    return logrank_from_tables(tables)
