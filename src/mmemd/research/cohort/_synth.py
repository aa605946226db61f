"""Synthetic MM-EMD registry cohorts (``mmemd cohort synth``), calibrated to knowledge-base figures.

Nothing here is a patient: it is a generative model whose parameters are the reviews' figures, for demos, tests and
benchmarks of ``mmemd cohort analyze``. Generated vectorised with numpy, ``CHUNK_PATIENTS`` patients at a time,
each chunk written straight to Parquet row groups (or CSV) so memory stays flat whatever ``n``.

The model (docs/cohort.md, "Synthetic cohorts"):

1. EMD at diagnosis is drawn first — extraosseous (true EMD), paraskeletal or none — at the calibrated incidence;
   covariates are drawn given it (sex, high-risk cytogenetics: associations the reviews report qualitatively).
2. Natural history as a semi-Markov chain over lines of therapy: on line 1 progression and death compete with
   exponential hazards scaled by age, ISS, high risk and EMD type; each progression starts the next line; EMD may
   appear at the first relapse (secondary EMD); after relapse progression and death hazards are the RRMM figures,
   worse with EMD at relapse.
3. Calibration: a time scale ``c`` per EMD-at-diagnosis group (any EMD / none) is solved so that 3-year OS equals
   the knowledge-base figure for that group (:func:`calibration_scales`).
4. Observation: monthly response assessments for six months of each line, then every three months; M-protein (or
   free light chains, for light-chain myeloma) follows the line's latent depth of response and rises past the IMWG
   PD thresholds at progression (docs/criteria.md §1.3 PD (a)), confirmed two weeks later (general rule 1). The
   response category is *not* stored: ``mmemd cohort analyze`` computes it from these values with the clinical
   engine, as it would for a registry.
5. Follow-up ends at a data cut-off (accrual 2012–2022, cut-off 2025-06-30) or at loss to follow-up.

Assumptions that no knowledge-base claim fixes are named ``ASSUMED_*`` below and listed in docs/cohort.md.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "CALIBRATION",
    "CHUNK_PATIENTS",
    "SynthSummary",
    "calibration_scales",
    "synth_cohort",
]

F8 = npt.NDArray[np.float64]
I8 = npt.NDArray[np.int64]
B1 = npt.NDArray[np.bool_]

CHUNK_PATIENTS: Final = 20_000
"""Patients per generated chunk. Fixed, so that a seed gives the same cohort on every machine and for any ``n``
the first patients are the same."""

# ---- calibration targets: knowledge-base claims (mmemd evidence show <id>) ---------------------------------------

EMD_AT_DIAGNOSIS: Final = 0.15
"""Any EMD (extraosseous or paraskeletal) at diagnosis: 15% (emdrev-3-01)."""
EXTRAOSSEOUS_AT_DIAGNOSIS: Final = (0.005 + 0.048) / 2
"""True (extraosseous) EMD at diagnosis: midpoint of 0.5–4.8% in NDMM (emdtx-intro-06). The two reviews disagree
(both claims carry the flag ``source_inconsistency``); reading emdrev's 15% as EMD including paraskeletal disease
and emdtx's range as true EMD reconciles them with docs/criteria.md §3.1 (1.7–4.5% EMD vs 7–34.4% PS)."""
EMD_AT_RELAPSE: Final = 0.28
"""Any EMD at (first) relapse: 28% (emdrev-3-02)."""
EXTRAOSSEOUS_AT_RELAPSE: Final = (0.034 + 0.14) / 2
"""True EMD at relapse: midpoint of 3.4–14% in RRMM (emdtx-intro-07)."""
CNS_AT_RELAPSE: Final = 0.01
"""CNS relapse in about 1% of RRMM (emdtx-6-19)."""
OS_3Y_NO_EMD: Final = 0.801
"""3-year OS without EMD: 80.1% (emdrev-5-03, Gagelmann)."""
OS_3Y_EMD: Final = 0.58
"""3-year OS with EMD: 58% (emdrev-5-03, Gagelmann)."""
MEDIAN_OS_AFTER_EMD_RELAPSE: Final = 11.4
"""Months; OS of patients with EMD at relapse (emdrev-5-11, Beksac)."""
MEDIAN_OS_AFTER_RELAPSE: Final = 30.4
"""Months; median OS in RRMM (emdtx-1.3-05, carfilzomib-treated RRMM) — used for relapse without EMD."""
MEDIAN_PFS_RELAPSE: Final = 11.6
"""Months; median PFS of a line in RRMM (emdtx-1.3-04, carfilzomib)."""
MEDIAN_PFS_EMD_RELAPSE: Final = 5.0
"""Months; median PFS of a relapse line with EMD (emdtx-4.1-02, daratumumab-based regimens in EMD)."""
MEDIAN_PFS_FIRST_LINE: Final = 42.0
"""Months; reference median PFS of line 1 before calibration (R-ISS II, PALUMBO15, docs/criteria.md §2.2).
The calibration scale ``c`` rescales it per EMD group."""

