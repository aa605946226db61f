"""EMD classification — docs/criteria.md §3.1 (definitions), §3.3 (rule set [I]), §2.6 (PCL21, solitary)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmemd.clinical.emd import DEFAULT_EMD_SETTINGS, EmdSettings, classify_emd
from mmemd.clinical.record import parse_record

MM_DX: dict[str, Any] = {
    "date": "2024-01-10",
    "clonal_bone_marrow_plasma_cells_pct": 35,
    "circulating_plasma_cells_pct": 0,
    "myeloma_defining_events": ["anemia", "bone_lesions"],
}
SOLITARY_DX: dict[str, Any] = {
    "date": "2024-01-10",
    "clonal_bone_marrow_plasma_cells_pct": 0,
    "circulating_plasma_cells_pct": 0,
    "myeloma_defining_events": [],
}


def rec(lesions: list[dict[str, Any]] | None, diagnosis: dict[str, Any] | None = None, **extra: Any) -> Any:
    data: dict[str, Any] = {"schema": "mmemd.patient/1", "id": "p", "phase": "newly_diagnosed", **extra}
    if lesions is not None:
        data["lesions"] = lesions
    data["diagnosis"] = MM_DX if diagnosis is None else diagnosis
    return parse_record(data)


def lesion(lid: str, relation: str | None, site: str = "soft_tissue", **kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"id": lid, "site": site, "biopsy_proven": True, **kw}
    if relation is not None:
        d["relation_to_bone"] = relation
    return d


def test_settings_defaults_are_pinned() -> None:
    """§2.6 PCL21 ≥5%; §2.6 solitary <10% [M]; biopsy-proven [M]; §3.3 work-up window [I] 30 days."""
    s = DEFAULT_EMD_SETTINGS
    assert s.pcl_circulating_pct_min == Decimal(5)
    assert s.solitary_clonal_bmpc_below_pct == Decimal(10)
    assert s.solitary_requires_biopsy is True
    assert s.primary_workup_window_days == 30


# --- §3.1 extramedullary vs paraskeletal ------------------------------------------------------------------------


def test_extraosseous_lesion_is_extramedullary() -> None:
    """§3.1 BLADE22: soft-tissue plasmacytoma with no contact with bony structures = true EMD (EM-E)."""
    r = classify_emd(rec([lesion("L1", "none", site="liver", detected_at="diagnosis")]))
    assert r.category == "extramedullary"
    assert r.also_paraskeletal is False
    assert r.sites == ["liver"]
    assert r.timing == "primary"
    assert any(
        x.startswith("L1 (liver): extraosseous lesion without bone contact, biopsy-proven") for x in r.reasons
    )


def test_lesion_arising_from_bone_is_paraskeletal() -> None:
    """§3.1 ROSINOL21/TOUZEAU16: tumour arising from a skeletal lesion through the cortex = paraskeletal."""
    r = classify_emd(rec([lesion("L1", "arising_from_bone", site="paravertebral")]))
    assert r.category == "paraskeletal"
    assert r.also_paraskeletal is False


def test_extramedullary_takes_precedence_over_paraskeletal() -> None:
    """§3.3: any lesion without bony contact -> EMD (EM-E), which takes precedence; PS recorded alongside."""
    r = classify_emd(
        rec([lesion("L1", "arising_from_bone", site="paravertebral"), lesion("L2", "none", site="pleura")])
    )
    assert r.category == "extramedullary"
    assert r.also_paraskeletal is True
    assert r.sites == ["paravertebral", "pleura"]


def test_intraosseous_lesions_only_are_not_emd() -> None:
    r = classify_emd(
        rec([lesion("L1", "intraosseous", site="bone"), lesion("L2", "intraosseous", site="bone")])
    )
    assert r.category == "none"
    assert r.sites == []


def test_no_lesions_is_none() -> None:
    r = classify_emd(rec([]))
    assert r.category == "none"
    assert r.cns is False


def test_absent_lesion_list_is_indeterminate() -> None:
    """docs/record.md: absent = not known, never "no lesions"."""
    r = classify_emd(rec(None))
    assert r.category == "indeterminate"
    assert any("lesions not recorded" in x for x in r.reasons)


def test_unknown_relation_to_bone_is_indeterminate() -> None:
    """§3.3 needs the relation to bone; unknown could be EM-E (precedence), PS or intraosseous."""
    r = classify_emd(rec([lesion("L1", "arising_from_bone"), lesion("L2", None)]))
    assert r.category == "indeterminate"
    assert any("L2" in x and "cannot be decided" in x for x in r.reasons)


def test_unknown_relation_beside_known_extramedullary_keeps_extramedullary() -> None:
    """EM-E takes precedence whatever the unknown lesion is; only also_paraskeletal stays unknown."""
    r = classify_emd(rec([lesion("L1", "none"), lesion("L2", None)]))
    assert r.category == "extramedullary"
    assert r.also_paraskeletal is None


def test_unknown_site_is_reported_in_reasons() -> None:
    r = classify_emd(rec([lesion("L1", "none", site="not_a_site")]))
    assert r.category == "extramedullary"
    assert any("'not_a_site'" in x and "not a knowledge-base site" in x for x in r.reasons)


# --- CNS -------------------------------------------------------------------------------------------------------


def test_cns_by_flag_or_site() -> None:
    """§3.3 subtype CNS: brain parenchyma / leptomeninges / CSF clonal PCs (flag or a CNS site id)."""
    assert classify_emd(rec([lesion("L1", "none", site="cns")])).cns is True
    assert classify_emd(rec([lesion("L1", "none", site="soft_tissue", cns=True)])).cns is True
    assert classify_emd(rec([lesion("L1", "none", site="liver")])).cns is False
    no_site = {"id": "L1", "relation_to_bone": "none", "biopsy_proven": True}
    assert classify_emd(rec([no_site])).cns is None


# --- timing (§3.1 / §3.3) ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "timing"),
    [
        ({"detected_at": "diagnosis"}, "primary"),
        ({"detected_at": "relapse"}, "secondary"),
        ({"detected_on": "2024-01-10"}, "primary"),  # on the diagnosis date
        ({"detected_on": "2024-02-09"}, "primary"),  # diagnosis + 30 days: still the work-up (inclusive)
        ({"detected_on": "2024-02-10"}, "secondary"),  # diagnosis + 31 days
        ({}, None),
    ],
)
def test_timing_primary_vs_secondary(kw: dict[str, Any], timing: str | None) -> None:
    """§3.1: primary = present at MM diagnosis; secondary = at relapse; §3.3 work-up window [I] 30 days."""
    r = classify_emd(rec([lesion("L1", "none", **kw)]))
    assert r.category == "extramedullary"
    assert r.timing == timing


def test_timing_primary_if_any_defining_lesion_was_present_at_diagnosis() -> None:
    r = classify_emd(
        rec([lesion("L1", "none", detected_at="relapse"), lesion("L2", "none", detected_at="diagnosis")])
    )
    assert r.timing == "primary"


def test_workup_window_is_a_setting() -> None:
    r = classify_emd(
        rec([lesion("L1", "none", detected_on="2024-01-20")]), EmdSettings(primary_workup_window_days=0)
    )
    assert r.timing == "secondary"


# --- exclusions: PCL (§2.6 PCL21) ------------------------------------------------------------------------------


@pytest.mark.parametrize(("cpc", "pcl"), [(Decimal(5), True), (Decimal("4.99"), False), (Decimal(20), True)])
def test_plasma_cell_leukemia_at_5_percent_inclusive(cpc: Decimal, pcl: bool) -> None:
    """§2.6 PCL21: ≥5% circulating plasma cells on smear -> PCL (5% is PCL, 4.99% is not)."""
    dx = {**MM_DX, "circulating_plasma_cells_pct": float(cpc)}
    r = classify_emd(rec([lesion("L1", "none", site="pleura")], dx))
    assert (r.category == "plasma_cell_leukemia") is pcl
    if pcl:
        assert r.timing == "primary"
        assert r.sites == ["pleura"]  # EMD sites recorded as features, not the class (§3.3)
        assert any("feature of the PCL" in x for x in r.reasons)


def test_secondary_pcl_from_a_later_assessment() -> None:
    """Circulating PCs ≥5% arising later (assessment smear) -> PCL, secondary."""
    r = classify_emd(
        rec(
            [lesion("L1", "none")],
            assessments=[
                {"date": "2025-01-01", "circulating_plasma_cells_pct": 2},
                {"date": "2025-06-01", "circulating_plasma_cells_pct": 8},
            ],
        )
    )
    assert r.category == "plasma_cell_leukemia"
    assert r.timing == "secondary"


def test_unknown_circulating_cells_is_said() -> None:
    dx = {k: v for k, v in MM_DX.items() if k != "circulating_plasma_cells_pct"}
    r = classify_emd(rec([lesion("L1", "none")], dx))
    assert r.category == "extramedullary"
    assert any("plasma cell leukemia not assessed" in x for x in r.reasons)


# --- exclusions: solitary plasmacytoma (§2.6) -------------------------------------------------------------------


def test_solitary_bone_plasmacytoma() -> None:
    """§2.6: single biopsy-proven bone lesion, no clonal marrow PCs, no CRAB -> solitary bone plasmacytoma."""
    r = classify_emd(rec([lesion("L1", "intraosseous", site="bone")], SOLITARY_DX))
    assert r.category == "solitary_bone_plasmacytoma"
    assert r.minimal_marrow_involvement is False


def test_solitary_extramedullary_plasmacytoma() -> None:
    r = classify_emd(rec([lesion("L1", "none", site="soft_tissue")], SOLITARY_DX))
    assert r.category == "solitary_extramedullary_plasmacytoma"
    assert r.sites == ["soft_tissue"]


@pytest.mark.parametrize(
    ("bmpc", "category", "minimal"),
    [
        (Decimal(0), "solitary_bone_plasmacytoma", False),
        (Decimal("0.5"), "solitary_bone_plasmacytoma", True),
        (Decimal("9.99"), "solitary_bone_plasmacytoma", True),
        (Decimal(10), "none", None),  # ≥10% clonal BMPC = MM; an intraosseous lesion is then bone disease
    ],
)
def test_minimal_marrow_involvement_below_10_percent(
    bmpc: Decimal, category: str, minimal: bool | None
) -> None:
    """§2.6: 'with minimal marrow involvement' when 0 < clonal BMPC < 10% (strict); ≥10% = MM."""
    dx = {**SOLITARY_DX, "clonal_bone_marrow_plasma_cells_pct": float(bmpc)}
    r = classify_emd(rec([lesion("L1", "intraosseous", site="bone")], dx))
    assert r.category == category
    assert r.minimal_marrow_involvement is minimal


def test_myeloma_defining_event_excludes_solitary() -> None:
    """§2.6/§3.3: no CRAB/MDE required for solitary plasmacytoma; an MDE makes it myeloma (with EMD here)."""
    dx = {**SOLITARY_DX, "myeloma_defining_events": ["hypercalcemia"]}
    assert classify_emd(rec([lesion("L1", "none")], dx)).category == "extramedullary"


def test_two_lesions_are_not_solitary() -> None:
    """§3.3: solitary requires a single lesion."""
    r = classify_emd(rec([lesion("L1", "none"), lesion("L2", "none")], SOLITARY_DX))
    assert r.category == "extramedullary"


@pytest.mark.parametrize(
    "dx",
    [
        {
            "date": "2024-01-10",
            "circulating_plasma_cells_pct": 0,
            "myeloma_defining_events": [],
        },  # marrow unknown
        {
            "date": "2024-01-10",
            "circulating_plasma_cells_pct": 0,
            "clonal_bone_marrow_plasma_cells_pct": 3,
        },  # MDEs unknown
    ],
)
def test_single_soft_tissue_lesion_with_unknown_marrow_or_mde_is_indeterminate(dx: dict[str, Any]) -> None:
    """Solitary EMP vs MM with EMD cannot be decided without marrow and MDE status (never guessed)."""
    r = classify_emd(rec([lesion("L1", "none")], dx))
    assert r.category == "indeterminate"
    assert any("missing" in x for x in r.reasons)


def test_solitary_requires_biopsy_proof() -> None:
    """§2.6 [M]: a biopsy-proven lesion; imaging only -> indeterminate (unless the setting is relaxed)."""
    les = {"id": "L1", "site": "soft_tissue", "relation_to_bone": "none", "confirmed_by": "imaging_only"}
    assert classify_emd(rec([les], SOLITARY_DX)).category == "indeterminate"
    relaxed = EmdSettings(solitary_requires_biopsy=False)
    assert classify_emd(rec([les], SOLITARY_DX), relaxed).category == "solitary_extramedullary_plasmacytoma"


def test_known_myeloma_decides_despite_missing_fields() -> None:
    """Clonal BMPC ≥10% alone establishes myeloma: a single EM lesion is then EMD even with MDEs unknown."""
    dx = {"clonal_bone_marrow_plasma_cells_pct": 60, "circulating_plasma_cells_pct": 0}
    assert classify_emd(rec([lesion("L1", "none")], dx)).category == "extramedullary"


# --- invariance -------------------------------------------------------------------------------------------------

_relations = st.sampled_from(["none", "arising_from_bone", "intraosseous", None])
_sites = st.sampled_from(["liver", "pleura", "cns", "paravertebral", "bone", "orbit"])
_lesions = st.lists(
    st.builds(
        lambda rel, site, at, cns: {
            k: v for k, v in lesion("x", rel, site=site, detected_at=at, cns=cns).items() if v is not None
        },
        _relations,
        _sites,
        st.sampled_from(["diagnosis", "relapse", None]),
        st.sampled_from([True, False, None]),
    ),
    min_size=0,
    max_size=5,
)
_dx = st.sampled_from([MM_DX, SOLITARY_DX, {"date": "2024-01-10"}])


@settings(max_examples=150, deadline=None)
@given(lesions=_lesions, dx=_dx, data=st.data())
def test_lesion_order_does_not_change_the_classification(
    lesions: list[dict[str, Any]], dx: dict[str, Any], data: Any
) -> None:
    """The classification (category, timing, CNS, sites, reasons) does not depend on the order of ``lesions``."""
    for i, les in enumerate(lesions):
        les["id"] = f"L{i}"
    shuffled = data.draw(st.permutations(lesions))
    a = classify_emd(rec(lesions, dx))
    b = classify_emd(rec(list(shuffled), dx))
    assert a == b


@settings(max_examples=150, deadline=None)
@given(lesions=_lesions, dx=_dx)
def test_every_decision_carries_a_reason(lesions: list[dict[str, Any]], dx: dict[str, Any]) -> None:
    for i, les in enumerate(lesions):
        les["id"] = f"L{i}"
    r = classify_emd(rec(lesions, dx))
    assert r.reasons
    if r.category in ("extramedullary", "paraskeletal", "indeterminate") and lesions:
        for les in lesions:
            assert any(x.startswith(les["id"]) for x in r.reasons)
