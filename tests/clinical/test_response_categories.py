"""Both sides of every response threshold of docs/criteria.md §1.3 with the §1.5 readings.

Each test states the bound and its reading (inclusive ≥ / strict <). The category checked is the one of the
assessment itself (timeline entry); confirmation is tested in test_response_confirmation.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec.structs
import pytest
from test_response_support import cats, joined, lesion, run, serum_course, snap

from mmemd.clinical.response import DEFAULT_RESPONSE_SETTINGS, ImwgResponse

D = Decimal


def first(r: ImwgResponse) -> str:
    """Category of the first assessment after baseline."""
    return cats(r)[1]


# ---------------------------------------------------------------- serum M-protein (§1.3, §1.5 PR/MR gap)


@pytest.mark.parametrize(
    ("value", "expected", "reading"),
    [
        (0.2, "VGPR", "90.00% fall ≥ 90% (inclusive) → VGPR"),
        (0.2002, "PR", "89.99% fall < 90% → PR"),
        (1.0, "PR", "50.00% fall ≥ 50% (inclusive) → PR"),
        (1.0002, "MR", "49.99% fall → MR: band [25%, 50%) has no gap (§1.5)"),
        (1.5, "MR", "25.00% fall ≥ 25% (inclusive) → MR"),
        (1.5002, "SD", "24.99% fall < 25% → SD"),
        (2.0, "SD", "no change → SD"),
    ],
)
def test_serum_thresholds(value: float, expected: str, reading: str) -> None:
    r = run(serum_course(value, base=2.0))
    assert first(r) == expected, reading


def test_exact_decimal_90_pct_is_vgpr() -> None:
    """§1.5 "Floating point": (1.4 − 0.14)/1.4 is exactly 90% in Decimal (binary float gives 0.8999999999999999)."""
    assert (1.4 - 0.14) / 1.4 < 0.9  # the float trap the Decimal engine must avoid
    r = run(serum_course(0.14, base=1.4))
    assert first(r) == "VGPR"


def test_exact_decimal_spec_example_0_7_to_0_07() -> None:
    """The spec's own example (0.7 − 0.07)/0.7 (§1.5), scaled into measurable range: 7.0 → 0.7 → VGPR."""
    from mmemd.clinical._response_params import reduced_by

    assert reduced_by(D("0.7"), D("0.07"), D("90")) is True
    assert reduced_by(D("0.7"), D("0.0701"), D("90")) is False
    assert first(run(serum_course(0.7, base=7.0))) == "VGPR"


def test_serum_zero_with_positive_ife_is_vgpr() -> None:
    """§1.3 VGPR: "detectable by immunofixation but not on electrophoresis"."""
    assert first(run(serum_course(0, base=2.0))) == "VGPR"


# ---------------------------------------------------------------- urine M-protein (urine-only patient)


def urine_only(base: float, value: float) -> ImwgResponse:
    quiet = {"serum": 0, "serum_ife": True, "urine_ife": True}
    return run(
        [snap("2025-01-01", baseline=True, urine=base, **quiet), snap("2025-02-01", urine=value, **quiet)]
    )


@pytest.mark.parametrize(
    ("base", "value", "expected", "reading"),
    [
        (1000, 99.99, "VGPR", "urine < 100 mg/24 h (strict) → VGPR"),
        (1000, 100, "PR", "urine 100 is not < 100 → PR (it is < 200)"),
        (1000, 199.99, "PR", "urine < 200 mg/24 h (strict) → PR"),
        (1000, 200, "MR", "urine 200 is not < 200; 80% fall is in the MR band [50%, 90%)"),
        (3000, 300, "PR", "90.00% fall ≥ 90% (inclusive) → PR although ≥ 200"),
        (3000, 300.03, "MR", "89.999% fall < 90% → MR"),
        (1000, 500, "MR", "50.00% fall ≥ 50% (inclusive) → MR"),
        (1000, 500.1, "SD", "49.99% fall < 50% → SD"),
    ],
)
def test_urine_thresholds(base: float, value: float, expected: str, reading: str) -> None:
    assert first(urine_only(base, value)) == expected, reading


