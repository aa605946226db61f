"""The decision-support rules are validated once and then read back from the cache as validated values: the rules
read back are the validated rules (type, values, set fields, repr), an edited file is validated again (its problems
reported), and a damaged entry falls back to validating."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mmemd.advice import _engine, _models
from mmemd.advice._engine import RULES_DIR, RuleError, Rules, load_rules
from mmemd.knowledge import _data
from mmemd.knowledge._data import stamped

_KINDS = ("options", "workup", "prognosis", "statements")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("MMEMD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(_data, "STAMP_SETTLE_SECONDS", 0.0)  # files written by the test are kept at once
    load_rules.cache_clear()
    yield tmp_path / "cache"
    load_rules.cache_clear()


def _kept(monkeypatch: pytest.MonkeyPatch) -> Rules:
    """load_rules() in a new process's state, failing if it validates instead of reading the kept values."""
    load_rules.cache_clear()

    def no_validation() -> Rules:
        raise AssertionError("validated again: the kept values were not used")

    with monkeypatch.context() as m:
        m.setattr(_engine, "_validated_rules", no_validation)
        return load_rules()


def _assert_same_rules(got: Rules, want: Rules) -> None:
    assert got == want
    for kind in _KINDS:
        a_rules, b_rules = getattr(got, kind), getattr(want, kind)
        assert type(a_rules) is tuple and len(a_rules) == len(b_rules) > 0
        for a, b in zip(a_rules, b_rules, strict=True):
            assert type(a) is type(b)
            assert list(a.__dict__.items()) == list(b.__dict__.items())
            assert all(type(a.__dict__[k]) is type(v) for k, v in b.__dict__.items())
            assert a.model_fields_set == b.model_fields_set
            assert (a.__pydantic_extra__, a.__pydantic_private__) == (
                b.__pydantic_extra__,
                b.__pydantic_private__,
            )
            assert repr(a) == repr(b)
            assert a.model_dump_json() == b.model_dump_json()


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
    env = {**os.environ, "MMEMD_CACHE_DIR": str(tmp_path / "cache")}
    runs = [
        subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, check=True)
        for _ in range(2)
    ]
    assert runs[0].stdout.strip() != "[]"  # the first process validated the files (and built the validators)
    assert runs[1].stdout.strip() == "[]", runs[1].stdout
