"""The evidence grade of a claim: a deterministic function of design, size and EMD-specificity.

The rubric follows GRADE's logic (start from the study design, rate down for imprecision and indirectness),
fitted to what these reviews report. It is documented with worked examples in docs/grading.md.

Levels, best first:

- ``A`` high — randomised trial or meta-analysis, adequately sized, about EMD patients.
- ``B`` moderate
- ``C`` low
- ``D`` very low — case reports, expert/review statements, preclinical work, or anything rated down to the floor.

Steps:

1. Start from the design: rct, meta_analysis → 4 (A); prospective → 3 (B); retrospective, indirect_comparison → 2
   (C); case_report, review, preclinical, unknown → 1 (D).
2. Imprecision: minus one level when the number of patients behind the value is known and below
   ``SMALL_STUDY_N`` (20). The number used is ``n_emd`` when the claim is EMD-specific and gives it, else
   ``n_total``. Case reports already sit at the floor.
3. Indirectness: minus one level when the claim is not EMD-specific (general MM/RRMM evidence applied to EMD).
4. The floor is D.
"""

from __future__ import annotations

from typing import Final

from mmemd.knowledge._models import CuratedClaim, Design

GRADES: Final = ("A", "B", "C", "D")

#: Below this many patients a value is rated down for imprecision (GRADE's "small sample" concern; 20 is the
#: conventional floor under which a single response-rate estimate has a 95% CI wider than about ±20 points).
SMALL_STUDY_N: Final = 20

_DESIGN_LEVEL: Final[dict[Design, int]] = {
    Design.rct: 4,
    Design.meta_analysis: 4,
    Design.prospective: 3,
    Design.retrospective: 2,
    Design.indirect_comparison: 2,
    Design.case_report: 1,
    Design.review: 1,
    Design.preclinical: 1,
    Design.unknown: 1,
}


def grade_claim(claim: CuratedClaim) -> str:
    """The grade (``A``–``D``) of a claim, from its design, size and EMD-specificity (see the module docstring)."""
    level = _DESIGN_LEVEL[claim.design]
    n = claim.n_emd if (claim.emd_specific and claim.n_emd is not None) else claim.n_total
    if n is not None and n < SMALL_STUDY_N and level > 1:
        level -= 1
    if not claim.emd_specific:
        level -= 1
    level = max(level, 1)
    return GRADES[4 - level]
