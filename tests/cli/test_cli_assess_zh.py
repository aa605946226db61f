"""`mmemd assess --format text --lang zh` has no English prose (tests/_zh_prose.py says what is allowed and why), and
says the facts the English text says: the same numbers and dates in the same order, and under 依据 each of the engine's
reason lines in Chinese with its numbers, dates, thresholds and criterion cites."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from _reason_facts import cites, needs
from _reason_facts import facts as reason_facts
from _zh_prose import english_prose, record_identifiers
from mmemd.cli._assess_file import Lang, OutputFormat, assess_file
from mmemd.clinical.record import parse_record
from mmemd.knowledge import load
from mmemd.report._basis import clinician_reasons, high_risk_texts

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
#: A date, or a number (a sign, or the thousands of "1.73 m²", is not part of the fact compared).
FACT = re.compile(r"\d{4}-\d{2}-\d{2}|\d+(?:\.\d+)?")
REASONS = {Lang.en: "Reasons", Lang.zh: "依据"}


@pytest.fixture(scope="module")
def kb() -> Any:
    return load()


def _text(path: Path, lang: Lang, capsys: pytest.CaptureFixture[str]) -> str:
    assess_file(str(path), OutputFormat.text, lang, advice=True)
    return capsys.readouterr().out


#: The seed reviews by number: "Review 2" is "综述二".
REVIEW_NUMBERS = {"综述一": "综述1", "综述二": "综述2"}


def facts(text: str) -> list[str]:
    """Dates as written, numbers by value (3.0 is 3)."""
    for zh, arabic in REVIEW_NUMBERS.items():
        text = text.replace(zh, arabic)
    text = text.replace("mg/24h", "mg/day")  # a unit, not a fact
    return [m if "-" in m else format(Decimal(m).normalize(), "f") for m in FACT.findall(text)]


def _panels(out: str, lang: Lang, features: list[str]) -> str:
    """The text before the reasons, without the high-risk feature lines (compared through their renderer)."""
    body = out.split("\n" + REASONS[lang] + "\n")[0]
    body = re.sub(r"(?m)^│\s+• .*$\n(?:^│\s{20,}[^•\s].*$\n)*", "", body)
    assert all(f.split()[0] not in body for f in features if f.split())
    return body


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_assess_text_zh_has_no_english_prose(
    path: Path, kb: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one line per item: a wrapped word is not cut
    out = _text(path, Lang.zh, capsys)
    record = json.loads(path.read_text(encoding="utf-8"))
    words = english_prose(out, kb, record_identifiers(record))
    assert words == [], f"{path.stem}: English words in the Chinese text: {sorted(set(words))}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_assess_text_zh_says_the_facts_the_english_says(
    path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    en, zh = _text(path, Lang.en, capsys), _text(path, Lang.zh, capsys)
    record = parse_record(json.loads(path.read_text(encoding="utf-8")))
    from mmemd.clinical.assessment import assess

    a = assess(record)
    en_features = high_risk_texts(record, a.staging.high_risk_features, "en")
    zh_features = high_risk_texts(record, a.staging.high_risk_features, "zh")
    # panels, options, versions: the same numbers and dates in the same order
    assert facts(_panels(en, Lang.en, en_features)) == facts(_panels(zh, Lang.zh, zh_features))
    # each high-risk feature: the same numbers in the same order (the Chinese adds the "+1q" shorthand of 1q gain)
    assert len(en_features) == len(zh_features)
    for e, z in zip(en_features, zh_features, strict=True):
        assert facts(e) == facts(z.replace("（+1q）", "")), (e, z)
    # The decision lines: each engine reason line in Chinese, with the same dates, numbers and thresholds, criterion
    # cites and "needs" (tests/_reason_facts.py), shown in the text as they are.
    en_reasons, zh_reasons = clinician_reasons(record, a, "en"), clinician_reasons(record, a, "zh")
    assert zh_reasons and all(line in zh for line in zh_reasons)
    assert len(en_reasons) == len(zh_reasons)
    for e, z in zip(en_reasons, zh_reasons, strict=True):
        assert reason_facts(z) == reason_facts(e), (e, z)
        assert cites(z) == cites(e), (e, z)
        assert needs(z) == needs(e), (e, z)


def test_the_fact_comparison_can_fail() -> None:
    assert facts("血清M蛋白 1.1 g/dL（较基线 3 变化 -63.33%）") == ["1.1", "3", "63.33"]
    assert facts("serum M-protein 1.1 g/dL, −63.33% from 3.0") == ["1.1", "63.33", "3"]
    assert facts("2025-09-01 PR") != facts("2025-08-01 PR")


def _held_out(change: str) -> dict[str, Any]:
    """A record not among the examples: the liver example with one part changed."""
    record: dict[str, Any] = json.loads((ROOT / "examples" / "emd-liver-rrmm-pr.json").read_text("utf-8"))
    if change == "paraskeletal_unknown_marrow":
        record["lesions"][0].update(
            site="paravertebral", relation_to_bone="arising_from_bone", biopsy_proven=None
        )
        record["diagnosis"].pop("clonal_bone_marrow_plasma_cells_pct")
    elif change == "all_cytogenetics_abnormal":
        record["cytogenetics"].update(t_4_14=True, t_14_16=True, t_14_20=True, tp53_mutation=True)
        record["cytogenetics"]["del_1p32"] = "biallelic"
    elif change == "no_labs":
        record.pop("labs")
    return record


@pytest.mark.parametrize("change", ["paraskeletal_unknown_marrow", "all_cytogenetics_abnormal", "no_labs"])
def test_assess_text_zh_held_out_records(
    change: str, kb: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    record = _held_out(change)
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    out = _text(path, Lang.zh, capsys)
    assert "依据" in out
    assert english_prose(out, kb, record_identifiers(record)) == []
