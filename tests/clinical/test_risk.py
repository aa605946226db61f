"""IMS/IMWG 2025 high-risk definition — docs/criteria.md §2.4 (IMS25). True/false/null with deciding features."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmemd.clinical.record import Cytogenetics, Labs
from mmemd.clinical.risk import DEFAULT_HIGH_RISK_SETTINGS, HIGH_RISK_DEFINITION, HighRiskSettings, high_risk

D = Decimal

# Everything tested and negative, normal β2M: the known-standard-risk starting point.
NEGATIVE: dict[str, Any] = {
    "del_17p": False,
    "tp53_mutation": False,
    "t_4_14": False,
    "t_14_16": False,
    "t_14_20": False,
    "gain_1q": False,
    "del_1p32": "none",
}
NORMAL_LABS: dict[str, Any] = {
    "beta2_microglobulin": {"value": 2.1, "unit": "mg/L"},
    "creatinine": {"value": 0.9, "unit": "mg/dL"},
}


def hr(
    cyto: dict[str, Any] | None = None, labs: dict[str, Any] | None = None, s: HighRiskSettings | None = None
) -> Any:
    c = Cytogenetics.model_validate({**NEGATIVE, **(cyto or {})})
    lab = Labs.model_validate(NORMAL_LABS if labs is None else labs)
    return high_risk(c, lab, s or DEFAULT_HIGH_RISK_SETTINGS)


def test_settings_defaults_are_pinned() -> None:
    """§2.4 [I/⚠]: del(17p) CCF ≥20% (inclusive); β2M ≥5.5 mg/L with creatinine <1.2 mg/dL."""
    s = DEFAULT_HIGH_RISK_SETTINGS
    assert s.del17p_clonal_fraction_threshold_pct == D(20)
    assert s.del17p_threshold_inclusive is True
    assert s.b2m_min_mg_l == D("5.5")
    assert s.creatinine_normal_below_mg_dl == D("1.2")
    assert HIGH_RISK_DEFINITION == "IMS-IMWG-2025"


def test_all_negative_is_not_high_risk() -> None:
    r = hr()
    assert (r.high_risk, r.features) == (False, ())


# --- criterion 1: del(17p) ≥20% / TP53 -------------------------------------------------------------------------


@pytest.mark.parametrize(("frac", "expected"), [(20, True), (D("19.99"), False), (35, True)])
def test_del17p_clonal_fraction_20_percent_inclusive(frac: Any, expected: bool) -> None:
    """§2.4 criterion 1: del(17p) in ≥20% of clonal cells (default reading: 20% counts)."""
    r = hr({"del_17p": True, "del_17p_clonal_fraction_pct": frac})
    assert r.high_risk is expected
    if expected:
        assert r.features == (f"del(17p) in {frac}% of clonal cells",)


def test_del17p_strict_reading_is_a_setting() -> None:
    s = HighRiskSettings(del17p_threshold_inclusive=False)
    assert hr({"del_17p": True, "del_17p_clonal_fraction_pct": 20}, s=s).high_risk is False
    assert hr({"del_17p": True, "del_17p_clonal_fraction_pct": D("20.1")}, s=s).high_risk is True


def test_del17p_without_fraction_is_undecided() -> None:
    r = hr({"del_17p": True})
    assert r.high_risk is None
    assert any("del_17p_clonal_fraction_pct" in x for x in r.reasons)


def test_tp53_mutation() -> None:
    assert hr({"tp53_mutation": True}).features == ("TP53 mutation",)


# --- criterion 2: IgH translocation + 1q+/del(1p32) ------------------------------------------------------------


@pytest.mark.parametrize("t", ["t_4_14", "t_14_16", "t_14_20"])
def test_translocation_with_1q_gain(t: str) -> None:
    """§2.4 criterion 2: t(4;14), t(14;16) or t(14;20) with 1q+."""
    r = hr({t: True, "gain_1q": True})
    assert r.high_risk is True
    label = {"t_4_14": "t(4;14)", "t_14_16": "t(14;16)", "t_14_20": "t(14;20)"}[t]
    assert r.features == (f"{label} with 1q gain",)


def test_translocation_with_del1p32() -> None:
    r = hr({"t_4_14": True, "del_1p32": "monoallelic"})
    assert r.features == ("t(4;14) with monoallelic del(1p32)",)


def test_isolated_t_4_14_is_not_high_risk() -> None:
    """§2.4: isolated t(4;14) without 1q+/del(1p32) is not high-risk under this definition."""
    assert hr({"t_4_14": True}).high_risk is False


def test_translocation_with_unknown_partner_is_undecided() -> None:
    r = hr({"t_4_14": True, "gain_1q": None})
    assert r.high_risk is None
    assert any("cytogenetics.gain_1q" in x for x in r.reasons)


# --- criterion 3: del(1p32) ------------------------------------------------------------------------------------


def test_monoallelic_del1p32_with_1q_gain() -> None:
    """§2.4 criterion 3: monoallelic del(1p32) with 1q+ (the contract example's feature string)."""
    assert hr({"del_1p32": "monoallelic", "gain_1q": True}).features == (
        "monoallelic del(1p32) with 1q gain",
    )


def test_monoallelic_del1p32_alone_is_not_high_risk() -> None:
    assert hr({"del_1p32": "monoallelic"}).high_risk is False


def test_biallelic_del1p32() -> None:
    assert hr({"del_1p32": "biallelic"}).features == ("biallelic del(1p32)",)


# --- criterion 4: β2M ≥5.5 with creatinine <1.2 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("b2m", "creat", "creat_unit", "expected"),
    [
        (5.5, 1.19, "mg/dL", True),  # β2M ≥5.5 inclusive, creatinine <1.2 strict
        (5.49, 0.8, "mg/dL", False),
        (6.0, 1.2, "mg/dL", False),  # creatinine 1.2 is not normal (<1.2)
        (6.0, 106, "µmol/L", True),  # 106 µmol/L = 1.199 mg/dL
        (6.0, 106.08, "µmol/L", False),  # = 1.2 mg/dL exactly
    ],
)
def test_b2m_with_normal_creatinine(b2m: float, creat: float, creat_unit: str, expected: bool) -> None:
    """§2.4 criterion 4: β2M ≥5.5 mg/L with normal creatinine (<1.2 mg/dL)."""
    r = hr(
        labs={
            "beta2_microglobulin": {"value": b2m, "unit": "mg/L"},
            "creatinine": {"value": creat, "unit": creat_unit},
        }
    )
    assert r.high_risk is expected


