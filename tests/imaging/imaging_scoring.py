"""Scoring the extractor on the written corpus: lesion precision/recall/F1 and per-attribute accuracy.

An extracted lesion matches an expected one with the same site and side (then, failing that, the same site); each
expected lesion is matched at most once. Attributes are compared on matched pairs only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from mmemd.imaging import ImagingExtraction, ImagingLesion, extract

CORPUS = Path(__file__).parent / "corpus"
ATTRIBUTES = ("side", "relation", "size", "suv", "change", "certainty")


def load(split: str) -> list[dict[str, Any]]:
    return list(yaml.safe_load((CORPUS / f"{split}.yaml").read_text(encoding="utf-8"))["reports"])


def _size(text: str | None) -> tuple[Decimal, ...] | None:
    return None if text is None else tuple(Decimal(x) for x in str(text).split("x"))


def _got(les: ImagingLesion) -> dict[str, Any]:
    return {
        "site": les.site,
        "side": les.side,
        "relation": les.relation_to_bone,
        "size": tuple(les.size_cm) if les.size_cm else None,
        "suv": les.suv_max,
        "change": les.change,
        "certainty": les.certainty,
    }


def _want(exp: dict[str, Any]) -> dict[str, Any]:
    return {
        "site": exp["site"],
        "side": exp["side"],
        "relation": exp["relation"],
        "size": _size(exp["size"]),
        "suv": None if exp["suv"] is None else Decimal(str(exp["suv"])),
        "change": exp["change"],
        "certainty": exp["certainty"],
    }


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    attr_ok: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ATTRIBUTES, 0))
    reports: int = 0
    no_emd_ok: int = 0
    explicit_negatives: int = 0
    explicit_negatives_ok: int = 0
    modality_ok: int = 0
    date_ok: int = 0
    fp_in_lesion_free_reports: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def accuracy(self, attr: str) -> float:
        return self.attr_ok[attr] / self.tp if self.tp else 1.0


def score_report(report: dict[str, Any], result: ImagingExtraction, s: Score) -> None:
    exp = report["expected"]
    rid = report["id"]
    s.reports += 1
    got = [_got(x) for x in result.lesions]
    want = [_want(x) for x in exp["lesions"]]
    unmatched = list(range(len(got)))
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    missed: list[dict[str, Any]] = []
    for w in want:
        j = next((j for j in unmatched if got[j]["site"] == w["site"] and got[j]["side"] == w["side"]), None)
        if j is None:
            j = next((j for j in unmatched if got[j]["site"] == w["site"]), None)
        if j is None:
            missed.append(w)
            continue
        unmatched.remove(j)
        pairs.append((w, got[j]))
    s.tp += len(pairs)
    s.fn += len(missed)
    s.fp += len(unmatched)
    if not want:
        s.fp_in_lesion_free_reports += len(unmatched)
    for w in missed:
        s.errors.append(f"{rid}: missed {w}")
    for j in unmatched:
        s.errors.append(f"{rid}: spurious {got[j]}")
    for w, g in pairs:
        for a in ATTRIBUTES:
            if w[a] == g[a]:
                s.attr_ok[a] += 1
            else:
                s.errors.append(f"{rid}: {w['site']} {a}: want {w[a]!r}, got {g[a]!r}")
    if result.no_extramedullary_lesion == exp["no_emd"]:
        s.no_emd_ok += 1
    else:
        s.errors.append(f"{rid}: no_emd want {exp['no_emd']!r}, got {result.no_extramedullary_lesion!r}")
    if exp["no_emd"] is True:
        s.explicit_negatives += 1
        s.explicit_negatives_ok += result.no_extramedullary_lesion is True
    if result.modality == exp["modality"]:
        s.modality_ok += 1
    else:
        s.errors.append(f"{rid}: modality want {exp['modality']!r}, got {result.modality!r}")
    if result.study_date == exp["study_date"]:
        s.date_ok += 1
    else:
        s.errors.append(f"{rid}: study_date want {exp['study_date']!r}, got {result.study_date!r}")


def score(split: str) -> Score:
    s = Score()
    for report in load(split):
        score_report(report, extract(report["text"]), s)
    return s


def summary(s: Score) -> str:
    attrs = ", ".join(f"{a} {s.accuracy(a):.3f}" for a in ATTRIBUTES)
    return (
        f"reports {s.reports}; lesions tp {s.tp} fp {s.fp} fn {s.fn}; precision {s.precision:.3f} recall "
        f"{s.recall:.3f} F1 {s.f1:.3f}; {attrs}; no_emd {s.no_emd_ok}/{s.reports}; explicit negatives "
        f"{s.explicit_negatives_ok}/{s.explicit_negatives}; modality {s.modality_ok}/{s.reports}; date "
        f"{s.date_ok}/{s.reports}; false lesions in lesion-free reports {s.fp_in_lesion_free_reports}"
    )


if __name__ == "__main__":
    import sys

    for split in sys.argv[1:] or ["dev"]:
        sc = score(split)
        print(split, summary(sc))
        for e in sc.errors:
            print("  ", e)