def test_mr_needs_serum_and_urine_bands() -> None:
    """§1.3 MR: serum [25%, 50%) *and* urine [50%, 90%) when both are measurable."""
    base = {"serum": 2.0, "urine": 1000, "serum_ife": True, "urine_ife": True}
    ok = run(
        [
            snap("2025-01-01", baseline=True, **base),
            snap("2025-02-01", **{**base, "serum": 1.4, "urine": 400}),
        ]
    )
    short = run(
        [
            snap("2025-01-01", baseline=True, **base),
            snap("2025-02-01", **{**base, "serum": 1.4, "urine": 500.1}),
        ]
    )
    assert first(ok) == "MR"
    assert first(short) == "SD"


# ---------------------------------------------------------------- FLC-only patient (§1.3 FLC rows, §1.5)

FLC_QUIET: dict[str, Any] = {
    "serum": 0,
    "urine": 0,
    "serum_ife": True,
    "urine_ife": True,
    "involved": "kappa",
}


def flc_only(
    kappa: float, lam: float = 1, settings: Any = DEFAULT_RESPONSE_SETTINGS, **follow: Any
) -> ImwgResponse:
    """Baseline κ 100, λ 1 (dFLC 99 mg/dL)."""
    return run(
        [
            snap("2025-01-01", baseline=True, kappa=100, lam=1, **FLC_QUIET),
            snap("2025-02-01", kappa=kappa, lam=lam, **{**FLC_QUIET, **follow}),
        ],
        settings,
    )


@pytest.mark.parametrize(
    ("kappa", "expected", "reading"),
    [
        (10.9, "VGPR", "dFLC 9.9 = 90.00% fall ≥ 90% (vgpr_flc_strict=False) → VGPR"),
        (10.9099, "PR", "dFLC 89.99% fall → PR"),
        (50.5, "PR", "dFLC 49.5 = 50.00% fall (inclusive) → PR"),
        (50.5099, "SD", "49.99% fall → SD: no MR is defined on dFLC"),
    ],
)
def test_flc_only_thresholds(kappa: float, expected: str, reading: str) -> None:
    assert first(flc_only(kappa)) == expected, reading


def test_flc_vgpr_strict_reading() -> None:
    """§1.5 [I]: with vgpr_flc_strict (RAJ11 ">90%") exactly 90% is PR, 90.01% VGPR."""
    strict = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, vgpr_flc_strict=True)
    assert first(flc_only(10.9, settings=strict)) == "PR"
    assert first(flc_only(10.89, settings=strict)) == "VGPR"


@pytest.mark.parametrize(
    ("kappa", "lam", "expected", "reading"),
    [
        (1.65, 1, "CR", "κ/λ 1.65 normal (inclusive) → FLC-only CR"),
        (1.6501, 1, "VGPR", "κ/λ 1.6501 abnormal → not CR (dFLC fall > 90% → VGPR)"),
        (0.26, 1, "CR", "κ/λ 0.26 normal (inclusive)"),
    ],
)
def test_flc_only_cr_needs_normal_ratio(kappa: float, lam: float, expected: str, reading: str) -> None:
    """§1.3 CR, FLC-only: negative IFE, BMPC < 5% and a normal FLC ratio."""
    r = flc_only(kappa, lam, serum_ife=False, urine_ife=False, serum=None, urine=None, bmpc=2)
    assert first(r) == expected, reading


# ---------------------------------------------------------------- CR / sCR (§1.3)

CR_DATA: dict[str, Any] = {"serum": None, "urine": None, "serum_ife": False, "urine_ife": False}


def serum_patient(**follow: Any) -> ImwgResponse:
    base = {
        "serum": 3.0,
        "urine": 0,
        "serum_ife": True,
        "urine_ife": True,
        "kappa": 30,
        "lam": 1,
        "involved": "kappa",
    }
    return run([snap("2025-01-01", baseline=True, bmpc=40, **base), snap("2025-02-01", **follow)])


