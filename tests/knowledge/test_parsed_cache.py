"""The parsed-YAML cache gives back exactly what parsing gives, and never a damaged or stale entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmemd.knowledge._data import DATA_DIR, parse_yaml, read_yaml

RULES_DIR = DATA_DIR.parents[1] / "advice" / "data"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MMEMD_CACHE_DIR", str(tmp_path))
    return tmp_path / "parsed"


def _files() -> list[Path]:
    return sorted([*DATA_DIR.rglob("*.yaml"), *RULES_DIR.rglob("*.yaml")])


def test_every_packaged_file_reads_the_same_cold_and_cached(cache: Path) -> None:
    files = _files()
    assert len(files) >= 20  # sources, glossary, vocabulary, claims, advice rules
    for p in files:
        parsed = parse_yaml(p.read_bytes())
        assert read_yaml(p) == parsed, p.name  # cold: parsed, then stored
        assert read_yaml(p) == parsed, p.name  # from the cache
    assert len(list(cache.glob("*.marshal"))) == len({p.read_bytes() for p in files})


def test_an_edited_file_is_never_read_from_the_old_entry(cache: Path, tmp_path: Path) -> None:
    p = tmp_path / "rules.yaml"
    p.write_text("threshold: 60\n", encoding="utf-8")
    assert read_yaml(p) == {"threshold": 60}
    p.write_text("threshold: 61\n", encoding="utf-8")
    assert read_yaml(p) == {"threshold": 61}


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty"])
def test_a_damaged_entry_is_parsed_again_and_replaced(cache: Path, tmp_path: Path, damage: str) -> None:
    p = tmp_path / "rules.yaml"
    p.write_text("a: [1, 2, 3]\nb: {c: text}\n", encoding="utf-8")
    read_yaml(p)
    (entry,) = cache.glob("*.marshal")
    blob = bytearray(entry.read_bytes())
    if damage == "flip":
        blob[-2] ^= 0x01  # the payload no longer matches its hash
    elif damage == "truncate":
        del blob[len(blob) // 2 :]
    else:
        blob.clear()
    entry.write_bytes(bytes(blob))
    assert read_yaml(p) == {"a": [1, 2, 3], "b": {"c": "text"}}
    assert read_yaml(p) == {"a": [1, 2, 3], "b": {"c": "text"}}
    assert entry.read_bytes() != bytes(blob)  # rewritten


def test_a_document_marshal_cannot_hold_is_parsed_every_time(cache: Path, tmp_path: Path) -> None:
    p = tmp_path / "dated.yaml"
    p.write_text("on: 2024-01-31\n", encoding="utf-8")
    first = read_yaml(p)
    assert read_yaml(p) == first
    assert not list(cache.glob("*.marshal"))


def test_a_cache_path_that_is_a_file_just_means_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("MMEMD_CACHE_DIR", str(blocker))
    p = DATA_DIR / "glossary.yaml"
    assert read_yaml(p) == parse_yaml(p.read_bytes())
