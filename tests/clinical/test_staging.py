"""ISS (§2.1), R-ISS (§2.2) and R2-ISS (§2.3) — docs/criteria.md; missing data never default to normal."""

from __future__ import annotations

from decimal import Decimal
from itertools import product
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmemd.clinical.record import parse_record
from mmemd.clinical.staging import (
    DEFAULT_STAGING_SETTINGS,
    R2_GROUP_UPPER,
    R2_POINTS_DEL17P,
    R2_POINTS_GAIN_1Q,
    R2_POINTS_HIGH_LDH,
    R2_POINTS_ISS,
    R2_POINTS_T_4_14,
    StagingSettings,
    iss_possible,
    stage,
)

D = Decimal


def record(labs: dict[str, Any] | None = None, cyto: dict[str, Any] | None = None) -> Any:
    data: dict[str, Any] = {"schema": "mmemd.patient/1", "id": "p", "phase": "newly_diagnosed"}
    if labs is not None:
        data["labs"] = labs
    if cyto is not None:
        data["cytogenetics"] = cyto
    return parse_record(data)


def labs(
    b2m: Any = None, alb: Any = None, ldh: Any = None, uln: Any = 250, alb_unit: str = "g/dL"
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if b2m is not None:
        out["beta2_microglobulin"] = {"value": b2m, "unit": "mg/L"}
    if alb is not None:
        out["albumin"] = {"value": alb, "unit": alb_unit}
    if ldh is not None:
        out["ldh"] = {"value": ldh, "unit": "U/L"}
        if uln is not None:
            out["ldh"]["upper_limit_normal"] = uln
    return out


STANDARD_CA = {"del_17p": False, "t_4_14": False, "t_14_16": False, "gain_1q": False}


def test_settings_defaults_are_pinned() -> None:
    """§2.1 [M]: β2M <3.5 and albumin ≥3.5 -> I; β2M ≥5.5 -> III. §2.2 [M]: high LDH strictly > ULN."""
    s = DEFAULT_STAGING_SETTINGS
    assert s.iss_b2m_stage_i_below_mg_l == D("3.5")
    assert s.iss_albumin_stage_i_min_g_dl == D("3.5")
    assert s.iss_b2m_stage_iii_min_mg_l == D("5.5")
    assert s.ldh_high_strictly_above_uln is True


def test_r2_iss_points_and_groups_are_pinned() -> None:
    """§2.3 DAGOSTINO22: ISS II 1, ISS III 1.5, del(17p) 1, high LDH 1, t(4;14) 1, 1q+ 0.5; groups 0 / 0.5-1 / 1.5-2.5 / 3-5."""
    assert {"I": 0, "II": 1, "III": D("1.5")} == R2_POINTS_ISS
    assert (1, 1, 1, D("0.5")) == (R2_POINTS_DEL17P, R2_POINTS_HIGH_LDH, R2_POINTS_T_4_14, R2_POINTS_GAIN_1Q)
    assert [(float(u), g) for u, g in R2_GROUP_UPPER] == [(0, "I"), (1, "II"), (2.5, "III"), (5, "IV")]


# --- ISS §2.1 --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("b2m", "alb", "iss"),
    [
        (D("3.49"), D("3.5"), "I"),  # β2M <3.5 (strict) and albumin ≥3.5 (inclusive)
        (D("3.5"), D("4.0"), "II"),  # β2M = 3.5 is not <3.5
        (D("3.49"), D("3.49"), "II"),  # albumin <3.5
        (D("5.49"), D("2.0"), "II"),  # 3.5 ≤ β2M <5.5
        (D("5.5"), D("4.5"), "III"),  # β2M ≥5.5 (inclusive), albumin irrelevant
        (D("12"), D("2.5"), "III"),
    ],
)
def test_iss_thresholds_both_sides(b2m: Decimal, alb: Decimal, iss: str) -> None:
    """§2.1 (GREIPP05): I = β2M <3.5 mg/L and albumin ≥3.5 g/dL; III = β2M ≥5.5; II otherwise."""
    assert stage(record(labs(b2m, alb))).iss == iss


def test_iss_albumin_in_g_per_l() -> None:
    """§2.1: albumin ≥3.5 g/dL = ≥35 g/L."""
    assert stage(record(labs(D("3.0"), 35, alb_unit="g/L"))).iss == "I"
    assert stage(record(labs(D("3.0"), D("34.9"), alb_unit="g/L"))).iss == "II"


