"""Kaplan–Meier estimate with Greenwood variance and log-log confidence intervals, as R survival 3.5 computes them
(``survfit(Surv(...) ~ g, conf.type = "log-log")``, ``summary(fit, times = ...)``, ``quantile(fit, 0.5)``).

The engine supplies the risk sets (``_risk_sets``); this module only finishes the product step in numpy.

Transform (R ``survfit_confint``, conf.type = "log-log"): with se the Greenwood standard error of log S(t),
``se² = Σ d / (n (n − d))``, the limits are ``exp(−exp(log(−log S) ∓ z·se / log S))``, i.e. ``S^exp(±z·se/log S)``.
Where S = 0 the transform is undefined and the limits are null (R: NA). Where S = 1 (no event yet) the interval is
the single point 1 (R reports 1 at time 0 and NA at observed times before the first event; we report 1 throughout).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from mmemd.research.survival._distributions import normal_quantile
from mmemd.research.survival._models import (
    KaplanMeierGroup,
    KaplanMeierResult,
    KaplanMeierSteps,
    SurvivalAt,
)
from mmemd.research.survival._risk_sets import FloatArray, RiskTable, pool, risk_tables_of

# R quantile.survfit's tolerance: a curve within sqrt(machine epsilon) of 0.5 counts as exactly 0.5.
_TOL = math.sqrt(np.finfo(np.float64).eps)


def _none(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


def curve(rt: RiskTable, conf_level: float) -> dict[str, Any]:
    """Product-limit estimate on the exit rows of one risk table: times, S, limits (NaN = undefined), n, d.

    With float times the curve is as long as the data, so the arithmetic runs in place on a handful of arrays (the
    operations, and so the values, are those of the formulas in the module docstring)."""
    ex = rt.exits()
    n_risk = ex.at_risk()
    n = n_risk.astype(np.float64)
    d = ex.events.astype(np.float64)
    z = normal_quantile(1 - (1 - conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.divide(d, n)
        np.subtract(1.0, surv, out=surv)
        np.multiply.accumulate(surv, out=surv)
        # Greenwood on the log scale, d / (n (n − d)) summed; d == n gives +inf (S reaches 0), which stays inf.
        se = np.subtract(n, d)
        np.multiply(n, se, out=se)
        np.divide(d, se, out=se)
        se[d <= 0] = 0.0
        del d, n
        np.add.accumulate(se, out=se)
        np.sqrt(se, out=se)
        inside = (surv > 0) & (surv < 1)
        # shift = z·se / log S, where 0 < S < 1
        loglog = np.log(surv)
        shift = np.multiply(z, se, out=se)
        np.divide(shift, loglog, out=shift)
        shift[~inside] = np.nan
        # log(−log S)
        np.negative(loglog, out=loglog)
        np.log(loglog, out=loglog)
        lower = np.subtract(loglog, shift)
        upper = np.add(loglog, shift, out=loglog)
        del shift
        for limit in (lower, upper):  # S^exp(∓z·se/log S) = exp(−exp(log(−log S) ∓ shift))
            np.exp(limit, out=limit)
            np.negative(limit, out=limit)
            np.exp(limit, out=limit)
            limit[~inside] = np.nan
            limit[surv == 1] = 1.0
    return {
        "times": ex.times,
        "surv": surv,
        "lower": lower,
        "upper": upper,
        "n_risk": n_risk,
        "events": ex.events,
        "censored": ex.n_out - ex.events,
    }


def _findq(x: FloatArray, y: FloatArray, p: float, xmax: float) -> float | None:
    """R survival's ``findq`` for one probability: the time where the cumulative incidence ``y`` first reaches ``p``,
    or the midpoint of a flat stretch at exactly ``p`` (so a curve at exactly 0.5 has its median halfway to the next
    drop). ``y`` may hold NaN (undefined limits), which R's ``approx`` drops."""
    nan = np.isnan(y)
    if nan.all() or np.nanmax(y) < p:
        return None
    # duplicated(y): keep the first time of each distinct value (NaN counts as one value too).
    _, first = np.unique(np.where(nan, np.inf, y), return_index=True)
    keep = np.sort(first)
    xs, ys = x[keep], y[keep]
    finite = ~np.isnan(ys)

    def first_at_least(shift: float) -> int | None:
        # approx(y + shift, 1:n, p, method="constant", f=1): the position of the smallest y + shift >= p.
        ok = finite & (ys + shift >= p)
        if not ok.any():
            return None
        return int(np.argmin(np.where(ok, ys, np.inf)))

    i1, i2 = first_at_least(_TOL), first_at_least(-_TOL)
    if i1 is None or i2 is None:
        if i1 is None:
            return None
        q = math.nan
    else:
        q = (float(xs[i1]) + float(xs[i2])) / 2
    last = ys[-1]
    if not math.isnan(last) and abs(p - last) < _TOL:
        q = (float(xs[i1]) + xmax) / 2
    return _none(q)