CALIBRATION: Final[dict[str, dict[str, Any]]] = {
    "emd_at_diagnosis_any": {"value": EMD_AT_DIAGNOSIS, "claims": ["emdrev-3-01"]},
    "emd_at_diagnosis_extraosseous": {"value": EXTRAOSSEOUS_AT_DIAGNOSIS, "claims": ["emdtx-intro-06"]},
    "emd_at_relapse_any": {"value": EMD_AT_RELAPSE, "claims": ["emdrev-3-02"]},
    "emd_at_relapse_extraosseous": {"value": EXTRAOSSEOUS_AT_RELAPSE, "claims": ["emdtx-intro-07"]},
    "cns_at_relapse": {"value": CNS_AT_RELAPSE, "claims": ["emdtx-6-19"]},
    "os_3y_no_emd": {"value": OS_3Y_NO_EMD, "claims": ["emdrev-5-03"]},
    "os_3y_emd": {"value": OS_3Y_EMD, "claims": ["emdrev-5-03"]},
    "median_os_after_emd_relapse_months": {"value": MEDIAN_OS_AFTER_EMD_RELAPSE, "claims": ["emdrev-5-11"]},
    "median_os_after_relapse_months": {"value": MEDIAN_OS_AFTER_RELAPSE, "claims": ["emdtx-1.3-05"]},
    "median_pfs_relapse_line_months": {"value": MEDIAN_PFS_RELAPSE, "claims": ["emdtx-1.3-04"]},
    "median_pfs_emd_relapse_line_months": {"value": MEDIAN_PFS_EMD_RELAPSE, "claims": ["emdtx-4.1-02"]},
}

# ---- assumptions (no claim gives a number; docs/cohort.md lists them) ---------------------------------------------

ASSUMED_P_MALE: Final = {"none": 0.55, "emd": 0.65}
"""EMD is markedly more frequent in men (emdrev-3-03, no figure)."""
ASSUMED_P_HIGH_RISK: Final = {"none": 0.20, "emd": 0.35}
"""High-risk cytogenetics more frequent with EMD at diagnosis (emdrev-2.1-03, emdrev-2.1-06; no figure)."""
ASSUMED_ISS: Final = {"none": (0.30, 0.40, 0.30), "emd": (0.25, 0.40, 0.35)}
ASSUMED_HR_EXTRAOSSEOUS: Final = 1.5
"""Hazard ratio of true EMD vs paraskeletal on line 1: EMD does worse than PS (docs/criteria.md §3.1, BLADE22)."""
ASSUMED_LOG_HR_AGE_PER_10Y: Final = 0.3
ASSUMED_LOG_HR_ISS: Final = (0.0, 0.3, 0.6)
ASSUMED_LOG_HR_HIGH_RISK: Final = 0.4
ASSUMED_PRE_RELAPSE_DEATH_MEDIAN: Final = 240.0
"""Months; death before any progression (treatment-related or other causes)."""
ASSUMED_LATER_LINE_HAZARD_GROWTH: Final = 1.15
"""Each relapse line after the second progresses 15% faster."""
ASSUMED_DEPTH: Final = {
    # P(latent depth) for (line 1 | later lines) x (EMD active | not): CR, VGPR, PR, MR, SD.
    ("first", False): (0.30, 0.30, 0.25, 0.05, 0.10),
    ("first", True): (0.18, 0.22, 0.30, 0.08, 0.22),
    ("later", False): (0.10, 0.20, 0.30, 0.10, 0.30),
    ("later", True): (0.05, 0.10, 0.25, 0.10, 0.50),
}
"""Worse response with EMD (emdtx-intro-08: very poor prognosis; no pooled response figure by line)."""
_DEPTH_FRACTION: Final = np.array([0.0, 0.05, 0.30, 0.62, 0.90])  # residual M-protein fraction per depth
ASSUMED_LIGHT_CHAIN_ONLY: Final = 0.2
ASSUMED_MISSING_LAB: Final = 0.02
MAX_LINES: Final = 6
ACCRUAL: Final = (_dt.date(2012, 1, 1), _dt.date(2022, 12, 31))
CUTOFF: Final = _dt.date(2025, 6, 30)
LOSS_TO_FOLLOW_UP_PER_YEAR: Final = 0.02

_DAYS_PER_MONTH: Final = 30.4375
_TAU: Final = 1.5  # months: M-protein decay time constant on treatment
_LINE_GAP: Final = 0.75  # months from progression to the next line's start (and its baseline assessment)
_MIN_ON_LINE: Final = 1.0  # months on a line before progression can be seen (first response assessment)
_CONFIRM: Final = 0.5  # months from the progression assessment to the confirming one
_EPOCH: Final = _dt.date(1970, 1, 1)

