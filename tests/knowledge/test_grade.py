"""The grade rubric (docs/grading.md): design start, imprecision and indirectness rate-downs, floor D."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmemd.knowledge import SMALL_STUDY_N, Design, grade_claim
from mmemd.knowledge._grade import GRADES
from mmemd.knowledge._models import CuratedClaim


def _claim(
    design: str, n_total: int | None = None, n_emd: int | None = None, emd: bool = True
) -> CuratedClaim:
    return CuratedClaim.model_validate(
        {
            "id": "emdtx-1.1-01",
            "category": "treatment_outcome",
            "quote": "xx",
            "design": design,
            "population": {"disease": "RRMM", "emd": "emd" if emd else "unspecified"},
            "n_total": n_total,
            "n_emd": n_emd,
            "endpoint": "ORR",
            "direction": "effective",
            "statement_en": "A statement long enough.",
            "statement_zh": "一个陈述。",
            "emd_specific": emd,
        }
    )


@pytest.mark.parametrize(
    ("design", "n", "emd", "grade"),
    [
        ("rct", 402, True, "A"),  # randomised, adequately sized, EMD-specific
        ("rct", 402, False, "B"),  # indirect: general RRMM evidence (e.g. BOSTON) -> one level down
        ("meta_analysis", None, True, "A"),
        ("prospective", 50, True, "B"),
        ("retrospective", 144, True, "C"),
        ("retrospective", 15, True, "D"),  # Danhof, 15 EMD patients: imprecision
        ("retrospective", 144, False, "D"),
        ("indirect_comparison", 465, False, "D"),
        ("case_report", 1, True, "D"),
        ("review", None, True, "D"),
        ("unknown", 31, True, "D"),
        ("preclinical", None, False, "D"),
    ],
)
def test_rubric_examples(design, n, emd, grade):
    assert grade_claim(_claim(design, n_total=n, emd=emd)) == grade


def test_imprecision_boundary_is_exclusive_at_small_study_n():
    """n = SMALL_STUDY_N (20) is not rated down; n = 19 is."""
    assert SMALL_STUDY_N == 20
    assert grade_claim(_claim("rct", n_total=20)) == "A"
    assert grade_claim(_claim("rct", n_total=19)) == "B"


def test_emd_count_is_the_size_that_matters_for_an_emd_specific_claim():
    # 705 patients in the trial but only 7 with EMD: the EMD estimate is imprecise.
    assert grade_claim(_claim("prospective", n_total=705, n_emd=7)) == "C"
    # not EMD-specific: the whole trial's n counts
    assert grade_claim(_claim("prospective", n_total=705, n_emd=7, emd=False)) == "C"


@given(
    design=st.sampled_from(list(Design)),
    n=st.one_of(st.none(), st.integers(min_value=1, max_value=5000)),
    emd=st.booleans(),
)
def test_grade_never_improves_when_evidence_gets_weaker(design, n, emd):
    """Property: fewer patients or losing EMD-specificity never raises the grade."""
    rank = GRADES.index
    base = rank(grade_claim(_claim(design.value, n_total=n, emd=emd)))
    smaller = rank(grade_claim(_claim(design.value, n_total=max(1, (n or 40) // 4), emd=emd)))
    indirect = rank(grade_claim(_claim(design.value, n_total=n, emd=False)))
    assert smaller >= base if n is not None else True
    assert indirect >= base