def median_with_ci(c: dict[str, Any]) -> tuple[float | None, tuple[float | None, float | None]]:
    """Median survival and its CI as R's ``quantile.survfit``: the median of the lower limit curve is the lower
    limit. ``None`` where a curve never falls to 0.5 (median not reached)."""
    times = c["times"]
    if len(times) == 0:
        return None, (None, None)
    x = np.concatenate([[0.0], times])
    xmax = float(times[-1])

    def q(curve_values: FloatArray) -> float | None:
        return _findq(x, np.concatenate([[0.0], 1.0 - curve_values]), 0.5, xmax)

    return q(c["surv"]), (q(c["lower"]), q(c["upper"]))


def survival_at(c: dict[str, Any], at: Iterable[float]) -> list[SurvivalAt]:
    """R's ``summary(fit, times = at)``: S at the last exit time <= t (1 before the first); number at risk at the
    first exit time >= t. Past the last follow-up time S is unknown, so it is null there (R's ``extend = TRUE``
    would carry the last value forward), except when the curve has already reached 0, where it stays 0."""
    times, surv, lower, upper, n_risk = c["times"], c["surv"], c["lower"], c["upper"], c["n_risk"]
    out: list[SurvivalAt] = []
    for t in sorted(float(v) for v in at):
        i1 = int(np.searchsorted(times, t, side="right"))  # number of exit times <= t
        i2 = int(np.searchsorted(times, t, side="left"))  # first exit time >= t
        risk = int(n_risk[i2]) if i2 < len(times) else 0
        if i1 == 0:
            out.append(SurvivalAt(time=t, survival=1.0, lower=1.0, upper=1.0, at_risk=risk))
            continue
        s = float(surv[i1 - 1])
        if t > times[-1] and s > 0:
            out.append(SurvivalAt(time=t, survival=None, lower=None, upper=None, at_risk=0))
            continue
        out.append(
            SurvivalAt(
                time=t,
                survival=s,
                lower=_none(float(lower[i1 - 1])),
                upper=_none(float(upper[i1 - 1])),
                at_risk=risk,
            )
        )
    return out


def km_summary(rt: RiskTable, at: Sequence[float], conf_level: float, name: str | None) -> dict[str, Any]:
    """What :meth:`KaplanMeierGroup.summary` holds, without building the curve as Python lists (with float times the
    curve is as long as the data: a million-row curve costs a second as objects and nothing as numpy arrays)."""
    c = curve(rt, conf_level)
    med, ci = median_with_ci(c)
    return {
        "name": name,
        "n": rt.n,
        "events": rt.n_events,
        "median": med,
        "median_ci": ci,
        "survival_at": [s.model_dump() for s in survival_at(c, at)],
    }


def km_group(rt: RiskTable, at: Sequence[float], conf_level: float, name: str | None) -> KaplanMeierGroup:
    c = curve(rt, conf_level)
    med, ci = median_with_ci(c)
    steps = KaplanMeierSteps(
        times=[float(v) for v in c["times"]],
        survival=[float(v) for v in c["surv"]],
        lower=[_none(float(v)) for v in c["lower"]],
        upper=[_none(float(v)) for v in c["upper"]],
        at_risk=[int(v) for v in c["n_risk"]],
        events=[int(v) for v in c["events"]],
        censored=[int(v) for v in c["censored"]],
    )
    return KaplanMeierGroup(
        name=name,
        n=rt.n,
        events=rt.n_events,
        median=med,
        median_ci=ci,
        survival_at=survival_at(c, at),
        steps=steps,
    )


def kaplan_meier(
    source: Any,
    *,
    time: str,
    event: str,
    entry: str | None = None,
    group: str | None = None,
    at: Iterable[float] = (),
    conf_level: float = 0.95,
    overall: bool = False,
    backend: str = "duckdb",
) -> KaplanMeierResult:
    """Kaplan–Meier curves of ``source`` (anything :func:`open_table` accepts), one per value of ``group``.

    ``overall=True`` with a group adds the unstratified curve first (``name=None``), pooled from the same engine
    aggregates; with two or more groups, ``.logrank`` holds the log-rank test, also from the same aggregates. Event must be 0/1 (or boolean); with ``entry``, subjects are at risk on ``(entry, time]``.
    """
    from mmemd.research.survival._backend import SurvivalInputError
    from mmemd.research.survival._versions import versions

    if not 0 < conf_level < 1:
        raise SurvivalInputError("--conf-level", f"must be between 0 and 1 (got {conf_level})")
    at_list = [float(v) for v in at]
    if any(not math.isfinite(v) for v in at_list):
        raise SurvivalInputError("--at", "times must be finite numbers")
    table, tables, excluded = risk_tables_of(
        source, backend, time=time, event=event, entry=entry, group=group
    )
    groups: list[KaplanMeierGroup] = []
    if group and overall:
        groups.append(km_group(pool(tables), at_list, conf_level, None))
    for rt in tables:
        groups.append(km_group(rt, at_list, conf_level, None if rt.name is None else str(rt.name)))
    from mmemd.research.survival._logrank import logrank_from_tables

    return KaplanMeierResult(
        time=time,
        event=event,
        entry=entry,
        group=group,
        conf_level=conf_level,
        excluded=excluded,
        groups=groups,
        logrank=logrank_from_tables(tables) if group and len(tables) >= 2 else None,
        versions=versions(table),
    )
