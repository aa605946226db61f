"""Confirmation by two consecutive assessments (docs/criteria.md §1.3 general rule 1).

Cross-check against a published worked example: the confirmation table of the pharmaverse/admiralonco
vignette "Creating ADRS with IMWG criteria" (vignettes/adrs_imwg.Rmd, commit 009f4be — the ADMIRAL source
of docs/criteria.md §0). Its rows map the responses at two consecutive time points to the confirmed
response of the first: both responses → the lower of the two; a response followed by SD/PD/NE → SD;
PD by imaging → PD; PD by serum/urine confirmed only by a following PD, else NE. Best confirmed response =
the maximum over time points (ADMIRAL "last confirmed status"). The test builds raw data that produce each
pair of categories and checks the engine's confirmed/best answer against the table.
"""

from __future__ import annotations

from typing import Any

import msgspec.structs
import pytest
from test_response_support import cats, joined, lesion, run, snap

from mmemd.clinical.response import DEFAULT_RESPONSE_SETTINGS

BASE: dict[str, Any] = {
    "serum": 2.0,
    "urine": 0,
    "serum_ife": True,
    "urine_ife": True,
    "kappa": 30,
    "lam": 1,
    "involved": "kappa",
    "bmpc": 40,
}
CR_LABS: dict[str, Any] = {"serum_ife": False, "urine_ife": False, "urine": 0, "bmpc": 2, "ihc_clonal": False}
# Raw data that give each category at an assessment (serum patient, baseline serum 2.0 g/dL).
RAW: dict[str, dict[str, Any]] = {
    "sCR": {**CR_LABS, "kappa": 1, "lam": 1},
    "CR": {**CR_LABS, "kappa": 2, "lam": 1},  # FLC ratio 2 abnormal → CR, not sCR
    "VGPR": {"serum": 0.1, "urine": 0, "serum_ife": True, "urine_ife": True},
    "PR": {"serum": 0.8, "urine": 0, "serum_ife": True, "urine_ife": True},
    "MR": {"serum": 1.4, "urine": 0, "serum_ife": True, "urine_ife": True},
    "SD": {"serum": 1.9, "urine": 0, "serum_ife": True, "urine_ife": True},
    "PD-serum": {"serum": 2.6, "urine": 0, "serum_ife": True, "urine_ife": True},
    "PD-imaging": {"serum": 1.9, "urine": 0, "serum_ife": True, "urine_ife": True, "new_lesion": True},
}


def pair(first: str, second: str) -> Any:
    return run(
        [
            snap("2025-01-01", baseline=True, **BASE),
            snap("2025-02-01", **RAW[first]),
            snap("2025-03-01", **RAW[second]),
        ]
    )


# (first, second, ADMIRAL confirmed response at the first time point, best confirmed overall)
ADMIRAL_ROWS = [
    ("sCR", "sCR", "sCR", "sCR"),
    ("CR", "sCR", "CR", "CR"),
    ("CR", "CR", "CR", "CR"),
    ("VGPR", "CR", "VGPR", "VGPR"),
    ("PR", "VGPR", "PR", "PR"),
    ("MR", "PR", "MR", "MR"),
    ("sCR", "CR", "CR", "CR"),
    ("CR", "VGPR", "VGPR", "VGPR"),
    ("VGPR", "PR", "PR", "PR"),
    ("PR", "MR", "MR", "MR"),
    ("PR", "SD", "SD", "SD"),
    ("VGPR", "PD-serum", "SD", "SD"),
    ("SD", "PR", "SD", "SD"),
    ("PD-imaging", "PR", "PD", "PD"),
    ("PD-serum", "PD-serum", "PD", "PD"),
    ("PD-serum", "PR", "not_evaluable", "SD"),
]


@pytest.mark.parametrize(("first", "second", "confirmed_first", "best"), ADMIRAL_ROWS)
def test_admiral_confirmation_table(first: str, second: str, confirmed_first: str, best: str) -> None:
    r = pair(first, second)
    raw = cats(r)[1:]
    assert raw[0] == first.split("-")[0], "scaffold produces the intended raw category"
    entry = r.timeline[1]
    if confirmed_first == "PD":
        assert entry.category == "PD" and entry.confirmed is True
        assert r.progressive_disease is True
    elif confirmed_first == "not_evaluable":
        assert entry.category == "PD" and entry.confirmed is False
    else:
        assert entry.confirmed is (confirmed_first == first or first == "SD")
    assert r.best == best