@pytest.mark.parametrize(("bmpc", "expected"), [(4.99, "CR"), (5, "VGPR")])
def test_cr_marrow_strictly_below_5_pct(bmpc: float, expected: str) -> None:
    """§1.3 CR: < 5% plasma cells (strict) — 4.99% CR, 5% VGPR."""
    assert first(serum_patient(**CR_DATA, bmpc=bmpc)) == expected


def test_cr_needs_both_ife_negative() -> None:
    """§1.3 CR: negative IFE on serum *and* urine; urine IFE positive → VGPR."""
    assert first(serum_patient(**{**CR_DATA, "urine_ife": True, "urine": 0}, bmpc=2)) == "VGPR"


@pytest.mark.parametrize(
    ("kappa", "lam", "expected", "reading"),
    [
        (1.65, 1, "sCR", "FLC ratio 1.65 normal (inclusive)"),
        (1.6501, 1, "CR", "FLC ratio 1.6501 abnormal"),
        (0.26, 1, "sCR", "FLC ratio 0.26 normal (inclusive)"),
        (0.2599, 1, "CR", "FLC ratio 0.2599 abnormal"),
    ],
)
def test_scr_needs_normal_flc_ratio(kappa: float, lam: float, expected: str, reading: str) -> None:
    r = serum_patient(**CR_DATA, bmpc=2, kappa=kappa, lam=lam, ihc_clonal=False)
    assert first(r) == expected, reading


@pytest.mark.parametrize(
    ("involved", "ratio", "counted", "expected", "reading"),
    [
        ("kappa", 4, 100, "sCR", "κ patient κ/λ 4:1 is ≤ 4:1 → no clonal cells (≥ 100 counted, inclusive)"),
        ("kappa", 4.01, 100, "CR", "κ/λ > 4:1 → clonal"),
        ("kappa", 4, 99, "CR", "99 PCs counted < 100 → clonality not decided → sCR not established"),
        ("lambda", 0.5, 100, "sCR", "λ patient κ/λ 1:2 is ≥ 1:2 → no clonal cells"),
        ("lambda", 0.49, 100, "CR", "κ/λ < 1:2 → clonal"),
    ],
)
def test_scr_ihc_clonality(involved: str, ratio: float, counted: int, expected: str, reading: str) -> None:
    """§1.3 sCR: absence of clonal cells by IHC, κ/λ ≤ 4:1 (κ) or ≥ 1:2 (λ) after counting ≥ 100 PCs."""
    kappa, lam = (1.0, 1.0)
    base = {"serum": 3.0, "urine": 0, "serum_ife": True, "urine_ife": True, "involved": involved}
    base |= {"kappa": 30, "lam": 1} if involved == "kappa" else {"kappa": 1, "lam": 30}
    follow = {**CR_DATA, "bmpc": 2, "kappa": kappa, "lam": lam, "ihc_ratio": ratio, "ihc_counted": counted}
    r = run([snap("2025-01-01", baseline=True, **base), snap("2025-02-01", **follow)])
    assert first(r) == expected, reading


def test_scr_stated_clonal_wins() -> None:
    r = serum_patient(**CR_DATA, bmpc=2, kappa=1, lam=1, ihc_clonal=True)
    assert first(r) == "CR"


# ---------------------------------------------------------------- marrow-only patient (§1.3 PR)

MARROW_QUIET: dict[str, Any] = {
    "serum": 0,
    "urine": 0,
    "serum_ife": True,
    "urine_ife": True,
    "kappa": 1,
    "lam": 1,
    "involved": "kappa",
}


