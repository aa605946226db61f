"""Progressive disease (docs/criteria.md §1.3 PD (a)–(c), §1.5 readings), both sides of every bound.

Unless stated, a laboratory PD is looked at on the timeline entry (raw category, possibly unconfirmed).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec.structs
import pytest
from test_response_support import cats, joined, lesion, run, serum_course, snap

from mmemd.clinical.response import DEFAULT_RESPONSE_SETTINGS

D = Decimal


def last(values: list[str]) -> str:
    return values[-1]


# ---------------------------------------------------------------- serum (PD (a))


@pytest.mark.parametrize(
    ("values", "expected", "reading"),
    [
        ((1.0, 1.0, 1.5), "PD", "nadir 1.0 → 1.5: +0.5 g/dL (≥ 0.5, inclusive) and +50% (≥ 25%)"),
        ((1.0, 1.0, 1.49), "PR", "+0.49 g/dL < 0.5 although +49%: no PD (still PR from 4.0)"),
        ((2.4, 2.4, 3.0), "PD", "nadir 2.4 → 3.0: +25.00% (inclusive) and +0.6 g/dL"),
        ((2.4, 2.4, 2.9999), "MR", "+24.996% < 25% although +0.5999 g/dL: no PD (MR from 4.0)"),
    ],
)
def test_serum_pd_bounds(values: tuple[float, ...], expected: str, reading: str) -> None:
    r = run(serum_course(*values, base=4.0))
    assert last(cats(r)) == expected, reading


@pytest.mark.parametrize(
    ("values", "expected", "reading"),
    [
        ((5.0, 5.0, 6.0), "PD", "nadir 5.0 (≥ 5, inclusive): +1.0 g/dL suffices although only +20% (§1.5)"),
        ((5.0, 5.0, 5.99), "MR", "+0.99 g/dL < 1 from a nadir ≥ 5: no PD"),
        ((4.99, 4.99, 5.99), "MR", "nadir 4.99 < 5: +1.0 g/dL is only +20.04% < 25%: no PD"),
    ],
)
def test_serum_pd_high_nadir(values: tuple[float, ...], expected: str, reading: str) -> None:
    r = run(serum_course(*values, base=8.0))
    assert last(cats(r)) == expected, reading


def test_serum_pd_high_nadir_reading_off() -> None:
    """§1.5 [I] off: from a nadir ≥ 5 g/dL the 25% is also required (+1.0 from 5.0 = 20% → no PD)."""
    s = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, pd_serum_high_nadir_abs_suffices=False)
    assert last(cats(run(serum_course(5.0, 5.0, 6.0, base=8.0), s))) == "MR"
    assert last(cats(run(serum_course(5.0, 5.0, 6.25, base=8.0), s))) == "PD"


def test_nadir_zero_absolute_minimum_governs() -> None:
    """§1.5 "Nadir = 0": 25% of 0 is trivially met; +0.5 g/dL → PD, +0.49 → not."""
    assert last(cats(run(serum_course(0, 0, 0.5, base=2.0)))) == "PD"
    assert last(cats(run(serum_course(0, 0, 0.49, base=2.0)))) == "PR"


def test_nadir_zero_reading_off() -> None:
    s = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, pd_nadir_zero_relative_satisfied=False)
    assert last(cats(run(serum_course(0, 0, 0.6, base=2.0), s))) != "PD"


def test_zero_minimum_increase_keeps_pd_without_a_rise() -> None:
    """With the absolute minimums set to 0, an unchanged value from a nadir of 0 meets PD (0 ≥ 0, and the relative
    test from a nadir ≤ 0 is met, §1.5): the engine must not skip the test because the value did not rise."""
    s = msgspec.structs.replace(
        DEFAULT_RESPONSE_SETTINGS,
        pd_serum_min_increase_g_dl=Decimal(0),
        pd_serum_high_nadir_increase_g_dl=Decimal(0),
        nadir_reading="lowest_value",
    )
    assert last(cats(run(serum_course(0, 0, base=2.0), s))) == "PD"
    assert last(cats(run(serum_course(0, 0, base=2.0)))) != "PD"
    # urine: a urine-measurable patient whose urine stays at 0
    u = msgspec.structs.replace(
        DEFAULT_RESPONSE_SETTINGS, pd_urine_min_increase_mg_24h=Decimal(0), nadir_reading="lowest_value"
    )
    course = [snap("2025-01-01", baseline=True, serum=0.5, urine=800, serum_ife=True, urine_ife=True)]
    course += [snap(f"2025-0{k}-01", serum=0.5, urine=0, serum_ife=True, urine_ife=True) for k in (2, 3)]
    assert last(cats(run(course, u))) == "PD"
    assert last(cats(run(course))) != "PD"


def test_positive_ife_alone_after_cr_is_not_pd() -> None:
    """General rule 3: positive IFE alone in a patient previously in CR is not PD (it is relapse from CR)."""
    base = {"serum": 2.0, "urine": 0, "serum_ife": True, "urine_ife": True}
    cr = {"serum_ife": False, "urine_ife": False, "bmpc": 1}
    r = run(
        [
            snap("2025-01-01", baseline=True, **base),
            snap("2025-02-01", **cr),
            snap("2025-03-01", **cr),
            snap("2025-04-01", serum=0, serum_ife=True, urine_ife=False),
        ]
    )
    assert cats(r) == ["baseline", "CR", "CR", "VGPR"]
    assert r.progressive_disease is False
    assert r.relapse_from_cr is True


# ---------------------------------------------------------------- nadir reading


def test_nadir_confirmed_pair_ignores_a_single_low_value() -> None:
    """§1.3 PD (a) "lowest *confirmed* response value": 1.0 seen once (next 1.6) is not a confirmed nadir."""
    r = run(serum_course(1.0, 1.6, base=2.0))
    assert cats(r) == ["baseline", "PR", "SD"]
    lowest = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, nadir_reading="lowest_value")
    assert cats(run(serum_course(1.0, 1.6, base=2.0), lowest)) == ["baseline", "PR", "PD"]


def test_nadir_confirmed_pair_uses_the_higher_of_two_consecutive_values() -> None:
    """Pair (1.0, 1.2) holds 1.2: 1.2 → 1.6 is +0.4 < 0.5 → no PD; with lowest_value 1.0 → 1.6 is PD."""
    assert last(cats(run(serum_course(1.0, 1.2, 1.6, base=2.0)))) != "PD"
    lowest = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, nadir_reading="lowest_value")
    assert last(cats(run(serum_course(1.0, 1.2, 1.6, base=2.0), lowest))) == "PD"


# ---------------------------------------------------------------- urine


URINE_QUIET: dict[str, Any] = {"serum": 0, "serum_ife": True, "urine_ife": True}


def urine_course(*values: float) -> list[str]:
    snaps = [snap("2025-01-01", baseline=True, urine=2000, **URINE_QUIET)]
    snaps += [snap(f"2025-{k + 2:02d}-01", urine=v, **URINE_QUIET) for k, v in enumerate(values)]
    return cats(run(snaps))


@pytest.mark.parametrize(
    ("values", "expected", "reading"),
    [
        ((800, 800, 1000), "PD", "+200 mg/24 h (≥ 200, inclusive) and +25%"),
        ((800, 800, 999.99), "MR", "+199.99 < 200: no PD"),
        ((100, 100, 300), "PD", "+200 and +200%"),
    ],
)
def test_urine_pd_bounds(values: tuple[float, ...], expected: str, reading: str) -> None:
    assert last(urine_course(*values)) == expected, reading


def test_urine_pd_applies_to_a_serum_patient() -> None:
    """PD (a) lists urine without a measurability condition: urine 0 → 200 mg/24 h in a serum patient is PD."""
    snaps = serum_course(1.0, 1.0, base=2.0)
    snaps.append(snap("2025-04-01", serum=1.0, urine=200, serum_ife=True, urine_ife=True))
    assert last(cats(run(snaps))) == "PD"


# ---------------------------------------------------------------- dFLC and marrow


FLC_QUIET: dict[str, Any] = {
    "serum": 0,
    "urine": 0,
    "serum_ife": True,
    "urine_ife": True,
    "involved": "kappa",
}


@pytest.mark.parametrize(
    ("kappa", "expected", "reading"),
    [
        (21, "PR", "dFLC 10 → 20: +10 mg/dL is not > 10 (strict): no PD"),
        (21.01, "PD", "+10.01 > 10 and +100%"),
    ],
)
def test_dflc_pd_strict_absolute(kappa: float, expected: str, reading: str) -> None:
    snaps = [
        snap("2025-01-01", baseline=True, kappa=101, lam=1, **FLC_QUIET),
        snap("2025-02-01", kappa=11, lam=1, **FLC_QUIET),
        snap("2025-03-01", kappa=11, lam=1, **FLC_QUIET),
        snap("2025-04-01", kappa=kappa, lam=1, **FLC_QUIET),
    ]
    assert last(cats(run(snaps))) == expected, reading


def test_dflc_pd_not_used_when_serum_measurable() -> None:
    """PD (a): dFLC only "in patients without measurable serum and urine M-protein"."""
    base = {"serum": 2.0, "urine": 0, "serum_ife": True, "urine_ife": True, "involved": "kappa"}
    snaps = [
        snap("2025-01-01", baseline=True, kappa=101, lam=1, **base),
        snap("2025-02-01", **{**base, "serum": 0.8}, kappa=11, lam=1),
        snap("2025-03-01", **{**base, "serum": 0.8}, kappa=11, lam=1),
        snap("2025-04-01", **{**base, "serum": 0.8}, kappa=80, lam=1),
    ]
    assert last(cats(run(snaps))) == "PR"


MARROW_QUIET: dict[str, Any] = {**FLC_QUIET, "kappa": 1, "lam": 1}


@pytest.mark.parametrize(
    ("bmpc", "expected", "reading"),
    [
        (30, "PD", "BMPC 20 → 30: +10 points (≥ 10, inclusive) and +50%"),
        (29.99, "SD", "+9.99 points < 10"),
    ],
)
def test_marrow_pd_bounds(bmpc: float, expected: str, reading: str) -> None:
    """PD (a) marrow: serum, urine and FLC unmeasurable; irrespective of baseline status; no confirmation."""
    snaps = [
        snap("2025-01-01", baseline=True, bmpc=40, **MARROW_QUIET),
        snap("2025-02-01", bmpc=20, **MARROW_QUIET),
        snap("2025-03-01", bmpc=bmpc, **MARROW_QUIET),
    ]
    r = run(snaps)
    assert last(cats(r)) == expected, reading
    assert r.progressive_disease is (expected == "PD")  # marrow PD needs no confirmation


def test_marrow_pd_irrespective_of_baseline_status() -> None:
    """Baseline BMPC 20% (< 30%, not evaluable for response) still supports PD by marrow."""
    snaps = [
        snap("2025-01-01", baseline=True, bmpc=20, **MARROW_QUIET),
        snap("2025-02-01", bmpc=30, **MARROW_QUIET),
    ]
    assert cats(run(snaps)) == ["baseline", "PD"]


# ---------------------------------------------------------------- imaging (PD (b))


def two_lesions(
    *later: tuple[float, float, float, float], settings: Any = DEFAULT_RESPONSE_SETTINGS
) -> list[str]:
    """Serum-measurable patient with L1 4 × 4 and L2 2 × 2 (SPD 20) and constant serum 1.0 after baseline."""
    base = {"urine": 0, "serum_ife": True, "urine_ife": True}
    snaps = [
        snap(
            "2025-01-01",
            baseline=True,
            serum=2.0,
            plasmacytomas=[lesion("L1", 4, 4), lesion("L2", 2, 2)],
            **base,
        )
    ]
    for k, (a, b, c, d) in enumerate(later):
        snaps.append(
            snap(
                f"2025-{k + 2:02d}-01",
                serum=1.0,
                plasmacytomas=[lesion("L1", a, b), lesion("L2", c, d)],
                **base,
            )
        )
    return cats(run(snaps, settings, ["L1", "L2"]))


def test_spd_pd_50_pct_from_nadir_inclusive() -> None:
    """PD (b): SPD 20 → 10 (nadir) → 15 = +50% (inclusive), two lesions; no longest diameter grew."""
    assert two_lesions((4, 1.5, 2, 2), (4, 2.75, 2, 2)) == ["baseline", "PR", "PD"]


def test_spd_pd_49_99_pct_is_not_pd() -> None:
    """SPD 10 → 14.9996 = +49.996% < 50%: no PD (the SPD is still 25% below baseline → SD)."""
    assert two_lesions((4, 1.5, 2, 2), (4, 2.7499, 2, 2)) == ["baseline", "PR", "SD"]


def test_single_lesion_longest_diameter_short_axis_strictly_above_1_cm() -> None:
    """PD (b): +50% longest diameter of a previous lesion with short axis > 1.0 cm (strict, §1.5)."""
    base = {"urine": 0, "serum_ife": True, "urine_ife": True}

    def course(short_axis: float) -> list[str]:
        snaps = [
            snap("2025-01-01", baseline=True, serum=2.0, plasmacytomas=[lesion("L1", 2, 1)], **base),
            snap("2025-02-01", serum=1.0, plasmacytomas=[lesion("L1", 1, 0.8)], **base),
            snap("2025-03-01", serum=1.0, plasmacytomas=[lesion("L1", 1.5, short_axis)], **base),
        ]
        return cats(run(snaps, lesions=["L1"]))

    assert last(course(1.01)) == "PD"  # longest 1.0 → 1.5 = +50%, short axis 1.01 > 1.0
    assert last(course(1.0)) != "PD"  # short axis exactly 1.0 is not > 1.0


def test_single_lesion_49_99_pct_is_not_pd() -> None:
    base = {"urine": 0, "serum_ife": True, "urine_ife": True}
    snaps = [
        snap("2025-01-01", baseline=True, serum=2.0, plasmacytomas=[lesion("L1", 2, 2)], **base),
        snap("2025-02-01", serum=1.0, plasmacytomas=[lesion("L1", 2, 2)], **base),
        snap("2025-03-01", serum=1.0, plasmacytomas=[lesion("L1", 2.9998, 2)], **base),
    ]
    assert last(cats(run(snaps, lesions=["L1"]))) != "PD"


def test_new_lesion_flag_is_pd_without_confirmation() -> None:
    r = run(
        [
            *serum_course(1.0, base=2.0),
            snap("2025-03-01", serum=1.0, urine=0, serum_ife=True, new_lesion=True),
        ]
    )
    assert r.current == "PD"
    assert r.confirmed is True
    assert r.progressive_disease is True
    assert "new lesion" in joined(r)


def test_unlisted_plasmacytoma_is_a_new_lesion() -> None:
    snaps = [
        *serum_course(1.0, base=2.0),
        snap("2025-03-01", serum=1.0, urine=0, serum_ife=True, plasmacytomas=[lesion("L9", 2, 2)]),
    ]
    assert run(snaps).current == "PD"
    off = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, lesion_absent_at_baseline_is_new=False)
    assert run(snaps, off).current != "PD"


# ---------------------------------------------------------------- circulating plasma cells (PD (c))

CPC_QUIET: dict[str, Any] = {**MARROW_QUIET, "bmpc": 10}


@pytest.mark.parametrize(
    ("nadir", "value", "expected", "reading"),
    [
        (100, 200, "PD", "+100% and post-increase 200 cells/µL (≥ 200, inclusive)"),
        (100, 199.99, "not_evaluable", "199.99 < 200 cells/µL"),
        (200, 300, "PD", "+50.00% (inclusive) to 300"),
        (200, 299.98, "not_evaluable", "+49.99% < 50%"),
    ],
)
def test_cpc_pd_bounds(nadir: float, value: float, expected: str, reading: str) -> None:
    """PD (c) only when CPC is the only measure of disease (§1.5: ≥ 50% and ≥ 200 cells/µL after)."""
    snaps = [
        snap("2025-01-01", baseline=True, cpc=nadir, **CPC_QUIET),
        snap("2025-02-01", cpc=value, **CPC_QUIET),
        snap("2025-03-01", cpc=value, **CPC_QUIET),
    ]
    assert cats(run(snaps))[1] == expected, reading


# ---------------------------------------------------------------- PD confirmation (general rule 1)


def test_single_lab_pd_is_unconfirmed() -> None:
    """M-protein PD needs two consecutive assessments: one rise → current PD, confirmed false, no PD flag."""
    r = run(serum_course(1.0, 1.0, 1.6, base=2.0))
    assert r.current == "PD"
    assert r.confirmed is False
    assert r.progressive_disease is False
    assert "not confirmed yet" in joined(r)


def test_two_consecutive_lab_pd_are_confirmed() -> None:
    """Both rises are still a PR from baseline 4.0 — PD wins, and the reason cites the confirming date."""
    r = run(serum_course(1.0, 1.0, 1.6, 1.7, base=4.0))
    assert cats(r)[-2:] == ["PD", "PD"]
    assert r.progressive_disease is True
    assert r.confirmed is True
    assert "PD at 2025-04-01" in joined(r)
    assert "confirmed by 2025-05-01" in joined(r)


def test_unconfirmed_pd_followed_by_recovery() -> None:
    """A single spurious rise that the next value does not repeat stays an unconfirmed PD (ADMIRAL → NE)."""
    r = run(serum_course(1.0, 1.0, 1.6, 1.0, base=2.0))
    assert cats(r) == ["baseline", "PR", "PR", "PD", "PR"]
    # the last PR sits next to a PD, so it is not confirmed yet either (ADMIRAL: response then PD → SD)
    assert [t.confirmed for t in r.timeline] == [None, True, True, False, False]
    assert r.progressive_disease is False


def test_pd_confirmation_setting_off() -> None:
    s = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, pd_lab_confirmation_required=False)
    r = run(serum_course(1.0, 1.0, 1.6, base=2.0), s)
    assert r.progressive_disease is True
    assert "confirmation settings are off" in joined(r)


def test_after_confirmed_pd_everything_is_pd() -> None:
    """PD is an event: later assessments of the same line are PD (a new line needs a new baseline)."""
    r = run(serum_course(1.0, 1.0, 1.6, 1.7, 0.5, base=2.0))
    assert cats(r)[-1] == "PD"
    assert "new baseline" in joined(r)
