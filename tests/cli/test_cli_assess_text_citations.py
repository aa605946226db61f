"""`mmemd assess --format text` is read by clinicians: it cites the work-up's evidence by number and lists each
number's publication, never a claim id, a data-file name or an internal key (record field, vocabulary id)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mmemd.cli._assess_file import Lang, OutputFormat, assess_file
from mmemd.report._numbers import NUMBER_CITE, expand

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
CLAIM_ID = re.compile(r"emd(?:tx|rev)-")
FILE_NAME = re.compile(
    r"[\w-]+\.(?:ya?ml|txt|py|toml)\b"
)  # the record's own .json path is not printed either
KEY = re.compile(r"\b(?:(?:cytogenetics|labs|diagnosis)\.[a-z0-9_]+|[a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b")


@pytest.mark.parametrize("lang", [Lang.en, Lang.zh])
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_assess_text_cites_numbered_publications(
    path: Path, lang: Lang, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one line per item, so the numbers are not wrapped
    assess_file(str(path), OutputFormat.text, lang, advice=True)
    out = capsys.readouterr().out
    assert CLAIM_ID.findall(out) == []
    assert FILE_NAME.findall(out) == [] and ".json" not in out
    # the patient id is the record's own text, not an internal key
    assert [k for k in KEY.findall(out) if k not in path.stem] == []
    body, _, sources = out.partition("\n" + ("出处" if lang is Lang.zh else "Sources") + "\n")
    cited = sorted({n for m in NUMBER_CITE.finditer(body) for n in expand(m.group(1))})
    listed = [int(n) for n in re.findall(r"^  \[(\d+)\] (?:Review [12]|综述[一二])", sources, re.M)]
    assert listed == cited == list(range(1, len(cited) + 1))
    assert bool(cited) == (("待完善检查" if lang is Lang.zh else "Open work-up") in out)
