"""The pooled estimate: metafor's ``rma.uni`` (intercept only) with ``predict`` for the prediction interval.

What metafor 3.8-1 does, and this does:

* weights ``1/(vi + τ²)``; estimate, standard error and Wald-type z interval and test;
* ``knha``: Knapp–Hartung — the variance is multiplied by ``s² = Σw(y-μ)²/(k-1)`` (**not** floored at 1; that is
  metafor's ``test = "adhoc"``) and intervals and p values use t with k - 1 df;
* Q with inverse-variance (fixed-effect) weights, whatever the τ² estimator; its p from χ² with k - 1 df;
* I² and H²: for FE from Q, ``I² = max(0, (Q-(k-1))/Q)``, ``H² = Q/(k-1)``; for random-effects estimators from τ²
  and the typical within-study variance ``ṽ = (k-1)/(Σw - Σw²/Σw)``: ``I² = τ²/(ṽ+τ²)``, ``H² = (ṽ+τ²)/ṽ``;
  I² is in percent;
* prediction interval ``μ ± crit·sqrt(se² + τ²)`` with the same critical value as the confidence interval;
* k = 1: τ² = 0, Q = 0, p(Q) = 1, I² = 0, H² = 1 — heterogeneity cannot be estimated from one study.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

# scipy.special's ufuncs are what scipy.stats' distributions call underneath (same numbers) at a fraction of the
# per-call overhead and import time.
from scipy.special import chdtrc, ndtr, ndtri, stdtr, stdtrit  # type: ignore[import-untyped,unused-ignore]

from mmemd.research.meta._effect import EffectSizes, FloatArray, Measure
from mmemd.research.meta._errors import MetaInputError
from mmemd.research.meta._tau2 import MAX_ITER, Method, estimate_tau2, q_statistic
from mmemd.research.meta._transform import back_transform, back_transform_array

#: Keys of :meth:`MetaResult.summary`, the JSON contract of ``mmemd meta``.
SUMMARY_KEYS = (
    "k",
    "estimate",
    "se",
    "ci_lower",
    "ci_upper",
    "tau2",
    "i2",
    "h2",
    "q",
    "q_p",
    "pred_lower",
    "pred_upper",
    "pooled",
    "pooled_ci_lower",
    "pooled_ci_upper",
)


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass(frozen=True)
class StudyRow:
    study: str
    yi: float
    vi: float
    ci_lower: float
    ci_upper: float
    weight: float  # percent
    corrected: bool
    #: on the natural scale (None for GEN)
    value: float | None
    value_ci_lower: float | None
    value_ci_upper: float | None


@dataclass(frozen=True)
class MetaResult:
    measure: Measure
    method: Method
    knha: bool
    level: float
    k: int
    estimate: float
    se: float
    statistic: float  # z, or t under knha
    p: float
    df: int | None  # t degrees of freedom under knha
    ci_lower: float
    ci_upper: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_p: float
    pred_lower: float
    pred_upper: float
    pooled: float | None
    pooled_ci_lower: float | None
    pooled_ci_upper: float | None
    pooled_pred_lower: float | None
    pooled_pred_upper: float | None
    study_table: StudyTable
    iterations: int = 0
    notes: tuple[str, ...] = field(default=())

    @cached_property
    def studies(self) -> tuple[StudyRow, ...]:
        """One row per study, built on first use (the arrays are in :attr:`study_table`)."""
        return self.study_table.rows()

    def summary(self) -> dict[str, float | int | None]:
        """The issue's JSON keys; non-finite numbers (an undefined interval) become null."""
        out: dict[str, float | int | None] = {"k": self.k}
        for key in SUMMARY_KEYS[1:]:
            out[key] = _num(getattr(self, key))
        return out

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "measure": self.measure.value,
            "method": self.method.value,
            "knha": self.knha,
            "level": self.level,
            **self.summary(),
            "tau": _num(math.sqrt(self.tau2)),
            "statistic": _num(self.statistic),
            "statistic_name": "t" if self.knha else "z",
            "p": _num(self.p),
            "df": self.df,
            "q_df": self.q_df,
            "pooled_pred_lower": _num(self.pooled_pred_lower),
            "pooled_pred_upper": _num(self.pooled_pred_upper),
            "iterations": self.iterations,
            "notes": list(self.notes),
            "studies": [
                {
                    "study": s.study,
                    "yi": s.yi,
                    "vi": s.vi,
                    "ci_lower": s.ci_lower,
                    "ci_upper": s.ci_upper,
                    "weight": s.weight,
                    "corrected": s.corrected,
                    "value": _num(s.value),
                    "value_ci_lower": _num(s.value_ci_lower),
                    "value_ci_upper": _num(s.value_ci_upper),
                }
                for s in self.studies
            ],
        }
        return d