@pytest.mark.parametrize(
    ("b2m", "alb", "possible"),
    [
        (D("6.0"), None, ("III",)),  # III decidable from β2M alone
        (D("4.0"), None, ("II",)),
        (D("2.0"), None, ("I", "II")),
        (None, D("3.0"), ("II", "III")),
        (None, D("4.0"), ("I", "II", "III")),
        (None, None, ("I", "II", "III")),
    ],
)
def test_iss_with_partial_data(b2m: Decimal | None, alb: Decimal | None, possible: tuple[str, ...]) -> None:
    s = stage(record(labs(b2m, alb)))
    assert tuple(s.iss_possible) == possible
    assert s.iss == (possible[0] if len(possible) == 1 else None)
    if s.iss is None:
        assert any(x.startswith("ISS undetermined") for x in s.reasons)


# --- R-ISS §2.2 ------------------------------------------------------------------------------------------------


def test_r_iss_i_needs_iss_i_standard_ca_and_normal_ldh() -> None:
    """§2.2 PALUMBO15: R-ISS I = ISS I + standard-risk CA by iFISH + normal LDH."""
    s = stage(record(labs(D("2.0"), D("4.0"), ldh=200), STANDARD_CA))
    assert (s.iss, s.r_iss, s.r_iss_possible) == ("I", "I", ["I"])


def test_r_iss_iii_from_iss_iii_and_one_positive_with_other_data_missing() -> None:
    """§2.2: R-ISS III is determinable with ISS III + any one positive (here del(17p); LDH unknown)."""
    s = stage(record(labs(D("6.0")), {"del_17p": True}))
    assert (s.r_iss, s.r_iss_possible) == ("III", ["III"])


def test_r_iss_iii_from_high_ldh() -> None:
    s = stage(record(labs(D("6.0"), ldh=251, uln=250)))
    assert s.r_iss == "III"


def test_r_iss_ii_when_iss_iii_but_both_negative() -> None:
    s = stage(record(labs(D("6.0"), ldh=250, uln=250), STANDARD_CA))
    assert s.r_iss == "II"


def test_r_iss_i_undetermined_without_fish() -> None:
    """§2.2: R-ISS I is determinable only with FISH + LDH known."""
    s = stage(record(labs(D("2.0"), D("4.0"), ldh=200)))
    assert s.r_iss is None
    assert s.r_iss_possible == ["I", "II"]
    assert any("R-ISS undetermined" in x and "cytogenetics.del_17p" in x for x in s.reasons)


@pytest.mark.parametrize(("ldh", "high"), [(250, False), (251, True), (D("250.01"), True)])
def test_high_ldh_is_strictly_above_uln(ldh: Any, high: bool) -> None:
    """§2.2: high LDH = > ULN (strict, [M]); LDH equal to the ULN is normal."""
    s = stage(record(labs(D("6.0"), ldh=ldh, uln=250), STANDARD_CA))
    assert s.r_iss == ("III" if high else "II")


def test_high_ldh_inclusive_reading_is_a_setting() -> None:
    s = stage(
        record(labs(D("6.0"), ldh=250, uln=250), STANDARD_CA),
        StagingSettings(ldh_high_strictly_above_uln=False),
    )
    assert s.r_iss == "III"


def test_ldh_without_upper_limit_is_unknown_and_said() -> None:
    """LDH needs the laboratory's upper limit of normal; without it LDH status is unknown, never normal."""
    s = stage(record(labs(D("2.0"), D("4.0"), ldh=180, uln=None), STANDARD_CA))
    assert s.r_iss is None
    assert s.r_iss_possible == ["I", "II"]
    assert any("upper_limit_normal" in x for x in s.reasons)


# --- R2-ISS §2.3 -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("b2m", "alb", "ldh", "cyto", "points", "group"),
    [
        (D("2"), D("4"), 200, STANDARD_CA, 0, "I"),
        (D("2"), D("4"), 200, {**STANDARD_CA, "gain_1q": True}, 0.5, "II"),
        (D("4"), D("4"), 200, STANDARD_CA, 1, "II"),  # ISS II
        (D("6"), D("4"), 200, STANDARD_CA, 1.5, "III"),  # ISS III
        (D("6"), D("4"), 300, {**STANDARD_CA, "gain_1q": True}, 3, "IV"),  # 1.5 + 1 + 0.5
        (D("4"), D("4"), 300, {**STANDARD_CA, "t_4_14": True, "gain_1q": True}, 3.5, "IV"),
        (D("6"), D("4"), 300, {"del_17p": True, "t_4_14": True, "t_14_16": False, "gain_1q": True}, 5, "IV"),
        (D("2"), D("4"), 300, {**STANDARD_CA, "t_4_14": True, "gain_1q": True}, 2.5, "III"),
        # t(14;16) is not scored
        (D("2"), D("4"), 200, {**STANDARD_CA, "t_14_16": True}, 0, "I"),
    ],
)
def test_r2_iss_points_and_group(
    b2m: Decimal, alb: Decimal, ldh: int, cyto: dict[str, Any], points: float, group: str
) -> None:
    """§2.3 DAGOSTINO22 point table and group boundaries (0 | 0.5-1 | 1.5-2.5 | 3-5)."""
    r2 = stage(record(labs(b2m, alb, ldh=ldh), cyto)).r2_iss
    assert (r2.points, r2.group) == (points, group)


