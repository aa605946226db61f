"""Pins every default of ResponseSettings to the reading stated in docs/criteria.md (§1.2–§1.5).

Each row names the spec section; changing a default must change this table (and docs/response.md).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec.structs
import pytest

from mmemd.clinical.response import (
    DEFAULT_RESPONSE_SETTINGS,
    RESPONSE_CRITERIA_VERSION,
    ResponseSettings,
)

D = Decimal

PINNED: dict[str, tuple[object, str]] = {
    # §1.2 measurable disease
    "serum_measurable_min_g_dl": (D("1"), "§1.2 serum M-protein ≥1 g/dL"),
    "urine_measurable_min_mg_24h": (D("200"), "§1.2 urine M-protein ≥200 mg/24 h"),
    "flc_measurable_min_mg_dl": (D("10"), "§1.2 involved FLC ≥10 mg/dL"),
    "flc_ratio_normal_low": (D("0.26"), "§1.2 normal κ/λ 0.26–1.65 inclusive"),
    "flc_ratio_normal_high": (D("1.65"), "§1.2 normal κ/λ 0.26–1.65 inclusive"),
    "marrow_primary_min_pct": (D("30"), "§1.3 PR marrow-only: baseline BMPC ≥30%"),
    # §1.3 / §1.5 categories
    "vgpr_serum_reduction_pct": (D("90"), "§1.3 VGPR ≥90%"),
    "pr_serum_reduction_pct": (D("50"), "§1.3 PR ≥50%"),
    "mr_serum_reduction_pct": (D("25"), "§1.5 [I] MR serum band [25%, 50%)"),
    "vgpr_urine_below_mg_24h": (D("100"), "§1.3 VGPR urine <100 mg/24 h"),
    "pr_urine_reduction_pct": (D("90"), "§1.3 PR urine ≥90%"),
    "pr_urine_below_mg_24h": (D("200"), "§1.3 PR urine <200 mg/24 h"),
    "mr_urine_reduction_pct": (D("50"), "§1.5 [I] MR urine band [50%, 90%)"),
    "vgpr_flc_reduction_pct": (D("90"), "§1.3 VGPR dFLC 90%"),
    "vgpr_flc_strict": (False, "§1.5 [I] dFLC VGPR ≥90% (not >90%)"),
    "pr_flc_reduction_pct": (D("50"), "§1.3 PR dFLC ≥50%"),
    "pr_marrow_reduction_pct": (D("50"), "§1.3 PR BMPC ≥50%"),
    "cr_marrow_below_pct": (D("5"), "§1.3 CR BMPC <5% strict"),
    "pr_spd_threshold_pct": (D("50"), "§1.3 PR SPD ≥50%"),
    "mr_spd_threshold_pct": (D("50"), "§1.3 MR SPD ≥50% per KUMAR16 (legacy 25)"),
    "mr_rrmm_only": (False, "§1.5 [I] MR reported for all"),
    "ihc_kappa_max_ratio": (D("4"), "§1.3 sCR κ/λ ≤4:1"),
    "ihc_lambda_min_ratio": (D("0.5"), "§1.3 sCR κ/λ ≥1:2"),
    "ihc_min_plasma_cells_counted": (100, "§1.3 sCR ≥100 PCs counted"),
    # §1.3 PD / §1.5
    "pd_increase_pct": (D("25"), "§1.3 PD 25% from nadir"),
    "pd_serum_min_increase_g_dl": (D("0.5"), "§1.3 PD serum ≥0.5 g/dL"),
    "pd_serum_high_nadir_g_dl": (D("5"), "§1.5 [I] nadir ≥5 g/dL"),
    "pd_serum_high_nadir_increase_g_dl": (D("1"), "§1.5 [I] ≥1 g/dL"),
    "pd_serum_high_nadir_abs_suffices": (True, "§1.5 [I] ≥1 g/dL suffices"),
    "pd_urine_min_increase_mg_24h": (D("200"), "§1.3 PD urine ≥200 mg/24 h"),
    "pd_dflc_min_increase_mg_dl": (D("10"), "§1.3 PD dFLC >10 mg/dL strict"),
    "pd_marrow_min_increase_pct_points": (D("10"), "§1.3 PD BMPC ≥10 points"),
    "pd_nadir_zero_relative_satisfied": (True, "§1.5 [I] nadir = 0: relative test trivially satisfied"),
    "nadir_reading": ("confirmed_pair", "§1.3 PD 'lowest confirmed response value'"),
    "pd_spd_increase_pct": (D("50"), "§1.3 PD SPD ≥50%"),
    "pd_longest_diameter_increase_pct": (D("50"), "§1.3 PD longest diameter ≥50%"),
    "pd_short_axis_gt_cm": (D("1.0"), "§1.5 [I] short axis strictly >1.0 cm"),
    "pd_short_axis_reference": ("current", "§1.3 PD (b) short axis reading"),
    "lesion_absent_at_baseline_is_new": (True, "§1.3 PD (b) new lesion"),
    "pd_cpc_increase_pct": (D("50"), "§1.3 PD (c) ≥50%"),
    "pd_cpc_min_cells_per_ul": (D("200"), "§1.5 [I] CPC ≥200 cells/µL after the increase"),
    # general rule 1 / 7
    "response_confirmation_required": (True, "§1.3 rule 1 two consecutive assessments"),
    "pd_lab_confirmation_required": (True, "§1.3 rule 1 M-protein/FLC PD confirmed"),
    "pd_cpc_confirmation_required": (True, "§1.3 rule 1 CPC is a laboratory value"),
    "marrow_carry_forward": (True, "§1.3 rule 1 marrow needs no confirmation"),
    "imaging_carry_forward": (
        True,
        "rule 1: imaging needs no confirmation; the last imaging stands at lab-only visits",
    ),
    "relapse_from_cr_requires_confirmed_cr": (True, "§1.3 relapse from CR"),
    # §1.4 MRD
    "mrd_max_sensitivity": (D("1E-5"), "§1.4 sensitivity 1 in 10^5"),
    "mrd_requires_confirmed_cr": (True, "§1.4 MRD requires CR"),
    "sustained_mrd_interval": ("calendar_year", "§1.4 '1 year apart' read as a calendar year"),
    "sustained_mrd_imaging_at_both": (True, "§1.4 sustained: marrow and imaging at both evaluations"),
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_default_is_pinned(name: str) -> None:
    expected, section = PINNED[name]
    assert getattr(DEFAULT_RESPONSE_SETTINGS, name) == expected, section
    if isinstance(expected, Decimal):
        assert isinstance(getattr(DEFAULT_RESPONSE_SETTINGS, name), Decimal), (
            "thresholds must be Decimal (§1.5)"
        )


def test_every_setting_is_pinned() -> None:
    """No setting escapes this table (docs/criteria.md preface: every [I]/[M] reading pinned by a test)."""
    names = {f.name for f in msgspec.structs.fields(ResponseSettings)}
    assert names == set(PINNED)


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        DEFAULT_RESPONSE_SETTINGS.mr_spd_threshold_pct = D("25")  # type: ignore[misc]


def test_every_setting_docstring_cites_the_spec() -> None:
    """Each field's attribute docstring cites a docs/criteria.md section (§…)."""
    import ast
    import inspect

    from mmemd.clinical import response

    tree = ast.parse(inspect.getsource(response))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ResponseSettings")
    docs: dict[str, str] = {}
    body = cls.body
    for k, node in enumerate(body):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and k + 1 < len(body):
            nxt = body[k + 1]
            if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant):
                docs[node.target.id] = str(nxt.value.value)
    assert set(docs) == set(PINNED)
    for name, doc in docs.items():
        assert "§" in doc, f"{name}: docstring must cite docs/criteria.md §"


def test_criteria_version_is_imwg_2016() -> None:
    """docs/criteria.md preface: the response module is versioned "IMWG-2016"."""
    assert RESPONSE_CRITERIA_VERSION == "IMWG-2016"