def _floats(v: FloatArray | None) -> list[float]:
    assert v is not None  # the always-present columns
    return [float(x) for x in v]


class StudyTable:
    """Per-study results — each study's own interval, its weight in percent and the natural-scale values (for PFT
    at the study's own n) — as arrays, computed for all studies at once on first use; :class:`StudyRow` objects
    only when asked for. A pooled fit that nobody reads per study pays nothing for them."""

    def __init__(self, es: EffectSizes, wi: FloatArray, z: float) -> None:
        self._es, self._wi, self._z = es, wi, z

    @cached_property
    def arrays(self) -> dict[str, FloatArray | None]:
        es = self._es
        yi = np.asarray(es.yi, dtype=np.float64)
        vi = np.asarray(es.vi, dtype=np.float64)
        half = self._z * np.sqrt(vi)
        lo, hi = yi - half, yi + half
        n = None if es.ni is None else np.asarray(es.ni, dtype=np.float64)
        value, value_lo, value_hi = (back_transform_array(es.measure, a, n) for a in (yi, lo, hi))
        return {
            "yi": yi,
            "vi": vi,
            "ci_lower": lo,
            "ci_upper": hi,
            "weight": 100 * self._wi / np.sum(self._wi),
            "value": value,
            "value_ci_lower": value_lo,
            "value_ci_upper": value_hi,
        }

    def rows(self) -> tuple[StudyRow, ...]:
        a = self.arrays
        yi, vi, lo, hi, w = (_floats(a[key]) for key in ("yi", "vi", "ci_lower", "ci_upper", "weight"))
        k = len(yi)
        nat: list[list[float | None]] = [
            [None] * k if a[key] is None else a[key].tolist()  # type: ignore[union-attr]
            for key in ("value", "value_ci_lower", "value_ci_upper")
        ]
        corrected = self._es.corrected
        return tuple(
            StudyRow(
                study=name,
                yi=yi[i],
                vi=vi[i],
                ci_lower=lo[i],
                ci_upper=hi[i],
                weight=w[i],
                corrected=bool(corrected[i]) if corrected else False,
                value=nat[0][i],
                value_ci_lower=nat[1][i],
                value_ci_upper=nat[2][i],
            )
            for i, name in enumerate(self._es.study)
        )