_DIAG_SITES: Final = (
    "skin",
    "soft_tissue",
    "breast",
    "lymph_node",
)  # at diagnosis: skin, soft tissue (BLADE22)
_RELAPSE_SITES: Final = ("liver", "kidney", "lymph_node", "pleura", "breast", "pericardium", "soft_tissue")
_PS_SITES: Final = ("paravertebral", "soft_tissue")

Fmt = Literal["parquet", "csv"]


# ---- natural history ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Baseline:
    n: int
    emd: I8  # 0 none, 1 paraskeletal, 2 extraosseous
    male: B1
    age: I8
    iss: I8  # 0..2
    high_risk: B1
    ldh_high: B1
    light_chain: B1
    kappa: B1
    risk: F8  # relative hazard on line 1


@dataclass(slots=True)
class _Unit:
    """The random draws of a natural history, before time scaling (so calibration can vary ``c`` alone)."""

    e_prog: F8  # (n, MAX_LINES) unit exponentials
    e_death: F8  # (n, MAX_LINES + 1)
    u_relapse_emd: F8
    u_cns: F8


def _baseline(rng: np.random.Generator, n: int) -> _Baseline:
    u = rng.random(n)
    emd = np.where(u < EXTRAOSSEOUS_AT_DIAGNOSIS, 2, np.where(u < EMD_AT_DIAGNOSIS, 1, 0)).astype(np.int64)
    anyemd = emd > 0
    male = rng.random(n) < np.where(anyemd, ASSUMED_P_MALE["emd"], ASSUMED_P_MALE["none"])
    age = np.clip(np.rint(rng.normal(66.0, 10.0, n)), 30, 92).astype(np.int64)
    cum_none = np.cumsum(ASSUMED_ISS["none"])
    cum_emd = np.cumsum(ASSUMED_ISS["emd"])
    ui = rng.random(n)
    iss = np.where(
        anyemd, np.searchsorted(cum_emd, ui, side="right"), np.searchsorted(cum_none, ui, side="right")
    ).astype(np.int64)
    iss = np.minimum(iss, 2)
    high_risk = rng.random(n) < np.where(anyemd, ASSUMED_P_HIGH_RISK["emd"], ASSUMED_P_HIGH_RISK["none"])
    ldh_high = rng.random(n) < 0.2
    light_chain = rng.random(n) < ASSUMED_LIGHT_CHAIN_ONLY
    kappa = rng.random(n) < 0.65
    log_hr = (
        ASSUMED_LOG_HR_AGE_PER_10Y * (age - 66) / 10.0
        + np.asarray(ASSUMED_LOG_HR_ISS)[iss]
        + ASSUMED_LOG_HR_HIGH_RISK * high_risk
    )
    risk = np.exp(log_hr) * np.where(emd == 2, ASSUMED_HR_EXTRAOSSEOUS, 1.0)
    return _Baseline(n, emd, male, age, iss, high_risk, ldh_high, light_chain, kappa, risk)


def _unit(rng: np.random.Generator, n: int) -> _Unit:
    return _Unit(
        rng.exponential(1.0, (n, MAX_LINES)),
        rng.exponential(1.0, (n, MAX_LINES + 1)),
        rng.random(n),
        rng.random(n),
    )


@dataclass(slots=True)
class _History:
    death: F8  # months from diagnosis
    line_start: F8  # (n, MAX_LINES), nan when the line is never started
    line_prog: F8  # (n, MAX_LINES) months from diagnosis of the progression, nan when none
    relapse_emd: I8  # EMD at first relapse: 0 none, 1 paraskeletal, 2 extraosseous
    relapse_cns: B1


_LN2: Final = math.log(2.0)