def test_single_response_is_unconfirmed() -> None:
    """An unconfirmed response: current PR (confirmed false), best confirmed SD."""
    r = run([snap("2025-01-01", baseline=True, **BASE), snap("2025-02-01", **RAW["PR"])])
    assert (r.current, r.confirmed, r.best) == ("PR", False, "SD")
    assert "not confirmed yet" in joined(r)


def test_confirmation_by_the_previous_assessment() -> None:
    """The latest assessment is confirmed by the one before (the pair is consecutive either way)."""
    r = run(
        [
            snap("2025-01-01", baseline=True, **BASE),
            snap("2025-02-01", **RAW["PR"]),
            snap("2025-03-01", **RAW["PR"]),
        ]
    )
    assert (r.current, r.confirmed) == ("PR", True)
    assert "confirmed by 2025-02-01" in joined(r)


def test_marrow_needs_no_repeat_for_cr_confirmation() -> None:
    """General rule 1: the marrow (< 5%) of the first CR assessment is not repeated at the confirming one."""
    second = {k: v for k, v in RAW["CR"].items() if k not in ("bmpc", "ihc_clonal")}
    r = run(
        [
            snap("2025-01-01", baseline=True, **BASE),
            snap("2025-02-01", **RAW["CR"]),
            snap("2025-03-01", **second),
        ]
    )
    assert cats(r) == ["baseline", "CR", "CR"]
    assert r.confirmed is True
    assert "no confirmation needed" in joined(r)  # the carried-forward marrow is named as such


def test_imaging_needs_no_repeat_for_pr_confirmation() -> None:
    """General rule 1: the SPD fall is read at the imaging date; the confirming assessment is laboratory only.

    By default the imaging carries forward to the laboratory-only date, which is PR too. Under the strict reading
    (imaging_carry_forward=False) that date's own category is downgraded (unimaged = missing), but the PR of the
    imaging date is still confirmed and is the best response.
    """
    base = {**BASE, "plasmacytomas": [lesion("L1", 4, 4)]}
    course = [
        snap("2025-01-01", baseline=True, **base),
        snap("2025-02-01", **RAW["PR"], plasmacytomas=[lesion("L1", 2, 2)]),
        snap("2025-03-01", **RAW["PR"]),
    ]
    r = run(course, lesions=["L1"])
    assert r.timeline[1].category == "PR" and r.timeline[1].confirmed is True
    assert (r.best, r.current) == ("PR", "PR")
    strict = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, imaging_carry_forward=False)
    r = run(course, strict, ["L1"])
    assert r.timeline[1].category == "PR" and r.timeline[1].confirmed is True
    assert r.best == "PR"
    assert r.current == "SD"
    assert "L1 not imaged" in joined(r)


def test_marrow_only_pr_needs_no_second_assessment() -> None:
    """Marrow needs no confirmation: a marrow-only PR is confirmed at once."""
    quiet = {"serum": 0, "urine": 0, "serum_ife": True, "urine_ife": True, "kappa": 1, "lam": 1}
    r = run([snap("2025-01-01", baseline=True, bmpc=40, **quiet), snap("2025-02-01", bmpc=10, **quiet)])
    assert (r.current, r.confirmed, r.best) == ("PR", True, "PR")


def test_confirmation_setting_off() -> None:
    s = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, response_confirmation_required=False)
    r = run([snap("2025-01-01", baseline=True, **BASE), snap("2025-02-01", **RAW["VGPR"])], s)
    assert (r.current, r.confirmed, r.best) == ("VGPR", True, "VGPR")


def test_consecutive_means_next_laboratory_assessment() -> None:
    """An imaging-only assessment between two laboratory assessments does not break the pair."""
    base = {**BASE, "plasmacytomas": [lesion("L1", 4, 4)]}
    r = run(
        [
            snap("2025-01-01", baseline=True, **base),
            snap("2025-02-01", **RAW["PR"], plasmacytomas=[lesion("L1", 2, 2)]),
            snap("2025-02-15", plasmacytomas=[lesion("L1", 2, 2)]),
            snap("2025-03-01", **RAW["PR"], plasmacytomas=[lesion("L1", 2, 2)]),
        ],
        lesions=["L1"],
    )
    assert r.timeline[1].confirmed is True
    assert r.timeline[2].category == "not_evaluable"  # no serum that day
    assert (r.current, r.confirmed) == ("PR", True)