def rma(
    es: EffectSizes,
    method: Method | str = Method.REML,
    *,
    knha: bool = False,
    level: float = 95.0,
    max_iter: int = MAX_ITER,
) -> MetaResult:
    """Pool ``es`` with the τ² estimator ``method`` (metafor ``rma(yi, vi, method=, test="knha"|"z")``)."""
    m = Method(method)
    if not 0 < level < 100:
        raise MetaInputError("level", f"must be between 0 and 100 (percent), got {level:g}")
    yi, vi = es.yi, es.vi
    k = len(yi)
    if k == 0:
        raise MetaInputError("study", "no studies to pool")
    if np.any(vi <= 0):
        row = int(np.argmax(vi <= 0)) + 1
        raise MetaInputError("vi", f"row {row} ({es.study[row - 1]}): sampling variance must be > 0")
    notes: list[str] = []
    fit = estimate_tau2(yi, vi, m, max_iter=max_iter)
    tau2 = fit.tau2
    if fit.note:
        notes.append(fit.note)
    wi = 1 / (vi + tau2)
    sw = float(np.sum(wi))
    est = float(np.sum(wi * yi) / sw)
    var_b = 1 / sw
    alpha = 1 - level / 100
    df: int | None = None
    if knha:
        if k == 1:
            notes.append("Knapp-Hartung needs k >= 2: interval and test undefined with one study")
        rss = float(np.sum(wi * (yi - est) ** 2))
        s2w = 0.0 if rss <= np.finfo(np.float64).eps or k == 1 else rss / (k - 1)
        if k > 1 and s2w == 0.0:
            # metafor gives the same numbers; without a word a reader would take them for certainty
            notes.append(
                "Knapp-Hartung: every study has the same effect, so the adjusted variance is 0 and the interval has "
                "zero width (p = 0 when the effect is not 0): this reflects identical inputs, not certainty"
            )
        var_b *= s2w
        df = k - 1
        crit = float(stdtrit(df, 1 - alpha / 2)) if df > 0 else math.nan
    else:
        crit = float(ndtri(1 - alpha / 2))
    se = math.sqrt(var_b)
    stat = est / se if se > 0 else math.copysign(math.inf, est) if est else math.nan
    p_t = float(2 * stdtr(df, -abs(stat))) if df else math.nan
    p = p_t if knha else float(2 * ndtr(-abs(stat)))
    ci_lo, ci_hi = est - crit * se, est + crit * se
    pi_half = crit * math.sqrt(var_b + tau2)
    pred_lo, pred_hi = est - pi_half, est + pi_half

    if k > 1:
        w_fe = 1 / vi
        q = q_statistic(yi, w_fe)
        q_p = float(chdtrc(k - 1, q))
        vt = (k - 1) / float(np.sum(w_fe) - np.sum(w_fe**2) / np.sum(w_fe))
        if m is Method.FE:
            i2 = max(0.0, 100 * (q - (k - 1)) / q) if q > 0 else 0.0
            h2 = q / (k - 1)
        else:
            i2 = 100 * tau2 / (vt + tau2)
            h2 = tau2 / vt + 1
    else:
        q, q_p, i2, h2 = 0.0, 1.0, 0.0, 1.0
        notes.append(
            "k = 1: no heterogeneity can be estimated (tau2 = 0, Q = 0, I2 = 0, H2 = 1 by convention)"
        )
    if any(es.corrected):
        names = ", ".join(s for s, c in zip(es.study, es.corrected, strict=True) if c)
        notes.append(
            f"continuity correction 0.5 added to every cell of the studies with a zero cell: {names}"
        )

    f = back_transform(es.measure, es.ni)
    pooled = pooled_lo = pooled_hi = pooled_plo = pooled_phi = None
    if f is not None:
        pooled, pooled_lo, pooled_hi = f(est), f(ci_lo), f(ci_hi)
        pooled_plo, pooled_phi = f(pred_lo), f(pred_hi)
    if es.measure is Measure.PFT and es.ni is not None:
        notes.append("Freeman-Tukey back-transformation with the harmonic mean of n (Miller 1978)")
    return MetaResult(
        measure=es.measure,
        method=m,
        knha=knha,
        level=level,
        k=k,
        estimate=est,
        se=se,
        statistic=stat,
        p=p,
        df=df,
        ci_lower=ci_lo,
        ci_upper=ci_hi,
        tau2=tau2,
        i2=i2,
        h2=h2,
        q=q,
        q_df=k - 1,
        q_p=q_p,
        pred_lower=pred_lo,
        pred_upper=pred_hi,
        pooled=pooled,
        pooled_ci_lower=pooled_lo,
        pooled_ci_upper=pooled_hi,
        pooled_pred_lower=pooled_plo,
        pooled_pred_upper=pooled_phi,
        study_table=StudyTable(es, wi, float(ndtri(1 - alpha / 2))),
        iterations=fit.iterations,
        notes=tuple(notes),
    )
