"""Effect sizes per study, as metafor's ``escalc`` computes them (metafor 3.8-1, its defaults).

Conventions (metafor ``escalc`` defaults ``add = 1/2, to = "only0", drop00 = FALSE, vtype = "LS"``):

* a study with a zero cell — no events, or events = n; for two groups any of ``ai, bi, ci, di`` zero — gets 1/2
  added to each of its cells (two cells for one group, four for two), and only that study;
* PFT and PAS are never corrected (escalc sets ``add = 0`` for them: the arcsine transforms are defined at 0 and n);
* studies with zero events in both groups are kept (``drop00 = FALSE``) and corrected like any other zero cell;
* variances are the large-sample ones (``vtype = "LS"``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from mmemd.research.meta._errors import MetaInputError

FloatArray = npt.NDArray[np.float64]

#: The continuity correction metafor adds to every cell of a study with a zero cell.
CONTINUITY_CORRECTION = 0.5


class Measure(StrEnum):
    PR = "PR"  # raw proportion
    PLO = "PLO"  # log odds (logit) of a proportion
    PFT = "PFT"  # Freeman–Tukey double arcsine (metafor's half-scaled version)
    PAS = "PAS"  # arcsine square root of a proportion
    RR = "RR"  # log risk ratio
    OR = "OR"  # log odds ratio
    RD = "RD"  # risk difference
    GEN = "GEN"  # generic: yi and vi given


SINGLE_GROUP = frozenset({Measure.PR, Measure.PLO, Measure.PFT, Measure.PAS})
TWO_GROUP = frozenset({Measure.RR, Measure.OR, Measure.RD})
#: Measures for which escalc adds the continuity correction (it sets ``add = 0`` for PAS and PFT).
CORRECTED = frozenset({Measure.PR, Measure.PLO, Measure.RR, Measure.OR, Measure.RD})


@dataclass(frozen=True)
class EffectSizes:
    """Per-study effect sizes ``yi`` with sampling variances ``vi`` on the measure's scale.

    ``ni`` is the study's total sample size when known (single group: n; two groups: n1 + n2), uncorrected; the
    Freeman–Tukey back-transformation needs it. ``corrected`` marks studies that received the continuity correction.
    """

    measure: Measure
    study: tuple[str, ...]
    yi: FloatArray
    vi: FloatArray
    ni: FloatArray | None = None
    corrected: tuple[bool, ...] = ()

    @property
    def k(self) -> int:
        return len(self.study)

    def subset(self, keep: Sequence[int]) -> EffectSizes:
        idx = list(keep)
        return EffectSizes(
            measure=self.measure,
            study=tuple(self.study[i] for i in idx),
            yi=self.yi[idx],
            vi=self.vi[idx],
            ni=None if self.ni is None else self.ni[idx],
            corrected=tuple(self.corrected[i] for i in idx) if self.corrected else (),
        )


def _counts(name: str, values: Sequence[float], *, positive: bool = False) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    for i, v in enumerate(arr):
        if not math.isfinite(v):
            raise MetaInputError(name, f"row {i + 1}: not a finite number")
        if v < 0 or (positive and v <= 0):
            raise MetaInputError(name, f"row {i + 1}: must be {'> 0' if positive else '>= 0'}, got {v:g}")
        if not v.is_integer():
            # events and group sizes are counts of patients; a fraction is a typo or a percentage
            raise MetaInputError(name, f"row {i + 1}: must be a whole number of patients, got {v:g}")
    return arr


def _labels(study: Sequence[str] | None, k: int) -> tuple[str, ...]:
    if study is None:
        return tuple(f"Study {i + 1}" for i in range(k))
    if len(study) != k:
        raise MetaInputError("study", f"{len(study)} labels for {k} studies")
    seen: set[str] = set()
    for i, label in enumerate(study, start=1):
        if label in seen:
            # forest plots, leave-one-out and subgroups name studies by label: two alike would be confused
            raise MetaInputError("study", f"row {i}: label {label!r} is used twice")
        seen.add(label)
    return tuple(study)


def proportions(
    measure: Measure | str, events: Sequence[float], n: Sequence[float], study: Sequence[str] | None = None
) -> EffectSizes:
    """Single-group proportions ``events / n`` as PR, PLO, PFT or PAS (metafor ``escalc(measure, xi=, ni=)``)."""
    m = Measure(measure)
    if m not in SINGLE_GROUP:
        raise MetaInputError("measure", f"{m} needs two groups or yi/vi, not events/n")
    xi = _counts("events", events)
    ni = _counts("n", n, positive=True)
    if len(xi) != len(ni):
        raise MetaInputError("n", "events and n differ in length")
    if len(xi) == 0:
        raise MetaInputError("events", "no studies")
    if np.any(xi > ni):
        row = int(np.argmax(xi > ni)) + 1
        raise MetaInputError("events", f"row {row}: more events than n")
    mi = ni - xi
    zero = (xi == 0) | (mi == 0)
    if m in CORRECTED:
        xi = np.where(zero, xi + CONTINUITY_CORRECTION, xi)
        mi = np.where(zero, mi + CONTINUITY_CORRECTION, mi)
        corrected = tuple(bool(z) for z in zero)
    else:
        corrected = tuple(False for _ in zero)
    nc = xi + mi
    p = xi / nc
    if m is Measure.PR:
        yi, vi = p, p * (1 - p) / nc
    elif m is Measure.PLO:
        yi, vi = np.log(p / (1 - p)), 1 / (nc * p * (1 - p))
    elif m is Measure.PAS:
        yi, vi = np.arcsin(np.sqrt(p)), 1 / (4 * nc)
    else:  # PFT: escalc's half-scaled Freeman–Tukey double arcsine
        yi = 0.5 * (np.arcsin(np.sqrt(xi / (nc + 1))) + np.arcsin(np.sqrt((xi + 1) / (nc + 1))))
        vi = 1 / (4 * nc + 2)
    return EffectSizes(m, _labels(study, len(xi)), yi, vi, ni=ni.copy(), corrected=corrected)


def two_groups(
    measure: Measure | str,
    ai: Sequence[float],
    n1: Sequence[float],
    ci: Sequence[float],
    n2: Sequence[float],
    study: Sequence[str] | None = None,
) -> EffectSizes:
    """Two groups: events ``ai`` of ``n1`` (treatment) vs ``ci`` of ``n2`` (control), as RR, OR or RD."""
    m = Measure(measure)
    if m not in TWO_GROUP:
        raise MetaInputError("measure", f"{m} is not a two-group measure (RR, OR, RD)")
    a, n1a = _counts("ai", ai), _counts("n1", n1, positive=True)
    c, n2a = _counts("ci", ci), _counts("n2", n2, positive=True)
    if not len(a) == len(n1a) == len(c) == len(n2a):
        raise MetaInputError("ai", "ai, n1, ci, n2 differ in length")
    if len(a) == 0:
        raise MetaInputError("ai", "no studies")
    for name, ev, tot in (("ai", a, n1a), ("ci", c, n2a)):
        if np.any(ev > tot):
            row = int(np.argmax(ev > tot)) + 1
            raise MetaInputError(name, f"row {row}: more events than the group size")
    b, d = n1a - a, n2a - c
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    add = np.where(zero, CONTINUITY_CORRECTION, 0.0)
    a, b, c, d = a + add, b + add, c + add, d + add
    g1, g2 = a + b, c + d
    p1, p2 = a / g1, c / g2
    if m is Measure.RR:
        yi = np.log(p1) - np.log(p2)
        vi = 1 / a - 1 / g1 + 1 / c - 1 / g2
    elif m is Measure.OR:
        yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
        vi = 1 / a + 1 / b + 1 / c + 1 / d
    else:
        yi = p1 - p2
        vi = p1 * (1 - p1) / g1 + p2 * (1 - p2) / g2
    return EffectSizes(
        m, _labels(study, len(a)), yi, vi, ni=n1a + n2a, corrected=tuple(bool(z) for z in zero)
    )


def generic(
    yi: Sequence[float],
    vi: Sequence[float],
    study: Sequence[str] | None = None,
    *,
    measure: Measure | str = Measure.GEN,
    ni: Sequence[float] | None = None,
) -> EffectSizes:
    """Precomputed effect sizes; ``measure`` says which scale they are on (for the back-transformation)."""
    m = Measure(measure)
    y = np.asarray(yi, dtype=np.float64)
    v = np.asarray(vi, dtype=np.float64)
    if len(y) != len(v):
        raise MetaInputError("vi", "yi and vi differ in length")
    if len(y) == 0:
        raise MetaInputError("yi", "no studies")
    for name, arr in (("yi", y), ("vi", v)):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise MetaInputError(name, f"row {int(np.argmax(bad)) + 1}: not a finite number")
    n_arr = None if ni is None else _counts("n", ni, positive=True)
    if m is Measure.PFT and n_arr is None:
        raise MetaInputError("n", "PFT on precomputed yi/vi needs the column n for the back-transformation")
    return EffectSizes(m, _labels(study, len(y)), y, v, ni=n_arr, corrected=tuple(False for _ in y))
