"""A Chinese CDS card says in Chinese why a record could not be assessed, and labels its report links in Chinese;
an English card keeps its wording."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from _zh_prose import english_prose
from mmemd.clinical.errors import RecordError
from mmemd.clinical.record import parse_record
from mmemd.service._cards import PROBLEM_ZH, ImportNote, problem_lines, report_link_labels

ROOT = Path(__file__).resolve().parents[2]
#: A record path in a card is where to fix the data (a backticked code span), not prose.
CODE_SPAN = re.compile(r"`[^`]*`")


def _problems(change: dict[str, Any]) -> Any:
    record = json.loads((ROOT / "examples" / "emd-liver-rrmm-pr.json").read_text(encoding="utf-8"))
    record.update(change)
    with pytest.raises(RecordError) as info:
        parse_record(record)
    return info.value.problems


@pytest.mark.parametrize(
    "change",
    [{"labs": {"ldh": {"value": 250, "unit": "furlongs"}}}, {"age": -3}, {"phase": "later"}, {"bogus": 1}],
    ids=["unit", "negative", "value", "field"],
)
def test_chinese_record_problem_card_has_no_english_prose(kb: Any, change: dict[str, Any]) -> None:
    problems = _problems(change)
    note = ImportNote("Observation/1", "unit not mapped", "单位无法映射")
    zh = problem_lines(problems, [note], "zh")
    assert len(zh) == len(problems) + 1
    assert english_prose(CODE_SPAN.sub(" ", "\n".join(zh)), kb) == []
    assert all(p.code in PROBLEM_ZH for p in problems), [p.code for p in problems]
    # the English card: the problems' own messages, as before
    en = problem_lines(problems, [note], "en")
    assert en == [f"- `{p.path}`: {p.message}" for p in problems] + ["- `Observation/1`: unit not mapped"]


def test_every_record_problem_code_has_its_chinese_wording() -> None:
    """Each problem code the record checks can raise (written as ``code="..."`` in the record modules)."""
    codes: set[str] = set()
    for module in ("clinical/errors.py", "clinical/record.py"):
        codes |= set(re.findall(r'code\s*=\s*"(\w+)"', (ROOT / "src" / "mmemd" / module).read_text("utf-8")))
    assert codes, "no problem code found: the pattern no longer matches the record modules"
    assert codes <= set(PROBLEM_ZH), sorted(codes - set(PROBLEM_ZH))


def test_report_link_labels() -> None:
    assert report_link_labels("en") == (("Full report (English)", "en"), ("完整报告（中文）", "zh"))
    zh = report_link_labels("zh")
    assert [lang for _, lang in zh] == ["zh", "en"]
    assert all(re.search(r"[A-Za-z]", text) is None for text, _ in zh)