def test_r2_iss_group_null_when_an_unknown_could_change_it() -> None:
    """ISS III (1.5) + unknown del(17p)/t(4;14)/1q/LDH: 1.5..5 spans III and IV -> group and points null."""
    r2 = stage(record(labs(D("6")))).r2_iss
    assert r2.group is None and r2.points is None
    assert (r2.points_min, r2.points_max) == (1.5, 5.0)


def test_r2_iss_group_known_despite_unknown_1q() -> None:
    """ISS II (1) + del(17p) (1) + 1q unknown: 2..2.5 is group III either way; exact points unknown."""
    s = stage(record(labs(D("4"), ldh=100), {"del_17p": True, "t_4_14": False}))
    assert s.r2_iss.group == "III"
    assert s.r2_iss.points is None
    assert (s.r2_iss.points_min, s.r2_iss.points_max) == (2.0, 2.5)


def test_contract_example_staging() -> None:
    """docs/record.md worked example: β2M 6.1 mg/L (ISS III), del(17p), LDH 310 > 250, 1q gain, no t(4;14)
    -> ISS III, R-ISS III, R2-ISS 1.5 + 1 + 1 + 0.5 = 4.0, group IV (hand-derived from §2.1-§2.3)."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "emd-liver-rrmm-pr.json"
    s = stage(parse_record(json.loads(path.read_text(encoding="utf-8"))))
    assert (s.iss, s.r_iss, s.r_iss_possible) == ("III", "III", ["III"])
    assert (s.r2_iss.points, s.r2_iss.group) == (4.0, "IV")


# --- property: partial data is consistent with the full data ---------------------------------------------------

_b2m = st.sampled_from([D("1.5"), D("3.49"), D("3.5"), D("5.49"), D("5.5"), D("9")])
_alb = st.sampled_from([D("2.5"), D("3.49"), D("3.5"), D("4.2")])
_ldh = st.sampled_from([150, 250, 251, 400])
_flag = st.booleans()


@settings(max_examples=200, deadline=None)
@given(
    b2m=_b2m,
    alb=_alb,
    ldh=_ldh,
    flags=st.tuples(_flag, _flag, _flag, _flag),
    hide=st.sets(st.sampled_from(["b2m", "alb", "ldh", "uln", "del_17p", "t_4_14", "t_14_16", "gain_1q"])),
)
def test_unknowns_only_widen_never_contradict(
    b2m: Decimal, alb: Decimal, ldh: int, flags: tuple[bool, bool, bool, bool], hide: set[str]
) -> None:
    """Hiding data never yields a stage the full data rule out: the full result is always among the possible ones,
    and a stage reported with partial data equals the full-data stage."""
    cyto = dict(zip(("del_17p", "t_4_14", "t_14_16", "gain_1q"), flags, strict=True))
    full = stage(record(labs(b2m, alb, ldh), cyto))
    part_labs = labs(
        None if "b2m" in hide else b2m,
        None if "alb" in hide else alb,
        None if "ldh" in hide else ldh,
        uln=None if "uln" in hide else 250,
    )
    part = stage(record(part_labs, {k: v for k, v in cyto.items() if k not in hide}))
    assert full.iss is not None and full.r_iss is not None and full.r2_iss.group is not None
    assert full.iss in part.iss_possible
    assert full.r_iss in part.r_iss_possible
    assert part.iss in (None, full.iss)
    assert part.r_iss in (None, full.r_iss)
    assert part.r2_iss.group in (None, full.r2_iss.group)
    assert full.r2_iss.points is not None
    assert part.r2_iss.points_min <= full.r2_iss.points <= part.r2_iss.points_max
    if part.r2_iss.points is not None:
        assert part.r2_iss.points == full.r2_iss.points


def test_iss_possible_is_exhaustive_over_a_grid() -> None:
    """Every (β2M, albumin) on a grid around the thresholds lands in exactly one stage, matching §2.1 literally."""
    grid_b = [D(x) / 100 for x in range(300, 600, 7)]
    grid_a = [D(x) / 100 for x in range(300, 400, 3)]
    for b, a in product(grid_b, grid_a):
        expected = "III" if b >= D("5.5") else ("I" if b < D("3.5") and a >= D("3.5") else "II")
        assert iss_possible(b, a) == (expected,)
