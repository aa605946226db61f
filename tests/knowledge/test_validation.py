"""A curated-file error names the file, the claim id, the field and the reason — all problems at once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mmemd.knowledge import CurationError, load_curated
from mmemd.knowledge._data import SOURCE_TEXT_DIR, SOURCES_FILE, VOCAB_DIR
from mmemd.knowledge._load import number_in_text

TX = "000_0d2965af3712c6b9"


def _good_claim(**over: object) -> dict[str, object]:
    claim: dict[str, object] = {
        "id": "emdtx-1.1-01",
        "category": "treatment_outcome",
        "quote": "研究显示 EMD患者和非 EMD患者的总缓解率\n\n差异无统计学意义（57.1% 52.9%， ＞ 0.05）",
        "references": [2],
        "study": "Lakshman",
        "design": "unknown",
        "population": {"disease": "RRMM", "emd": "mixed"},
        "interventions": ["bortezomib"],
        "endpoint": "ORR",
        "value": 57.1,
        "unit": "%",
        "comparator_value": 52.9,
        "p": ">0.05",
        "direction": "similar",
        "statement_en": "ORR did not differ between EMD and non-EMD patients on bortezomib.",
        "statement_zh": "EMD与非EMD患者的总缓解率差异无统计学意义。",
        "emd_specific": True,
    }
    claim.update(over)
    return claim


def _load(tmp_path: Path, claims: list[dict[str, object]], name: str = "t.yaml"):  # type: ignore[no-untyped-def]
    cdir = tmp_path / "claims"
    cdir.mkdir(exist_ok=True)
    # JSON is YAML: the quote's line breaks survive exactly.
    (cdir / name).write_text(
        json.dumps({"source": TX, "claims": claims}, ensure_ascii=False), encoding="utf-8"
    )
    return load_curated(SOURCES_FILE, SOURCE_TEXT_DIR, VOCAB_DIR, cdir, require_coverage=False)


def _problems(tmp_path: Path, claims: list[dict[str, object]]) -> list[tuple[str, str, str, str]]:
    with pytest.raises(CurationError) as info:
        _load(tmp_path, claims)
    return [(p.file, p.claim, p.field, p.reason) for p in info.value.problems]


def test_a_good_claim_loads_with_offset_section_and_grade(tmp_path):
    (claim,) = _load(tmp_path, [_good_claim()]).claims
    text = (SOURCE_TEXT_DIR / f"{TX}.txt").read_text(encoding="utf-8")
    assert claim.section == "1.1"
    assert text[claim.offset :].startswith(claim.quote) and text.count(claim.quote) == 1
    assert claim.grade == "D"  # design unknown -> D (docs/grading.md)


def test_every_problem_is_listed_at_once_with_file_id_field_and_reason(tmp_path):
    problems = _problems(
        tmp_path,
        [
            _good_claim(id="emdtx-1.1-01", interventions=["bortezomibb"]),
            _good_claim(id="emdtx-1.1-02", quote="这句话不在原文里"),
            _good_claim(id="emdtx-1.1-03", value=58.1),
            _good_claim(id="emdtx-1.1-04", endpoint="ORRR"),
        ],
    )
    fields = {(claim, field) for _f, claim, field, _r in problems}
    assert ("emdtx-1.1-01", "interventions") in fields
    assert ("emdtx-1.1-02", "quote") in fields
    assert ("emdtx-1.1-03", "value") in fields
    assert ("emdtx-1.1-04", "endpoint") in fields
    assert all(f == "t.yaml" for f, *_ in problems)
    reasons = " ".join(r for *_x, r in problems)
    assert (
        "bortezomibb" in reasons
        and "not printed in the quote" in reasons
        and "quote not in source" in reasons
    )


def test_missing_quote_is_reported_by_field(tmp_path):
    claim = _good_claim()
    del claim["quote"]
    assert ("t.yaml", "emdtx-1.1-01", "quote", "Field required") in _problems(tmp_path, [claim])


def test_quote_that_differs_only_in_white_space_gets_a_precise_reason(tmp_path):
    claim = _good_claim(
        quote="研究显示 EMD患者和非 EMD患者的总缓解率差异无统计学意义（57.1% 52.9%， ＞ 0.05）"
    )
    (problem,) = _problems(tmp_path, [claim])
    assert problem[2] == "quote" and "white space" in problem[3]


def test_ambiguous_quote_needs_an_offset_and_a_wrong_offset_is_caught(tmp_path):
    quote = "EMD患者"  # occurs many times in the review
    problems = _problems(tmp_path, [_good_claim(quote=quote, value=None, comparator_value=None, unit=None)])
    assert any(f == "quote" and "give `offset`" in r for _x, _c, f, r in problems)
    problems = _problems(tmp_path, [_good_claim(quote=quote, offset=3, value=None, comparator_value=None)])
    assert any(f == "quote" and "not found at offset 3" in r for _x, _c, f, r in problems)


def test_id_must_name_the_section_the_quote_lies_in(tmp_path):
    problems = _problems(tmp_path, [_good_claim(id="emdtx-1.2-01")])
    assert [(c, f) for _x, c, f, _r in problems] == [("emdtx-1.2-01", "id")]
    assert "section '1.1'" in problems[0][3]


def test_duplicate_ids_and_unknown_references_are_reported(tmp_path):
    problems = _problems(tmp_path, [_good_claim(), _good_claim(references=[99])])
    fields = [f for _x, _c, f, _r in problems]
    assert "id" in fields and "references" in fields


def test_flags_need_a_note_and_qualitative_claims_a_direction(tmp_path):
    problems = _problems(
        tmp_path,
        [
            _good_claim(flags=["ocr_restored"]),
            _good_claim(id="emdtx-1.1-02", value=None, comparator_value=None, unit=None, direction=None),
        ],
    )
    assert {(c, f) for _x, c, f, _r in problems} == {("emdtx-1.1-01", "notes"), ("emdtx-1.1-02", "direction")}


def test_unknown_vocabulary_file_entries_are_reported(tmp_path):
    vocab = tmp_path / "vocab"
    shutil.copytree(VOCAB_DIR, vocab)
    (vocab / "zz_bad.yaml").write_text("agents:\n  - {id: newdrug, en: x, zh: 新药, class: no_such_class}\n")
    cdir = tmp_path / "claims"
    cdir.mkdir()
    with pytest.raises(CurationError) as info:
        load_curated(SOURCES_FILE, SOURCE_TEXT_DIR, vocab, cdir, require_coverage=False)
    assert any("no_such_class" in p.reason for p in info.value.problems)


@pytest.mark.parametrize(
    ("number", "text", "printed"),
    [
        (26, "26%", True),
        (26, "126例", False),
        (26, "2.6", False),
        (47, "CR为 47.0%", True),
        (4.8, "0.5%～ 4.8%", True),
        (5, "5/19", True),
        (351, "（ =３５１）", True),  # full-width digits count
        (13.93, "13.9", False),
    ],
)
def test_number_in_text_compares_printed_numbers_by_value(number, text, printed):
    from decimal import Decimal

    assert number_in_text(Decimal(str(number)), text) is printed
