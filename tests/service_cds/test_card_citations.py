"""A CDS card cites its evidence by number, as the report does: no claim id, data-file name or internal key in the
summary or the detail a clinician reads, and every number is listed under "Sources" with the publication it is from.
Ids stay where software reads them (the report link carries a token, the JSON fields no prose)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from mmemd.advice import assess_with_advice
from mmemd.report._numbers import NUMBER_CITE, expand
from mmemd.service._cards import assessment_card

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))
CLAIM_ID = re.compile(r"emd(?:tx|rev)-")
FILE_NAME = re.compile(r"[\w-]+\.(?:ya?ml|json|txt|py|toml)\b")
KEY = re.compile(r"\b(?:(?:cytogenetics|labs|diagnosis)\.[a-z0-9_]+|[a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b")
SOURCE = re.compile(r"^- \[(\d+)\] ((?:Review [12]|综述[一二]).*)$", re.M)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", NAMES)
def test_card_cites_numbered_publications(kb: Any, name: str, lang: str) -> None:
    record = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    assessment, _ = assess_with_advice(record, kb)
    card = assessment_card(
        record, assessment, card_uuid="00000000-0000-4000-8000-000000000000", lang=lang, kb=kb
    )
    assert card.detail is not None
    text = f"{card.summary}\n{card.detail}".replace("\\", "")  # Markdown escapes
    assert CLAIM_ID.findall(text) == []
    assert FILE_NAME.findall(text) == []
    assert KEY.findall(text) == []
    body, _, sources = text.partition("\n### " + ("出处" if lang == "zh" else "Sources") + "\n")
    listed = {int(n): pub for n, pub in SOURCE.findall(sources)}
    cited: list[int] = []
    for m in NUMBER_CITE.finditer(body):
        for n in expand(m.group(1)):
            if n not in cited:
                assert n == len(cited) + 1  # numbered in order of first citation
                cited.append(n)
    # every number cited is listed with its publication, and nothing else is listed
    assert sorted(listed) == cited
    assert bool(cited) == bool(assessment.options or assessment.workup or assessment.evidence_statements)