@pytest.mark.parametrize(
    ("bmpc", "expected", "reading"),
    [
        (20, "PR", "50.00% fall from 40% (inclusive) → PR"),
        (20.004, "SD", "49.99% fall → SD (no MR on marrow)"),
        (4.99, "PR", "< 5% but IFE positive → not CR; still ≥ 50% fall → PR"),
    ],
)
def test_marrow_only_thresholds(bmpc: float, expected: str, reading: str) -> None:
    r = run(
        [
            snap("2025-01-01", baseline=True, bmpc=40, **MARROW_QUIET),
            snap("2025-02-01", bmpc=bmpc, **MARROW_QUIET),
        ]
    )
    assert first(r) == expected, reading


# ---------------------------------------------------------------- plasmacytomas (§1.3, §1.5)


def with_lesion(
    serum: float, longest: float, perp: float, settings: Any = DEFAULT_RESPONSE_SETTINGS
) -> ImwgResponse:
    """Serum 2.0 → ``serum``; plasmacytoma L1 4 × 5 cm (SPD 20 cm²) → longest × perp."""
    return run(
        [
            snap("2025-01-01", baseline=True, serum=2.0, urine=0, serum_ife=True, urine_ife=True,
                 plasmacytomas=[lesion("L1", 4, 5)]),
            snap("2025-02-01", serum=serum, urine=0, serum_ife=True, urine_ife=True,
                 plasmacytomas=[lesion("L1", longest, perp)]),
        ],
        settings,
        ["L1"],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("perp", "expected", "reading"),
    [
        (2.5, "VGPR", "SPD 10 = 50.00% fall (inclusive) → plasmacytoma allows PR/VGPR"),
        (2.5005, "SD", "SPD 10.002 = 49.99% fall → neither PR nor 2016-MR (≥ 50%) → SD (§1.5)"),
    ],
)
def test_spd_threshold_for_pr(perp: float, expected: str, reading: str) -> None:
    assert first(with_lesion(0.2, 4, perp)) == expected, reading


def test_mr_spd_legacy_reading_25_pct() -> None:
    """§1.3 MR: 2006/2011 text allowed a 25–49% SPD fall (mr_spd_threshold_pct=25)."""
    legacy = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, mr_spd_threshold_pct=D("25"))
    assert first(with_lesion(1.0, 3, 5, legacy)) == "MR"  # SPD 15 = 25% fall, serum PR → lowest = MR
    assert first(with_lesion(1.0, 3.0004, 5, legacy)) == "SD"  # 24.999%
    assert first(with_lesion(1.0, 3, 5)) == "SD"  # default KUMAR16 ≥ 50% for MR too


def test_cr_needs_plasmacytoma_gone_even_if_pet_negative() -> None:
    """§1.5: a residual mass (0.5 × 0.5 cm, PET negative) is not CR; 0 × 0 is."""
    base = {
        "serum": 2.0,
        "urine": 0,
        "serum_ife": True,
        "urine_ife": True,
        "plasmacytomas": [lesion("L1", 4, 5)],
    }
    follow = {**CR_DATA, "bmpc": 2, "pet_negative": True}
    residual = run(
        [
            snap("2025-01-01", baseline=True, **base),
            snap("2025-02-01", **follow, plasmacytomas=[lesion("L1", 0.5, 0.5)]),
        ],
        lesions=["L1"],
    )
    gone = run(
        [
            snap("2025-01-01", baseline=True, **base),
            snap("2025-02-01", **follow, plasmacytomas=[lesion("L1", 0, 0)]),
        ],
        lesions=["L1"],
    )
    assert first(residual) == "VGPR"
    assert "CR needs every plasmacytoma gone" in joined(residual)
    assert first(gone) == "CR"


# ---------------------------------------------------------------- MR population (§1.5)


def test_mr_rrmm_only() -> None:
    """§1.5 [I]: with mr_rrmm_only MR is reported only for relapsed/refractory patients."""
    only = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, mr_rrmm_only=True)
    course = serum_course(1.4, base=2.0)  # 30% fall
    assert first(run(course)) == "MR"
    assert first(run(course, only)) == "SD"
    assert first(run(course, only, phase="newly_diagnosed")) == "SD"
    assert first(run(course, only, phase="relapsed_refractory")) == "MR"
