"""The packaged vocabulary is validated once and then read back from the cache as validated values: the terms read
back are the validated terms (type, values, set fields, hash, repr), an edited file is validated again (its
problems reported), and a damaged entry falls back to validating."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from _read_back import assert_identical, printed_by_two_processes, private_cache, read_back
from mmemd.knowledge import _data, _vocab
from mmemd.knowledge._data import VOCAB_DIR, stamped
from mmemd.knowledge._vocab import Vocabulary, VocabularyError, parse_vocabulary, vocabulary


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield from private_cache(tmp_path, monkeypatch, vocabulary)


def _validated(directory: Path = VOCAB_DIR) -> Vocabulary:
    return parse_vocabulary((p.name, _data.read_yaml(p)) for p in sorted(directory.glob("*.yaml")))


def _kept(monkeypatch: pytest.MonkeyPatch) -> Vocabulary:
    """vocabulary() in a new process's state, failing if it validates instead of reading the kept values."""
    kept: Vocabulary = read_back(monkeypatch, vocabulary, _vocab, "parse_vocabulary")
    return kept


def _assert_same_terms(got: Vocabulary, want: Vocabulary) -> None:
    assert got == want
    for section in _vocab._SECTIONS:
        assert_identical(getattr(got, section), getattr(want, section))
    for derived in ("therapy_ids", "intervention_ids", "subject_ids", "site_ids", "cns_site_ids"):
        assert getattr(got, derived) == getattr(want, derived)


def test_the_kept_vocabulary_is_the_validated_one(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = vocabulary()
    _assert_same_terms(first, _validated())
    _assert_same_terms(_kept(monkeypatch), _validated())


def test_an_edited_file_is_validated_again(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vocab_dir = tmp_path / "vocab"
    shutil.copytree(VOCAB_DIR, vocab_dir)
    monkeypatch.setattr(_vocab, "VOCAB_DIR", vocab_dir)
    vocabulary()
    _assert_same_terms(_kept(monkeypatch), _validated(vocab_dir))

    sites = vocab_dir / "sites.yaml"
    text = sites.read_text(encoding="utf-8")
    edited = text.replace("en: central nervous system,", "en: central nervous system (CNS),", 1)
    assert edited != text
    sites.write_text(edited, encoding="utf-8")
    vocabulary.cache_clear()
    assert vocabulary().sites["cns"].en == "central nervous system (CNS)"
    _assert_same_terms(_kept(monkeypatch), _validated(vocab_dir))

    sites.write_text(text.replace("cns: true", "cns: maybe", 1), encoding="utf-8")
    vocabulary.cache_clear()
    with pytest.raises(VocabularyError, match="cns"):
        vocabulary()


def test_a_damaged_kept_entry_is_validated_again(cache: Path) -> None:
    files = [*sorted(VOCAB_DIR.glob("*.yaml")), Path(_vocab.__file__), Path(_vocab._validated.__file__)]
    stamped(_vocab._kept_name(), files, lambda: b"\x00 not marshal")
    vocabulary.cache_clear()
    _assert_same_terms(vocabulary(), _validated())


_PROBE = """
import sys
from mmemd.knowledge import _data
_data.STAMP_SETTLE_SECONDS = 0.0
from mmemd.knowledge import _vocab
_vocab.vocabulary()
print(sorted(m.__name__ for m in set(_vocab._SECTIONS.values()) | {_vocab.Term} if m.__pydantic_complete__))
"""


def test_a_process_reading_the_kept_vocabulary_builds_no_term_validator(tmp_path: Path) -> None:
    cold, warm = printed_by_two_processes(_PROBE, tmp_path / "cache")
    assert cold != "[]"  # the first process validated the files (and built the validators)
    assert warm == "[]", warm
