"""Measurable disease at baseline and the parameter hierarchy (docs/criteria.md §1.2; §1.3 PR marrow-only)."""

from __future__ import annotations

from typing import Any

import pytest
from test_response_support import cats, joined, lesion, run, snap

# Nothing measurable: serum 0 and urine 0 (IFE positive), κ = λ = 1 mg/dL (normal ratio), BMPC 10%.
QUIET: dict[str, Any] = {
    "serum": 0,
    "urine": 0,
    "serum_ife": True,
    "urine_ife": True,
    "kappa": 1.0,
    "lam": 1.0,
    "involved": "kappa",
    "bmpc": 10,
}


def course(baseline: dict[str, Any], follow: dict[str, Any]) -> list[str]:
    r = run(
        [
            snap("2025-01-01", baseline=True, **{**QUIET, **baseline}),
            snap("2025-02-01", **{**QUIET, **follow}),
            snap("2025-03-01", **{**QUIET, **follow}),
        ]
    )
    return cats(r)


def test_nothing_measurable_is_not_evaluable_with_reason() -> None:
    """§1.2: no measurable parameter → not_evaluable, and the reason says why."""
    r = run([snap("2025-01-01", baseline=True, **QUIET), snap("2025-02-01", **QUIET)])
    assert r.current == "not_evaluable"
    assert r.best == "not_evaluable"
    assert "no measurable disease" in joined(r)
    assert "BMPC 10" in joined(r) or "bone-marrow plasma cells 10" in joined(r)


def test_serum_exactly_1_g_dl_is_measurable_inclusive() -> None:
    """§1.2 serum ≥1 g/dL (inclusive): 1.0 → measurable, a 60% fall is PR."""
    assert course({"serum": 1.0}, {"serum": 0.4}) == ["baseline", "PR", "PR"]


def test_serum_0_99_is_not_measurable() -> None:
    """§1.2 serum 0.99 g/dL < 1 → not measurable → not_evaluable."""
    assert course({"serum": 0.99}, {"serum": 0.3}) == ["baseline", "not_evaluable", "not_evaluable"]


def test_urine_exactly_200_is_measurable_inclusive() -> None:
    """§1.2 urine ≥200 mg/24 h (inclusive); 150 mg/24 h is < 200 → PR by "to <200 mg/24 h"."""
    assert course({"urine": 200}, {"urine": 150}) == ["baseline", "PR", "PR"]


def test_urine_199_99_is_not_measurable() -> None:
    assert course({"urine": 199.99}, {"urine": 10}) == ["baseline", "not_evaluable", "not_evaluable"]


@pytest.mark.parametrize(
    ("kappa", "lam", "measurable"),
    [
        (10, 1, True),  # involved 10 mg/dL (inclusive), ratio 10 abnormal
        (9.99, 1, False),  # involved < 10
        (16.5, 10, False),  # ratio exactly 1.65 → normal (inclusive) → not measurable
        (16.51, 10, True),  # ratio 1.651 > 1.65 → abnormal
    ],
)
def test_involved_flc_threshold_and_ratio_kappa(kappa: float, lam: float, measurable: bool) -> None:
    """§1.2 involved FLC ≥10 mg/dL and abnormal κ/λ (normal 0.26–1.65 inclusive)."""
    r = run(
        [
            snap("2025-01-01", baseline=True, **{**QUIET, "kappa": kappa, "lam": lam}),
            snap("2025-02-01", **{**QUIET, "kappa": kappa, "lam": lam}),
        ]
    )
    assert (r.current != "not_evaluable") is measurable
    assert ("response by dFLC" in joined(r)) is measurable


@pytest.mark.parametrize(("kappa", "measurable"), [(2.6, False), (2.59, True)])
def test_flc_ratio_lower_bound_lambda_patient(kappa: float, measurable: bool) -> None:
    """§1.2 κ/λ 0.26 is normal (inclusive); 0.259 is abnormal (λ 10 mg/dL involved)."""
    base = {**QUIET, "kappa": kappa, "lam": 10, "involved": "lambda"}
    r = run([snap("2025-01-01", baseline=True, **base), snap("2025-02-01", **base)])
    assert (r.current != "not_evaluable") is measurable


def test_flc_ignored_when_serum_measurable() -> None:
    """§1.2: FLC criteria only if serum and urine are both unmeasurable — serum −60% is PR whatever dFLC does."""
    base = {"serum": 2.0, "kappa": 60, "lam": 1}
    follow = {"serum": 0.8, "kappa": 60, "lam": 1}
    assert course(base, follow) == ["baseline", "PR", "PR"]


def test_marrow_baseline_30_pct_inclusive_is_the_response_parameter() -> None:
    """§1.3 PR marrow-only: baseline BMPC ≥30% (inclusive); 15% is a 50% fall → PR (marrow needs no repeat)."""
    assert course({"bmpc": 30}, {"bmpc": 15}) == ["baseline", "PR", "PR"]


def test_marrow_baseline_29_99_pct_is_not_evaluable() -> None:
    assert course({"bmpc": 29.99}, {"bmpc": 10}) == ["baseline", "not_evaluable", "not_evaluable"]


def test_unknown_baseline_serum_is_not_taken_as_unmeasurable() -> None:
    """Unknown ≠ unmeasurable: with baseline serum missing the FLC rule (§1.2) cannot be applied."""
    base = {**QUIET, "serum": None, "kappa": 60, "lam": 1}
    r = run([snap("2025-01-01", baseline=True, **base), snap("2025-02-01", **{**base, "kappa": 5})])
    assert r.current == "not_evaluable"
    assert "serum M-protein missing at baseline" in joined(r)


def test_unknown_baseline_flc_with_unmeasurable_serum_urine() -> None:
    base = {**QUIET, "lam": None}
    r = run([snap("2025-01-01", baseline=True, **base), snap("2025-02-01", **base)])
    assert r.current == "not_evaluable"
    assert "free light chains" in joined(r)


def test_not_evaluable_patient_still_gets_pd_by_new_lesion() -> None:
    """No measurable disease does not hide progression: a new lesion is PD (§1.3 PD (b))."""
    r = run([snap("2025-01-01", baseline=True, **QUIET), snap("2025-02-01", **QUIET, new_lesion=True)])
    assert r.current == "PD"
    assert r.progressive_disease is True


def test_plasmacytoma_only_disease_is_not_evaluable_for_response() -> None:
    """KUMAR16: SPD is an additional criterion, not a measurable-disease parameter (docs/response.md)."""
    base = {**QUIET, "plasmacytomas": [lesion("L1", 4, 3)]}
    r = run(
        [
            snap("2025-01-01", baseline=True, **base),
            snap("2025-02-01", **QUIET, plasmacytomas=[lesion("L1", 1, 1)]),
        ]
    )
    assert r.current == "not_evaluable"
