"""The option score: a documented, deterministic function of evidence grade, EMD-specificity and patient match.

    score = evidence + emd_specific + match + cautions

- ``evidence``: the best grade among the option's outcome claims — A 40, B 30, C 20, D 10.
- ``emd_specific``: the best grade among those claims that are about EMD patients — A 20, B 15, C 10, D 5, none 0
  (general-MM evidence is indirect for EMD: docs/grading.md).
- ``match``: +5 for each rule condition met beyond the disease phase and entity pathway (an option written for this patient's exact
  situation — t(11;14), daratumumab-refractory, CNS — outranks a generic one).
- ``cautions``: −15 for each major caution (refractoriness to the agent itself; evidence of poor efficacy in EMD),
  −5 for each minor one.

``applicability`` = emd_specific + match and ``penalties`` = cautions are the score's parts as shown to readers:
score = evidence + applicability + penalties. Ranking (advice/_engine.py ``rank_options``): tier first (no major
caution, a major caution, never first), then score, then a clinical tie-break — never the option's name. The score orders evidence for reading; it is
not a recommendation (docs/advice.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from mmemd.advice._conditions import Check
from mmemd.advice._models import Caution, ScoreBreakdown

GRADE_POINTS: Final = {"A": 40, "B": 30, "C": 20, "D": 10}
EMD_SPECIFIC_POINTS: Final = {"A": 20, "B": 15, "C": 10, "D": 5}
MATCH_POINTS: Final = 5
CAUTION_POINTS: Final = {"major": -15, "minor": -5}
#: Conditions that gate an option to its setting rather than fit it to the patient: they earn no match points.
_NOT_MATCH: Final = frozenset({"phase", "pathway"})


def option_score(
    grade: str, emd_grade: str | None, checks: Sequence[Check], cautions: Sequence[Caution]
) -> ScoreBreakdown:
    """``grade``: best grade of the option's outcome claims; ``emd_grade``: best among the EMD-specific ones."""
    emd = EMD_SPECIFIC_POINTS[emd_grade] if emd_grade else 0
    match = MATCH_POINTS * sum(1 for c in checks if c.outcome == "met" and c.condition not in _NOT_MATCH)
    penalties = sum(CAUTION_POINTS[c.severity] for c in cautions)
    return ScoreBreakdown(
        evidence=GRADE_POINTS[grade],
        emd_specific=emd,
        match=match,
        cautions=penalties,
        applicability=emd + match,
        penalties=penalties,
    )