def test_b2m_high_with_unknown_creatinine_is_undecided() -> None:
    r = hr(labs={"beta2_microglobulin": {"value": 7, "unit": "mg/L"}})
    assert r.high_risk is None
    assert any("labs.creatinine" in x for x in r.reasons)


# --- three-valued logic ----------------------------------------------------------------------------------------


def test_null_when_an_unknown_could_flip_it_and_nothing_known_makes_it_true() -> None:
    r = high_risk(None, None)
    assert r.high_risk is None and r.features == ()
    assert len(r.reasons) >= 4


def test_a_known_positive_decides_despite_unknowns() -> None:
    r = high_risk(Cytogenetics(tp53_mutation=True), None)
    assert r.high_risk is True and r.features == ("TP53 mutation",)


def test_contract_example_features() -> None:
    """docs/record.md example: del(17p) 35%, monoallelic del(1p32) + 1q gain, β2M 6.1 mg/L with creatinine 1.0."""
    r = hr(
        {
            "del_17p": True,
            "del_17p_clonal_fraction_pct": 35,
            "tp53_mutation": None,
            "t_14_20": None,
            "gain_1q": True,
            "del_1p32": "monoallelic",
        },
        {
            "beta2_microglobulin": {"value": 6.1, "unit": "mg/L"},
            "creatinine": {"value": 1.0, "unit": "mg/dL"},
        },
    )
    assert r.high_risk is True
    assert r.features[:2] == ("del(17p) in 35% of clonal cells", "monoallelic del(1p32) with 1q gain")


_tri = st.sampled_from([True, False, None])


@settings(max_examples=300, deadline=None)
@given(
    vals=st.fixed_dictionaries(
        {
            "del_17p": _tri,
            "tp53_mutation": _tri,
            "t_4_14": _tri,
            "t_14_16": _tri,
            "t_14_20": _tri,
            "gain_1q": _tri,
            "del_1p32": st.sampled_from(["none", "monoallelic", "biallelic", None]),
        }
    ),
    frac=st.sampled_from([None, 10, 20, 50]),
    data=st.data(),
)
def test_null_exactly_when_completions_disagree(vals: dict[str, Any], frac: Any, data: Any) -> None:
    """Brute force: the result is True/False iff every completion of the unknown cytogenetics agrees; else null."""
    cyto = dict(vals)
    if cyto["del_17p"] is True and frac is not None:
        cyto["del_17p_clonal_fraction_pct"] = frac
    result = hr(cyto).high_risk
    unknown = [k for k, v in vals.items() if v is None]
    outcomes = set()
    from itertools import product

    domains = [["none", "monoallelic", "biallelic"] if k == "del_1p32" else [True, False] for k in unknown]
    for combo in product(*domains):
        full = {**cyto, **dict(zip(unknown, combo, strict=True))}
        if full["del_17p"] is True and full.get("del_17p_clonal_fraction_pct") is None:
            for f in (10, 50):  # the unknown fraction can fall on either side of 20%
                outcomes.add(hr({**full, "del_17p_clonal_fraction_pct": f}).high_risk)
        else:
            outcomes.add(hr(full).high_risk)
    assert None not in outcomes
    assert result == (outcomes.pop() if len(outcomes) == 1 else None)


def test_feature_texts_kept_by_their_facts_are_those_rendered_from_the_current_glossary() -> None:
    """feature_text keeps each rendered text by (template, facts, language) with the glossary it came from: a text
    met again is the one the renderer gives, in both languages, and a new glossary renders anew."""
    from mmemd.clinical import risk
    from mmemd.knowledge import load_glossary

    cyto = Cytogenetics.model_validate(
        {**NEGATIVE, "del_17p": True, "del_17p_clonal_fraction_pct": 35, "t_4_14": True, "gain_1q": True}
    )
    labs = Labs.model_validate({**NORMAL_LABS, "beta2_microglobulin": {"value": 6.1, "unit": "mg/L"}})
    facts = high_risk(cyto, labs).feature_facts
    assert len(facts) == 3
    for lang in ("en", "zh"):
        for f in facts:
            rendered = risk._render(load_glossary(), f, lang)
            assert risk.feature_text(f, lang) == rendered
            assert risk.feature_text(f, lang) == rendered  # kept
    old = load_glossary()
    assert all(risk._TEXTS[(f.template, f.facts, "en")][0] is old for f in facts)
    load_glossary.cache_clear()
    fresh = load_glossary()
    assert fresh is not old
    for f in facts:
        assert risk.feature_text(f, "en") == risk._render(fresh, f, "en")
        assert risk._TEXTS[(f.template, f.facts, "en")][0] is fresh
