"""Between-study variance τ² for the random-effects model (intercept only), as metafor's ``rma.uni`` estimates it.

* ``FE``: τ² = 0 (metafor's equal/fixed-effects model).
* ``DL``: DerSimonian–Laird, ``max(0, (Q - (k-1)) / (Σw - Σw²/Σw))``.
* ``REML``: Fisher scoring from the Hedges (HE) estimate, with metafor's step halving at the boundary 0 and its
  check that the solution beats τ² = 0 on the restricted likelihood; iterated until the change in τ² is below
  :data:`REML_TOL` (metafor's default stops at 1e-5), error after :data:`MAX_ITER` iterations.
* ``PM``: Paule–Mandel, the root of the generalised Q statistic ``Q(τ²) = k - 1`` (0 when ``Q(0) < k - 1``), to
  :data:`PM_TOL` (metafor's default ``uniroot`` tolerance is about 1.2e-4). Newton's method from τ² = 0 first:
  ``dQ/dτ² = −Σ w²(y − μ)²`` (μ's own derivative drops out because ``Σ w(y − μ) = 0``), and Q is decreasing and
  convex in τ², so the steps approach the root from below without overshooting (DerSimonian & Kacker 2007, §4).
  Should a step ever land past the root or stall, Brent's method takes over on the bracket found so far, whose
  upper end starts where metafor's does (``max(100, 10·mad(y)²)``) and is widened when needed rather than failing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from mmemd.research.meta._effect import FloatArray
from mmemd.research.meta._errors import ConvergenceError

REML_TOL = 1e-12
PM_TOL = 1e-14
MAX_ITER = 1000
#: metafor's ``con$tol`` (``.Machine$double.eps^0.25``): the likelihood margin for its τ² = 0 check.
_LL0_TOL = float(np.finfo(np.float64).eps) ** 0.25


class Method(StrEnum):
    FE = "FE"
    DL = "DL"
    REML = "REML"
    PM = "PM"


@dataclass(frozen=True)
class Tau2Fit:
    tau2: float
    iterations: int = 0
    #: metafor's warning when its REML solution lost to τ² = 0 (then τ² is set to 0)
    note: str | None = None


def _weighted_mean(yi: FloatArray, wi: FloatArray) -> float:
    return float(np.sum(wi * yi) / np.sum(wi))


def q_statistic(yi: FloatArray, wi: FloatArray) -> float:
    """The (generalised) Q statistic with weights ``wi``."""
    mu = _weighted_mean(yi, wi)
    return max(0.0, float(np.sum(wi * (yi - mu) ** 2)))


def tau2_dl(yi: FloatArray, vi: FloatArray) -> float:
    k = len(yi)
    wi = 1 / vi
    q = q_statistic(yi, wi)
    tr_p = float(np.sum(wi) - np.sum(wi**2) / np.sum(wi))
    return max(0.0, (q - (k - 1)) / tr_p)


def tau2_he(yi: FloatArray, vi: FloatArray) -> float:
    """Hedges' estimator (metafor's starting value for REML), not truncated."""
    k = len(yi)
    rss = float(np.sum((yi - yi.mean()) ** 2))
    tr_pv = float(np.sum(vi) * (1 - 1 / k))
    return (rss - tr_pv) / (k - 1)


def _reml_loglik(yi: FloatArray, vi: FloatArray, tau2: float) -> float:
    k = len(yi)
    wi = 1 / (vi + tau2)
    rss = q_statistic(yi, wi)
    return float(
        -0.5 * (k - 1) * math.log(2 * math.pi)
        - 0.5 * np.sum(np.log(vi + tau2))
        - 0.5 * math.log(np.sum(wi))
        - 0.5 * rss
    )


def tau2_reml(yi: FloatArray, vi: FloatArray, *, tol: float = REML_TOL, max_iter: int = MAX_ITER) -> Tau2Fit:
    tau2 = max(0.0, tau2_he(yi, vi))
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 (reported after the loop)
        wi = 1 / (vi + tau2)
        sw = float(np.sum(wi))
        py = wi * (yi - _weighted_mean(yi, wi))  # P y for P = W - w wᵀ / Σw
        tr_p = sw - float(np.sum(wi**2)) / sw
        tr_pp = float(np.sum(wi**2) - 2 * np.sum(wi**3) / sw + np.sum(wi**2) ** 2 / sw**2)
        adj = (float(np.sum(py**2)) - tr_p) / tr_pp
        if math.isnan(adj):
            adj = 0.0
        # metafor halves the step until it stays inside [0, ∞); at τ² = 0 that ends with a zero step.
        while tau2 + adj < 0:
            adj = 0.0 if tau2 == 0 else adj / 2
        tau2 += adj
        if abs(adj) <= tol:
            break
    else:
        raise ConvergenceError(
            f"REML (Fisher scoring) did not converge in {max_iter} iterations (last step {adj:.3g}); "
            "try method DL or PM"
        )
    note = None
    if tau2 > tol:
        ll0 = _reml_loglik(yi, vi, 0.0)
        if ll0 - _reml_loglik(yi, vi, tau2) > _LL0_TOL:
            note = "REML solution had a lower likelihood than tau2 = 0 (a local maximum); tau2 set to 0, as metafor does"
            tau2 = 0.0
    return Tau2Fit(tau2=max(0.0, tau2), iterations=iteration, note=note)


def _mad(yi: FloatArray) -> float:
    # R's mad(): median absolute deviation scaled by 1.4826.
    return float(1.4826 * np.median(np.abs(yi - np.median(yi))))


def tau2_pm(yi: FloatArray, vi: FloatArray, *, tol: float = PM_TOL) -> Tau2Fit:
    k = len(yi)
    target = k - 1

    def excess(t2: float) -> float:
        return q_statistic(yi, 1 / (vi + t2)) - target

    if excess(0.0) < 0:
        return Tau2Fit(tau2=0.0)
    newton = _pm_newton(yi, vi, target, tol)
    if newton is not None:
        return newton
    # Only when Newton did not settle it: scipy.optimize alone costs ~0.3-0.5 s to import.
    from scipy import optimize  # type: ignore[import-untyped,unused-ignore]  # scipy ships no stubs here

    upper = max(100.0, 10 * _mad(yi) ** 2)
    widenings = 0
    while excess(upper) > 0:
        upper *= 10
        widenings += 1
        if widenings > 30:
            raise ConvergenceError("Paule–Mandel: no root of Q(tau2) = k - 1 below 1e32")
    root, info = optimize.brentq(excess, 0.0, upper, xtol=tol, rtol=4 * np.finfo(float).eps, full_output=True)
    if not info.converged:
        raise ConvergenceError(f"Paule–Mandel root search did not converge: {info.flag}")
    return Tau2Fit(tau2=float(root), iterations=int(info.iterations))


def _pm_newton(
    yi: FloatArray, vi: FloatArray, target: int, tol: float, max_iter: int = 100
) -> Tau2Fit | None:
    """Newton's method for Q(τ²) = target from τ² = 0 (where Q > target); None if it does not converge cleanly."""
    tau2 = 0.0
    for iteration in range(1, max_iter + 1):
        wi = 1 / (vi + tau2)
        mu = _weighted_mean(yi, wi)
        r2 = (yi - mu) ** 2
        q = float(np.sum(wi * r2))
        slope = float(np.sum(wi**2 * r2))
        if slope <= 0:  # flat Q: let Brent decide
            return None
        step = (q - target) / slope
        if abs(step) <= tol * max(
            1.0, tau2
        ):  # at the root up to rounding (the last step may have either sign)
            return Tau2Fit(tau2=max(0.0, tau2 + step), iterations=iteration)
        if step < 0:  # past the root: not expected for a convex Q, so hand over to Brent
            return None
        tau2 += step
    return None


def estimate_tau2(
    yi: FloatArray, vi: FloatArray, method: Method | str, *, max_iter: int = MAX_ITER
) -> Tau2Fit:
    """τ² by ``method``; 0 with a single study (metafor fits k = 1 with τ² = 0 whatever the method)."""
    m = Method(method)
    if m is Method.FE or len(yi) == 1:
        return Tau2Fit(tau2=0.0)
    if m is Method.DL:
        return Tau2Fit(tau2=tau2_dl(yi, vi))
    if m is Method.REML:
        return tau2_reml(yi, vi, max_iter=max_iter)
    return tau2_pm(yi, vi)
