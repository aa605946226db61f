"""The extractor on the written corpus: its composition, and metrics held to thresholds (docs/imaging.md).

The development splits (dev, and dev B written for held-out C's faults) were used while writing the lexicons and
rules. Held-out A, B, C and D were each run once and then had rules changed for their errors (C's and D's by general
rules tested on new wording), so all four now guard against regressions; their first-run figures stay frozen in
docs/imaging.md. Held-out E, by an independent annotator, was the first set run after the D fixes: its frozen first
run is the clean measure on unseen reports.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from imaging_scoring import ATTRIBUTES, Score, load, score

from mmemd.imaging import extract


def _all() -> list[dict]:
    return [r for split in (*DEV, *HELD_OUT) for r in load(split)]


DEV = ("dev", "dev_b")
HELD_OUT = ("heldout", "heldout_b", "heldout_c", "heldout_d", "heldout_e")


def test_corpus_has_sixty_reports_two_thirds_chinese() -> None:
    reports = _all()
    assert len(reports) >= 60
    assert sum(len(load(s)) for s in HELD_OUT) >= len(reports) // 3  # a held-out third
    assert len({r["id"] for r in reports}) == len(reports)
    zh = [r for r in reports if re.search(r"[\u4e00-\u9fff]", r["text"])]
    assert len(zh) * 3 >= len(reports) * 2


def test_corpus_covers_modalities_styles_and_hard_cases() -> None:
    reports = _all()
    modalities = Counter(r["expected"]["modality"] for r in reports)
    assert set(modalities) == {"PET-CT", "CT", "MRI", "ultrasound"}
    texts = [r["text"] for r in reports]
    assert sum("检查所见" in t or "影像所见" in t for t in texts) >= 20
    assert sum("诊断意见" in t for t in texts) >= 20
    assert sum("FINDINGS" in t and "IMPRESSION" in t for t in texts) >= 15
    assert sum("ｃｍ" in t or "检 查" in t for t in texts) >= 2  # full-width and OCR-spaced text
    changes = Counter(les["change"] for r in reports for les in r["expected"]["lesions"])
    assert {"new", "increased", "decreased", "stable", "resolved"} <= set(changes)
    assert sum(r["expected"]["no_emd"] is True for r in reports) >= 8  # explicit negatives
    assert sum(not r["expected"]["lesions"] for r in reports) >= 12  # distractor-only and normal reports
    sides = Counter(les["side"] for r in reports for les in r["expected"]["lesions"])
    assert sides["left"] >= 5 and sides["right"] >= 5
    relations = Counter(les["relation"] for r in reports for les in r["expected"]["lesions"])
    assert set(relations) == {"none", "arising_from_bone", "intraosseous"}


# The targets on held-out reports: F1 >= 0.90, relation and size >= 90%, change >= 85%, every explicit negative
# recognised. Held-out C scored 0.909, D 0.875 and E 0.952 on their only clean runs (docs/imaging.md keeps them);
# the other rows hold each split's current state.
@pytest.mark.parametrize(
    ("split", "f1", "attribute_floor", "change_floor", "negatives_missed"),
    [
        ("dev", 0.97, 0.95, 0.95, 0),
        ("dev_b", 0.97, 0.95, 0.95, 0),
        ("heldout", 0.90, 0.90, 0.85, 0),
        ("heldout_b", 0.90, 0.90, 0.85, 0),
        ("heldout_c", 0.90, 0.90, 0.85, 0),
        ("heldout_d", 0.90, 0.90, 0.85, 0),
        ("heldout_e", 0.90, 0.90, 0.85, 0),
    ],
)
def test_metrics_meet_thresholds(
    split: str, f1: float, attribute_floor: float, change_floor: float, negatives_missed: int
) -> None:
    s = score(split)
    assert s.f1 >= f1, s.errors
    for attr in ATTRIBUTES:
        floor = change_floor if attr == "change" else attribute_floor
        assert s.accuracy(attr) >= floor, (attr, s.errors)
    # Explicit "no extramedullary lesion" statements are recognised.
    assert s.explicit_negatives - s.explicit_negatives_ok <= negatives_missed, s.errors
    assert s.modality_ok == s.reports and s.date_ok == s.reports, s.errors


def test_pooled_held_out_f1_meets_the_target() -> None:
    pooled = Score()
    for split in HELD_OUT:
        s = score(split)
        pooled.tp, pooled.fp, pooled.fn = pooled.tp + s.tp, pooled.fp + s.fp, pooled.fn + s.fn
    assert pooled.f1 >= 0.90, (pooled.tp, pooled.fp, pooled.fn)


@pytest.mark.parametrize("split", [*DEV, *HELD_OUT])
def test_no_lesion_from_negated_or_non_myeloma_findings(split: str) -> None:
    assert score(split).fp_in_lesion_free_reports == 0


@pytest.mark.parametrize("split", [*DEV, *HELD_OUT])
def test_no_lesion_in_a_report_that_has_none_and_no_spurious_lesion_at_all(split: str) -> None:
    # Stronger than the line above: a non-myeloma finding (sinusitis beside a plasmacytoma, a kidney cyst in the
    # same sentence as a paravertebral mass) must not become a lesion in a report that has real ones either.
    assert score(split).fp == 0, score(split).errors


@pytest.mark.parametrize("report", _all(), ids=lambda r: r["id"])
def test_every_evidence_span_quotes_the_report(report: dict) -> None:
    result = extract(report["text"])
    for les in result.lesions:
        assert les.evidence, les
        for ev in les.evidence:
            assert report["text"][ev.start : ev.end] == ev.quote
            assert ev.quote.strip()
    for ev in result.evidence:
        assert report["text"][ev.start : ev.end] == ev.quote


def _findings(text: str) -> str | None:
    m = re.search(
        r"(?:检查所见|影像所见|FINDINGS)[:：](.*?)(?=\n(?:诊断意见|影像诊断|IMPRESSION)|\Z)", text, re.S
    )
    return m.group(1).strip() if m else None


@pytest.mark.parametrize(
    "report", [r for r in _all() if _findings(r["text"]) is not None], ids=lambda r: r["id"]
)
def test_findings_restated_as_impression_add_no_lesion(report: dict) -> None:
    # Invariant of the findings/impression merge: an impression that repeats the findings word for word is the
    # same lesions again, never new ones. (Reports without a findings heading have nothing to restate.)
    findings = _findings(report["text"])
    assert findings is not None
    zh = re.search(r"[\u4e00-\u9fff]", report["text"]) is not None
    fh, ih = ("检查所见：", "诊断意见：") if zh else ("FINDINGS: ", "IMPRESSION: ")
    once = extract(fh + findings)
    twice = extract(f"{fh}{findings}\n{ih}{findings}")
    assert [(x.site, x.side, x.size_cm) for x in twice.lesions] == [
        (x.site, x.side, x.size_cm) for x in once.lesions
    ]