def _history(b: _Baseline, u: _Unit, scale: F8) -> _History:
    """Competing exponential progression/death per line; ``scale`` multiplies the line-1 hazards."""
    n = b.n
    line_start = np.full((n, MAX_LINES), np.nan)
    line_prog = np.full((n, MAX_LINES), np.nan)
    death = np.full(n, np.inf)
    relapse_emd = np.zeros(n, np.int64)
    ra = u.u_relapse_emd
    relapse_emd = np.where(ra < EXTRAOSSEOUS_AT_RELAPSE, 2, np.where(ra < EMD_AT_RELAPSE, 1, 0)).astype(
        np.int64
    )
    relapse_cns = (relapse_emd == 2) & (u.u_cns < CNS_AT_RELAPSE / EXTRAOSSEOUS_AT_RELAPSE)
    rel = relapse_emd > 0
    post_death = np.where(rel, _LN2 / MEDIAN_OS_AFTER_EMD_RELAPSE, _LN2 / MEDIAN_OS_AFTER_RELAPSE)
    post_prog = np.where(rel, _LN2 / MEDIAN_PFS_EMD_RELAPSE, _LN2 / MEDIAN_PFS_RELAPSE)
    start = np.full(n, 0.5)  # line 1 starts two weeks after diagnosis
    active = np.ones(n, np.bool_)
    for k in range(MAX_LINES):
        if k == 0:
            prog_rate = scale * b.risk * (_LN2 / MEDIAN_PFS_FIRST_LINE)
            death_rate = scale * b.risk * (_LN2 / ASSUMED_PRE_RELAPSE_DEATH_MEDIAN)
        else:
            prog_rate = post_prog * ASSUMED_LATER_LINE_HAZARD_GROWTH ** (k - 1)
            death_rate = post_death
        tp = _MIN_ON_LINE + u.e_prog[:, k] / prog_rate
        td = u.e_death[:, k] / death_rate
        line_start[active, k] = start[active]
        progressed = active & (tp < td)
        died = active & ~progressed
        death[died] = start[died] + td[died]
        line_prog[progressed, k] = start[progressed] + tp[progressed]
        start = np.where(progressed, start + tp + _LINE_GAP, start)
        active = progressed
    # After the last line's progression: death at the post-relapse rate.
    death[active] = line_prog[active, MAX_LINES - 1] + u.e_death[active, MAX_LINES] / post_death[active]
    return _History(death, line_start, line_prog, relapse_emd, relapse_cns)


_CALIBRATION_SAMPLE: Final = 100_000


@lru_cache(maxsize=1)
def calibration_scales() -> tuple[float, float]:
    """Line-1 hazard scales (no EMD, any EMD at diagnosis) that make 3-year OS equal the knowledge-base figures
    (emdrev-5-03). Solved once on a fixed calibration sample, independent of the user's seed."""
    from scipy.optimize import brentq  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    rng = np.random.default_rng(20261121)
    b = _baseline(rng, _CALIBRATION_SAMPLE)
    u = _unit(rng, _CALIBRATION_SAMPLE)
    out = []
    for group, target in ((b.emd == 0, OS_3Y_NO_EMD), (b.emd > 0, OS_3Y_EMD)):

        def os36(c: float, group: B1 = group, target: float = target) -> float:
            h = _history(b, u, np.full(b.n, c))
            return float(np.mean(h.death[group] > 36.0)) - target

        out.append(float(brentq(os36, 0.05, 20.0, xtol=1e-4)))
    return out[0], out[1]


# ---- observation --------------------------------------------------------------------------------------------------


_MONTHLY: Final = 3.0  # monthly assessments up to this month of a line, then every _LATER months
_LATER: Final = 4.0


def _visit_offset(j: I8) -> F8:
    """Months from a line's start of its j-th scheduled assessment: monthly at first, then four-monthly."""
    jf = j.astype(np.float64)
    return np.where(jf <= _MONTHLY, jf, _MONTHLY + _LATER * (jf - _MONTHLY))


def _visits_within(duration: F8) -> I8:
    """Number of scheduled assessments at offsets <= duration (0 when duration < 0)."""
    d = np.maximum(duration, -1.0)
    n = np.where(d <= _MONTHLY, np.floor(d) + 1.0, _MONTHLY + 1.0 + np.floor((d - _MONTHLY) / _LATER))
    return np.maximum(n, 0).astype(np.int64)


def _days(months: F8) -> I8:
    return np.rint(months * _DAYS_PER_MONTH).astype(np.int64)


@dataclass(slots=True)
class _Chunk:
    patients: dict[str, Any]
    assessments: dict[str, Any]
    lesions: dict[str, Any]
    events: dict[str, Any]
    measurements: dict[str, Any]


