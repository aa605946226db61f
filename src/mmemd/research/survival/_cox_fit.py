"""Cox partial-likelihood fit by Newton–Raphson, vectorised over the distinct event times (numpy, no per-time loop).

For coefficients β, weights ``w_i = exp(x_i β)`` and the distinct event times τ_j with d_j events, the risk set of
τ_j is ``entry_i < τ_j <= time_i`` (counting-process data; entry is −∞ without delayed entry). Its sums
``S0_j = Σ w_i``, ``S1_j = Σ w_i x_i``, ``S2_j = Σ w_i x_i x_iᵀ`` come from suffix sums over the rows ordered by
time, minus those ordered by entry — one cumulative sum per quantity, whatever the number of times.

Ties (Therneau & Grambsch, *Modeling Survival Data*, 2000, §3.3): Breslow uses the full risk set for each of the
d_j events; Efron removes the fraction ``c = k / d_j`` (k = 0 … d_j − 1) of the tied events' own sums ``A0_j, A1_j,
A2_j``. Each (τ_j, k) pair is one "slot" with denominator ``S0_j − c A0_j``; the log partial likelihood, score and
information are sums over slots, so they are array expressions over all slots at once:

    ℓ = Σ_events x_i β − Σ_slots log(S0 − c A0)
    U = Σ_events x_i − Σ_slots m,           m = (S1 − c A1) / (S0 − c A0)
    I = Σ_slots (S2 − c A2) / (S0 − c A0) − m mᵀ

As R ``coxph``: covariates are centred (β is unchanged), Newton steps start at β = 0 and are halved while the
likelihood falls. Iteration continues past coxph's 1e-9 relative-likelihood stop until the step itself is below
1e-10 (relative), so results sit at the maximum, not one iteration short of it.

Robust (sandwich) variance, R ``coxph(robust = TRUE)`` without clusters: ``I⁻¹ (Σ_i r_i r_iᵀ) I⁻¹`` with the score
residuals ``r_i = δ_i (x_i − m̄_j(i)) − w_i Σ_{slots at risk} a_is (x_i − m_s) / den_s``, where a tied event's own
slots count with weight ``1 − c`` (Efron) and ``m̄`` is the mean of its time's slot means; the sums over slots are
cumulative sums over event times, taken between each row's entry and exit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Ties = Literal["efron", "breslow"]

_MAX_ITER = 50
_STEP_TOL = 1e-10


class CoxFitError(ValueError):
    """The model cannot be fitted (no events, or a singular information matrix: collinear covariates)."""


@dataclass(frozen=True)
class CoxFit:
    coef: FloatArray
    var: FloatArray
    robust_var: FloatArray | None
    loglik: float
    loglik_null: float
    iterations: int
    converged: bool
    ties: Ties
    n: int
    n_events: int


@dataclass(frozen=True)
class _Layout:
    """Everything about the data that does not depend on β. Rows are ordered by time."""

    x: FloatArray  # centred covariates, n x p
    xx: FloatArray  # products x_a x_b of the upper triangle (a <= b), n x p(p+1)/2
    tri: tuple[NDArray[np.intp], NDArray[np.intp]]  # (a, b) of each column of xx
    group_starts: NDArray[np.intp]  # first row of each distinct time (all rows)
    pos_time: NDArray[np.intp]  # index of each τ_j among the distinct times
    event_rows: NDArray[np.intp]  # rows with an event (ordered by time, as all rows are)
    starts: NDArray[np.intp]  # first position in event_rows of each distinct event time
    times: FloatArray  # distinct event times τ_j
    d: FloatArray  # events at each τ_j
    by_entry: NDArray[np.intp] | None  # rows ordered by entry (delayed entry only)
    pos_entry: NDArray[np.intp] | None  # first position in by_entry with entry >= τ_j
    slot_time: NDArray[np.intp]  # τ index of each slot
    slot_c: FloatArray  # Efron fraction of each slot (0 for Breslow)
    x_events_sum: FloatArray  # Σ over events of x_i


def _layout(
    time: FloatArray, event: NDArray[np.bool_], x: FloatArray, entry: FloatArray | None, ties: Ties
) -> _Layout:
    """``time`` must be sorted ascending (and the other arrays in the same row order)."""
    x = x - x.mean(axis=0)
    tri = np.triu_indices(x.shape[1])
    ev = np.flatnonzero(event)
    times, starts, counts = np.unique(time[ev], return_index=True, return_counts=True)
    all_times, group_starts = np.unique(time, return_index=True)
    by_entry = pos_entry = None
    if entry is not None:
        by_entry = np.argsort(entry, kind="stable")
        pos_entry = np.searchsorted(entry[by_entry], times, side="left")
    slot_time = np.repeat(np.arange(len(times)), counts)
    if ties == "efron":
        k = np.arange(len(ev)) - np.repeat(starts, counts)
        slot_c = k / counts[slot_time]
    else:
        slot_c = np.zeros(len(ev))
    return _Layout(
        x=x,
        xx=x[:, tri[0]] * x[:, tri[1]],
        tri=(tri[0].astype(np.intp), tri[1].astype(np.intp)),
        group_starts=group_starts.astype(np.intp),
        pos_time=np.searchsorted(all_times, times).astype(np.intp),
        event_rows=ev,
        starts=starts,
        times=times,
        d=counts.astype(np.float64),
        by_entry=by_entry,
        pos_entry=pos_entry,
        slot_time=slot_time,
        slot_c=slot_c.astype(np.float64),
        x_events_sum=x[ev].sum(axis=0),
    )


def _risk_sum(lay: _Layout, v: FloatArray) -> FloatArray:
    """Σ over each τ_j's risk set of the rows of ``v`` (first axis = rows): rows are summed per distinct time first,
    so the cumulative sum runs over distinct times, not rows."""
    grouped = np.add.reduceat(v, lay.group_starts, axis=0)
    suffix = np.cumsum(grouped[::-1], axis=0)[::-1]
    out = suffix[lay.pos_time]
    if lay.by_entry is not None and lay.pos_entry is not None:
        late = np.cumsum(v[lay.by_entry][::-1], axis=0)[::-1]
        late = np.concatenate([late, np.zeros((1, *v.shape[1:]))])
        out = out - late[lay.pos_entry]
    return np.asarray(out)


def _pieces(
    lay: _Layout, beta: FloatArray, with_information: bool
) -> tuple[float, FloatArray, FloatArray, dict[str, FloatArray]]:
    x = lay.x
    eta = x @ beta
    shift = float(eta.max()) if len(eta) else 0.0  # exp() never overflows; the shift cancels in m and I
    w = np.exp(eta - shift)
    wx = w[:, None] * x
    s0 = _risk_sum(lay, w)
    s1 = _risk_sum(lay, wx)
    ev = lay.event_rows
    a0 = np.add.reduceat(w[ev], lay.starts)
    a1 = np.add.reduceat(wx[ev], lay.starts, axis=0)
    j, c = lay.slot_time, lay.slot_c
    den = s0[j] - c * a0[j]
    m = (s1[j] - c[:, None] * a1[j]) / den[:, None]
    loglik = float(eta[ev].sum() - np.log(den).sum() - shift * len(den))
    score = lay.x_events_sum - m.sum(axis=0)
    p = x.shape[1]
    info = np.zeros((p, p))
    if with_information:
        wxx = w[:, None] * lay.xx
        s2 = _risk_sum(lay, wxx)
        a2 = np.add.reduceat(wxx[ev], lay.starts, axis=0)
        # Σ_slots (S2 − c A2)/den without a slots x p x p array: group the slots of each time.
        inv = 1.0 / den
        per_time_inv = np.bincount(j, weights=inv, minlength=len(lay.times))
        per_time_cinv = np.bincount(j, weights=c * inv, minlength=len(lay.times))
        upper = per_time_inv @ s2 - per_time_cinv @ a2
        info[lay.tri] = upper
        info[lay.tri[1], lay.tri[0]] = upper
        info -= m.T @ m
    return loglik, score, info, {"w": w, "den": den, "m": m}


def _robust_variance(
    lay: _Layout,
    parts: dict[str, FloatArray],
    var: FloatArray,
    entry: FloatArray | None,
    time: FloatArray,
    event: NDArray[np.bool_],
) -> FloatArray:
    x = lay.x
    w, den, m = parts["w"], parts["den"], parts["m"]
    j, c = lay.slot_time, lay.slot_c
    n_times = len(lay.times)
    inv = 1.0 / den
    h = np.bincount(j, weights=inv, minlength=n_times)  # Σ_slots 1/den per time
    g = np.stack(
        [np.bincount(j, weights=m[:, a] * inv, minlength=n_times) for a in range(x.shape[1])], axis=1
    )
    own = 1.0 - c  # weight of a tied event in its own time's slots
    h_own = np.bincount(j, weights=own * inv, minlength=n_times)
    g_own = np.stack(
        [np.bincount(j, weights=own * m[:, a] * inv, minlength=n_times) for a in range(x.shape[1])], axis=1
    )
    m_sum = np.stack([np.bincount(j, weights=m[:, a], minlength=n_times) for a in range(x.shape[1])], axis=1)
    m_bar = m_sum / lay.d[:, None]
    hc = np.concatenate([[0.0], np.cumsum(h)])
    gc = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(g, axis=0)])
    hi = np.searchsorted(lay.times, time, side="right")
    lo = (
        np.zeros(len(time), dtype=np.intp)
        if entry is None
        else np.searchsorted(lay.times, entry, side="right")
    )
    hsum = hc[hi] - hc[lo]
    gsum = gc[hi] - gc[lo]
    ev = lay.event_rows
    jev = np.searchsorted(lay.times, time[ev])
    hsum[ev] += h_own[jev] - h[jev]
    gsum[ev] += g_own[jev] - g[jev]
    resid = -w[:, None] * (x * hsum[:, None] - gsum)
    resid[ev] += x[ev] - m_bar[jev]
    # The weights were scaled by exp(−max η); S0 and den carry the same factor, so w/den is exact.
    dfbeta = resid @ var
    return np.asarray(dfbeta.T @ dfbeta)


def cox_fit(
    time: FloatArray,
    event: NDArray[np.bool_],
    x: FloatArray,
    entry: FloatArray | None = None,
    ties: Ties = "efron",
    robust: bool = False,
) -> CoxFit:
    """Maximum partial-likelihood fit of ``Surv(entry, time, event) ~ x``; rows must already be complete and valid."""
    time = np.asarray(time, dtype=np.float64)
    event = np.asarray(event, dtype=bool)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != len(time):
        raise CoxFitError("the design matrix needs one row per observation")
    if not event.any():
        raise CoxFitError("no events: the partial likelihood is flat")
    order = np.argsort(time, kind="stable")
    time, event, x = time[order], event[order], x[order]
    entry_sorted = None if entry is None else np.asarray(entry, dtype=np.float64)[order]
    lay = _layout(time, event, x, entry_sorted, ties)
    beta = np.zeros(x.shape[1])
    loglik, score, info, parts = _pieces(lay, beta, True)
    loglik_null = loglik
    converged = False
    iterations = 0
    while iterations < _MAX_ITER:
        iterations += 1
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            raise CoxFitError("singular information matrix: the covariates are collinear") from None
        new = beta + step
        new_loglik, new_score, new_info, new_parts = _pieces(lay, new, True)
        halvings = 0
        while not new_loglik >= loglik - 1e-12 * abs(loglik) and halvings < 30:
            step = step / 2
            new = beta + step
            new_loglik, new_score, new_info, new_parts = _pieces(lay, new, True)
            halvings += 1
        beta, loglik, score, info, parts = new, new_loglik, new_score, new_info, new_parts
        if np.all(np.abs(step) <= _STEP_TOL * (1 + np.abs(beta))):
            converged = True
            break
    try:
        var: FloatArray = np.asarray(np.linalg.inv(info), dtype=np.float64)
    except np.linalg.LinAlgError:
        raise CoxFitError("singular information matrix: the covariates are collinear") from None
    robust_var = None
    if robust:
        robust_var = _robust_variance(lay, parts, var, entry_sorted, time, event)
    return CoxFit(
        coef=beta,
        var=var,
        robust_var=robust_var,
        loglik=loglik,
        loglik_null=loglik_null,
        iterations=iterations,
        converged=converged,
        ties=ties,
        n=len(time),
        n_events=int(event.sum()),
    )
