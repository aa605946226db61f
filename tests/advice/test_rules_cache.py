"""The decision-support rules are validated once and then read back from the cache as validated values: the rules
read back are the validated rules (type, values, set fields, repr), an edited file is validated again (its problems
reported), and a damaged entry falls back to validating."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from _read_back import assert_identical, printed_by_two_processes, private_cache, read_back
from mmemd.advice import _engine, _models
from mmemd.advice._engine import RULES_DIR, RuleError, Rules, load_rules
from mmemd.knowledge._data import stamped


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield from private_cache(tmp_path, monkeypatch, load_rules)


def _kept(monkeypatch: pytest.MonkeyPatch) -> Rules:
    """load_rules() in a new process's state, failing if it validates instead of reading the kept values."""
    kept: Rules = read_back(monkeypatch, load_rules, _engine, "_validated_rules")
    return kept


def _assert_same_rules(got: Rules, want: Rules) -> None:
    assert got == want
    for kind in ("options", "workup", "prognosis", "statements"):
        assert getattr(want, kind), kind
        assert_identical(getattr(got, kind), getattr(want, kind))


def test_the_kept_rules_are_the_validated_ones(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_rules()
    _assert_same_rules(first, _engine._validated_rules())
    _assert_same_rules(_kept(monkeypatch), _engine._validated_rules())


def test_an_edited_file_is_validated_again(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules_dir = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules_dir)
    monkeypatch.setattr(_engine, "RULES_DIR", rules_dir)
    load_rules()
    _assert_same_rules(_kept(monkeypatch), _engine._validated_rules())

    workup = rules_dir / "workup.yaml"
    text = workup.read_text(encoding="utf-8")
    first = load_rules().workup[0]
    edited = text.replace(f"title_en: {first.title_en}", f"title_en: {first.title_en} (edited)", 1)
    assert edited != text
    workup.write_text(edited, encoding="utf-8")
    load_rules.cache_clear()
    assert load_rules().workup[0].title_en == f"{first.title_en} (edited)"
    _assert_same_rules(_kept(monkeypatch), _engine._validated_rules())

    workup.write_text(text.replace(f"id: {first.id}", "id: Not-An-Id", 1), encoding="utf-8")
    load_rules.cache_clear()
    with pytest.raises(RuleError, match="Not-An-Id"):
        load_rules()


def test_a_damaged_kept_entry_is_validated_again(cache: Path) -> None:
    files = [RULES_DIR / f for f, _, _ in _engine._RULE_FILES]
    paths = [*files, Path(_models.__file__), Path(_engine._validated.__file__)]
    stamped(_engine._kept_name(), paths, lambda: b"\x00 not marshal")
    load_rules.cache_clear()
    _assert_same_rules(load_rules(), _engine._validated_rules())


_PROBE = """
from mmemd.knowledge import _data
_data.STAMP_SETTLE_SECONDS = 0.0
from mmemd.advice import _engine, _models
_engine.load_rules()
models = (_models.OptionRule, _models.CautionRule, _models.ExcludeRule, _models.WorkupRule, _models.PrognosisRule,
          _models.StatementRule, _models.Figure)
print(sorted(m.__name__ for m in models if m.__pydantic_complete__))
"""


def test_a_process_reading_the_kept_rules_builds_no_rule_validator(tmp_path: Path) -> None:
    cold, warm = printed_by_two_processes(_PROBE, tmp_path / "cache")
    assert cold != "[]"  # the first process validated the files (and built the validators)
    assert warm == "[]", warm