def _grouped_arange(counts: I8) -> I8:
    """[0..c0-1, 0..c1-1, ...] for the given counts."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    ends = np.cumsum(counts)
    starts = np.repeat(ends - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


def _chunk(rng: np.random.Generator, first_id: int, n: int, scales: tuple[float, float]) -> _Chunk:
    b = _baseline(rng, n)
    u = _unit(rng, n)
    scale = np.where(b.emd > 0, scales[1], scales[0])
    h = _history(b, u, scale)

    epoch0 = (ACCRUAL[0] - _EPOCH).days
    span = (ACCRUAL[1] - ACCRUAL[0]).days
    diag_day = epoch0 + np.floor(rng.random(n) * (span + 1)).astype(np.int64)
    admin = ((CUTOFF - _EPOCH).days - diag_day) / _DAYS_PER_MONTH
    loss = rng.exponential(1.0, n) / (-math.log(1.0 - LOSS_TO_FOLLOW_UP_PER_YEAR) / 12.0)
    fu = np.minimum(np.minimum(admin, loss), h.death)
    died = h.death <= np.minimum(admin, loss)
    last_contact = diag_day + _days(fu)
    # A death is recorded on its own day; keep the last contact on it even after rounding.
    last_contact = np.where(died, diag_day + _days(h.death), last_contact)

    pid = np.arange(first_id, first_id + n, dtype=np.int64)
    iss_names = np.array(["I", "II", "III"])
    r_iss = np.where(
        (b.iss == 2) & (b.high_risk | b.ldh_high),
        2,
        np.where((b.iss == 0) & ~b.high_risk & ~b.ldh_high, 0, 1),
    )
    patients = {
        "pid": pid,
        "sex": np.where(b.male, "male", "female"),
        "age_at_diagnosis": b.age,
        "diagnosis_date": diag_day,
        "iss": iss_names[b.iss],
        "r_iss": iss_names[r_iss],
        "high_risk": b.high_risk,
        "last_contact_date": last_contact,
    }

    # ---- lines, events -----------------------------------------------------------------------------------------
    a_cols: dict[str, list[Any]] = {k: [] for k in _A_KEYS}
    m_cols: dict[str, list[Any]] = {k: [] for k in ("pid", "lesion", "day", "longest", "perp")}
    e_pid: list[I8] = []
    e_kind: list[npt.NDArray[np.str_]] = []
    e_day: list[I8] = []
    e_line: list[I8] = []
    m0 = np.where(b.light_chain, np.exp(rng.normal(math.log(50.0), 0.6, n)), np.exp(rng.normal(1.1, 0.35, n)))
    m0 = np.where(b.light_chain, np.clip(m0, 12.0, 1000.0), np.clip(m0, 1.0, 8.0))
    u0 = rng.uniform(40.0, 180.0, n)  # urine M-protein, mg/24h: present but not measurable (< 200)
    lesion_long0 = np.round(rng.uniform(2.0, 7.0, n), 1)
    lesion_perp0 = np.round(lesion_long0 * rng.uniform(0.5, 0.9, n), 1)
    rel_long0 = np.round(rng.uniform(1.5, 6.0, n), 1)
    rel_perp0 = np.round(rel_long0 * rng.uniform(0.5, 0.9, n), 1)
    first_relapse = h.line_prog[:, 0]
    for k in range(MAX_LINES):
        start = h.line_start[:, k]
        seen = ~np.isnan(start) & (start < fu)
        if not seen.any():
            break
        idx = np.flatnonzero(seen)
        st = start[idx]
        prog = h.line_prog[idx, k]
        prog_seen = ~np.isnan(prog) & (prog <= fu[idx])
        end_reg = np.where(prog_seen, prog - 0.1, fu[idx]) - st
        n_reg = np.maximum(_visits_within(end_reg), 1)
        confirm_seen = prog_seen & (prog + _CONFIRM < fu[idx])
        emd_active = (b.emd[idx] > 0) if k == 0 else (h.relapse_emd[idx] > 0)
        depth_probs = ASSUMED_DEPTH[("first" if k == 0 else "later", True)]
        depth_probs_no = ASSUMED_DEPTH[("first" if k == 0 else "later", False)]
        ud = rng.random(idx.size)
        depth = np.where(
            emd_active,
            np.searchsorted(np.cumsum(depth_probs), ud, side="right"),
            np.searchsorted(np.cumsum(depth_probs_no), ud, side="right"),
        )
        frac_min = _DEPTH_FRACTION[np.minimum(depth, 4)]
        base_val = m0[idx]
        # Regular visits.
        rows = np.repeat(np.arange(idx.size), n_reg)
        j = _grouped_arange(n_reg)
        off = _visit_offset(j)
        decay = np.exp(-off / _TAU)
        frac = np.maximum(frac_min[rows], decay)
        cr_now = (frac_min[rows] == 0.0) & (decay < 0.01)
        val = np.where(cr_now, 0.0, base_val[rows] * frac)
        last_val = np.zeros(idx.size)
        last_pos = np.cumsum(n_reg) - 1
        last_val[:] = val[last_pos]
        last_frac = frac[last_pos]
        prev_cr = np.concatenate(([False], cr_now[:-1])) & (j > 0)
        first_cr = cr_now & ~prev_cr  # marrow is sampled once, when CR is first reached
        missing = (rng.random(rows.size) < ASSUMED_MISSING_LAB) & (j > 0)
        _append_visits(
            a_cols,
            b,
            idx[rows],
            k + 1,
            diag_day[idx[rows]] + _days(st[rows] + off),
            val,
            cr_now,
            np.where(j == 0, np.round(rng.uniform(10.0, 60.0, rows.size)), np.where(first_cr, 2.0, np.nan)),
            missing,
            np.zeros(rows.size, np.bool_),
            u0[idx[rows]] * frac,
        )
        # Progression and its confirmation: >= 25% and >= 0.5 g/dL (or > 10 mg/dL dFLC) above the nadir.
        pr = np.flatnonzero(prog_seen)
        if pr.size:
            lc = b.light_chain[idx[pr]]
            pv = np.where(lc, last_val[pr] * 1.3 + 12.0, last_val[pr] * 1.3 + 0.6)
            cv = pv * 1.15
            new_lesion = (k == 0) & (h.relapse_emd[idx[pr]] > 0)
            ones = np.ones(pr.size, np.bool_)
            visits = (
                (prog[pr], pv, new_lesion & ones, ones),
                (prog[pr] + _CONFIRM, cv, ~ones, confirm_seen[pr]),
            )
            u_prog = u0[idx[pr]] * last_frac[pr] * 1.3
            for (when, v, nl, keep), uv in zip(visits, (u_prog, u_prog * 1.3), strict=True):
                kept = idx[pr][keep]
                _append_visits(
                    a_cols,
                    b,
                    kept,
                    k + 1,
                    diag_day[kept] + _days(when[keep]),
                    v[keep],
                    np.zeros(kept.size, np.bool_),
                    np.full(kept.size, np.nan),
                    np.zeros(kept.size, np.bool_),
                    nl[keep],
                    uv[keep],
                )
            e_pid.append(idx[pr])
            e_kind.append(np.full(pr.size, "progression"))
            e_day.append(diag_day[idx[pr]] + _days(prog[pr]))
            e_line.append(np.full(pr.size, k + 1, np.int64))
            # Next line's baseline value: the disease keeps rising until the new line starts.
            # Capped at plausible values (8 g/dL, 1000 mg/dL): the progression visits above stay below the clinical
            # engine's plausibility bounds (serum M-protein <= 20 g/dL).
            m0[idx[pr]] = np.where(lc, np.minimum(cv * 1.2 + 5.0, 1000.0), np.minimum(cv * 1.2 + 0.4, 8.0))
        # Plasmacytoma measurements: at the baseline and every third assessment of the line.
        if k == 0:
            has = b.emd[idx] > 0
            lid, l0, p0 = "D1", lesion_long0[idx], lesion_perp0[idx]
        else:
            has = h.relapse_emd[idx] > 0
            lid, l0, p0 = "R1", rel_long0[idx], rel_perp0[idx]
        meas = has[rows] & (j % 3 == 0)
        if meas.any():
            r = rows[meas]
            shrink = np.sqrt(frac[meas])  # SPD follows the M-protein fraction
            gone = cr_now[meas]
            m_cols["pid"].append(idx[r])
            m_cols["lesion"].append(np.full(r.size, lid))
            m_cols["day"].append(diag_day[idx[r]] + _days(st[r] + off[meas]))
            m_cols["longest"].append(np.where(gone, 0.0, np.round(l0[r] * shrink, 1)))
            m_cols["perp"].append(np.where(gone, 0.0, np.round(p0[r] * shrink, 1)))
    dead = np.flatnonzero(died)
    e_pid.append(dead)
    e_kind.append(np.full(dead.size, "death"))
    e_day.append(last_contact[dead])
    e_line.append(np.full(dead.size, -1, np.int64))

    # ---- lesions ------------------------------------------------------------------------------------------------
    dx = np.flatnonzero(b.emd > 0)
    rl = np.flatnonzero((h.relapse_emd > 0) & ~np.isnan(first_relapse) & (first_relapse <= fu))
    sites_dx = np.where(
        b.emd[dx] == 2,
        np.asarray(_DIAG_SITES)[rng.integers(0, len(_DIAG_SITES), dx.size)],
        np.asarray(_PS_SITES)[rng.integers(0, len(_PS_SITES), dx.size)],
    )
    sites_rl = np.where(
        h.relapse_cns[rl],
        "cns",
        np.where(
            h.relapse_emd[rl] == 2,
            np.asarray(_RELAPSE_SITES)[rng.integers(0, len(_RELAPSE_SITES), rl.size)],
            np.asarray(_PS_SITES)[rng.integers(0, len(_PS_SITES), rl.size)],
        ),
    )
    lesions = {
        "pid": np.concatenate([dx, rl]),
        "lesion_id": np.concatenate([np.full(dx.size, "D1"), np.full(rl.size, "R1")]),
        "site": np.concatenate([sites_dx, sites_rl]),
        "relation_to_bone": np.concatenate(
            [
                np.where(b.emd[dx] == 2, "none", "arising_from_bone"),
                np.where(h.relapse_emd[rl] == 2, "none", "arising_from_bone"),
            ]
        ),
        "detected_at": np.concatenate([np.full(dx.size, "diagnosis"), np.full(rl.size, "relapse")]),
        "detected_on": np.concatenate([diag_day[dx], diag_day[rl] + _days(first_relapse[rl])]),
        "cns": np.concatenate([np.zeros(dx.size, bool), h.relapse_cns[rl]]),
        "biopsy_proven": rng.random(dx.size + rl.size) < 0.8,
    }
    offset = first_id
    lesions["pid"] = lesions["pid"] + offset
    events = {
        "pid": np.concatenate(e_pid) + offset,
        "event": np.concatenate(e_kind),
        "day": np.concatenate(e_day),
        "line": np.concatenate(e_line),
    }
    assessments = {k: np.concatenate(v) for k, v in a_cols.items()}
    assessments["pid"] = assessments["pid"] + offset
    measurements = (
        {k: np.concatenate(v) for k, v in m_cols.items()}
        if m_cols["pid"]
        else {k: np.zeros(0) for k in m_cols}
    )
    if m_cols["pid"]:
        measurements["pid"] = measurements["pid"] + offset
    return _Chunk(patients, assessments, lesions, events, measurements)


_A_KEYS: Final = (
    "pid",
    "line",
    "day",
    "serum",
    "urine",
    "flc_kappa",
    "flc_lambda",
    "kappa",
    "ife_neg",
    "bm",
    "new_lesion",
    "lc",
)


def _append_visits(
    cols: dict[str, list[Any]],
    b: _Baseline,
    pids: I8,
    line: int,
    day: I8,
    value: F8,
    cr: B1,
    bm: F8,
    missing: B1,
    new_lesion: B1,
    urine: F8,
) -> None:
    lc = b.light_chain[pids]
    kappa = b.kappa[pids]
    uninvolved = 1.2
    involved = np.where(cr, 1.5, np.maximum(value, 0.0) + uninvolved)
    serum = np.where(lc, 0.0, np.round(value, 2))
    cols["pid"].append(pids)
    cols["line"].append(np.full(pids.size, line, np.int64))
    cols["day"].append(day)
    cols["serum"].append(np.where(missing & ~lc, np.nan, serum))
    cols["urine"].append(np.where(missing, np.nan, np.where(cr, 0.0, np.round(urine, 0))))
    fk = np.where(kappa, involved, uninvolved)
    fl = np.where(kappa, uninvolved, involved)
    cols["flc_kappa"].append(np.where(lc & ~missing, np.round(fk, 1), np.nan))
    cols["flc_lambda"].append(np.where(lc & ~missing, np.round(fl, 1), np.nan))
    cols["kappa"].append(kappa)
    cols["ife_neg"].append(cr)
    cols["bm"].append(bm)
    cols["new_lesion"].append(new_lesion)
    cols["lc"].append(lc)


# ---- arrow / files ------------------------------------------------------------------------------------------------


def _ids(pid: I8) -> Any:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    return pa.array(np.char.add("P", np.char.zfill(pid.astype(str), 7)))


def _dates(day: I8) -> Any:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    return pa.array(day.astype(np.int32), type=pa.date32())


def _floats(x: F8) -> Any:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    return pa.array(x, type=pa.float64(), mask=np.isnan(x))


def _strings(x: npt.NDArray[Any], mask: B1 | None = None) -> Any:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    return pa.array(x.astype(str), type=pa.string(), mask=mask)


def _tables(c: _Chunk) -> dict[str, Any]:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    p = c.patients
    a = c.assessments
    ln = c.lesions
    e = c.events
    m = c.measurements
    ife = np.where(a["ife_neg"], "negative", "positive")
    lc = a["lc"]
    return {
        "patients": pa.table(
            {
                "patient_id": _ids(p["pid"]),
                "sex": _strings(p["sex"]),
                "age_at_diagnosis": pa.array(p["age_at_diagnosis"], pa.int64()),
                "diagnosis_date": _dates(p["diagnosis_date"]),
                "iss": _strings(p["iss"]),
                "r_iss": _strings(p["r_iss"]),
                "high_risk": pa.array(p["high_risk"], pa.bool_()),
                "last_contact_date": _dates(p["last_contact_date"]),
            }
        ),
        "assessments": pa.table(
            {
                "patient_id": _ids(a["pid"]),
                "line": pa.array(a["line"], pa.int64()),
                "date": _dates(a["day"]),
                "serum_m_protein_g_dl": _floats(a["serum"]),
                "urine_m_protein_mg_24h": _floats(a["urine"]),
                "serum_ife": _strings(ife),
                "urine_ife": _strings(ife),
                "flc_kappa_mg_dl": _floats(a["flc_kappa"]),
                "flc_lambda_mg_dl": _floats(a["flc_lambda"]),
                "flc_involved": _strings(np.where(a["kappa"], "kappa", "lambda"), mask=~lc),
                "bone_marrow_plasma_cells_pct": _floats(a["bm"]),
                "new_lesion": pa.array(a["new_lesion"], pa.bool_()),
            }
        ),
        "lesions": pa.table(
            {
                "patient_id": _ids(ln["pid"]),
                "lesion_id": _strings(ln["lesion_id"]),
                "site": _strings(ln["site"]),
                "relation_to_bone": _strings(ln["relation_to_bone"]),
                "detected_at": _strings(ln["detected_at"]),
                "detected_on": _dates(ln["detected_on"]),
                "cns": pa.array(ln["cns"], pa.bool_()),
                "biopsy_proven": pa.array(ln["biopsy_proven"], pa.bool_()),
            }
        ),
        "events": pa.table(
            {
                "patient_id": _ids(e["pid"]),
                "event": _strings(e["event"]),
                "date": _dates(e["day"]),
                "line": pa.array(e["line"], pa.int64(), mask=e["line"] < 0),
            }
        ),
        "plasmacytoma_measurements": pa.table(
            {
                "patient_id": _ids(m["pid"].astype(np.int64)),
                "lesion_id": _strings(np.asarray(m["lesion"])),
                "date": _dates(m["day"].astype(np.int64)),
                "longest_cm": pa.array(m["longest"], pa.float64()),
                "perpendicular_cm": pa.array(m["perp"], pa.float64()),
            }
        ),
    }


def _sorted(name: str, t: Any) -> Any:
    keys = {
        "assessments": [("patient_id", "ascending"), ("line", "ascending"), ("date", "ascending")],
        "events": [("patient_id", "ascending"), ("date", "ascending")],
        "lesions": [("patient_id", "ascending"), ("lesion_id", "ascending")],
        "plasmacytoma_measurements": [("patient_id", "ascending"), ("date", "ascending")],
    }.get(name)
    return t if keys is None else t.sort_by(keys)


@dataclass(frozen=True, slots=True)
class SynthSummary:
    out: str
    n: int
    seed: int
    format: str
    rows: dict[str, int]
    calibration_scales: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": self.out,
            "n": self.n,
            "seed": self.seed,
            "format": self.format,
            "rows": self.rows,
            "calibration_scales": list(self.calibration_scales),
        }


def iter_chunks(n: int, seed: int) -> Iterator[dict[str, Any]]:
    """The cohort as arrow tables, one dict of tables per chunk of :data:`CHUNK_PATIENTS` patients."""
    if n < 1:
        raise ValueError("n must be >= 1")
    scales = calibration_scales()
    n_chunks = -(-n // CHUNK_PATIENTS)
    seqs = np.random.SeedSequence(seed).spawn(n_chunks)
    for i, ss in enumerate(seqs):
        first = i * CHUNK_PATIENTS
        size = min(CHUNK_PATIENTS, n - first)
        yield {
            k: _sorted(k, v)
            for k, v in _tables(_chunk(np.random.default_rng(ss), first + 1, size, scales)).items()
        }


def synth_cohort(
    n: int,
    out: str | os.PathLike[str],
    seed: int = 0,
    fmt: Fmt = "parquet",
    progress: Callable[[int], None] | None = None,
) -> SynthSummary:
    """Write a synthetic cohort of ``n`` patients to directory ``out`` (one file per table, plus ``cohort.json``
    with the seed, calibration targets and their claim ids, and versions). ``progress`` is called with the number of
    patients written after each chunk."""
    import pyarrow.csv as pacsv  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs
    import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    from mmemd._version import __version__
    from mmemd.knowledge import kb_version
    from mmemd.research.cohort._schema import COHORT_SCHEMA, TABLES

    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    writers: dict[str, Any] = {}
    rows = {t.name: 0 for t in TABLES}
    done = 0
    try:
        for tables in iter_chunks(n, seed):
            for name, t in tables.items():
                if name not in writers:
                    target = path / f"{name}.{fmt}"
                    writers[name] = (
                        pq.ParquetWriter(str(target), t.schema, compression="zstd")
                        if fmt == "parquet"
                        else pacsv.CSVWriter(str(target), t.schema)
                    )
                writers[name].write_table(t)
                rows[name] += t.num_rows
            done += tables["patients"].num_rows
            if progress is not None:
                progress(done)
    finally:
        for w in writers.values():
            w.close()
    scales = calibration_scales()
    manifest = {
        "schema": COHORT_SCHEMA,
        "synthetic": True,
        "n": n,
        "seed": seed,
        "format": fmt,
        "rows": rows,
        "calibration": CALIBRATION,
        "calibration_scales": {"no_emd": scales[0], "emd": scales[1]},
        "versions": {"mmemd": __version__, "knowledge_base": kb_version()},
    }
    (path / "cohort.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return SynthSummary(str(path), n, seed, fmt, rows, scales)
