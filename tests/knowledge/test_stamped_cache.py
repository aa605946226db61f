"""Results kept by the files' ``stat`` (the data's content hash, the store builder's hash, parsed YAML) are reused
only while no file was written, added or removed, and never from a damaged entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmemd.knowledge import _data, _store
from mmemd.knowledge._data import DATA_DIR, parse_yaml, read_yaml, stamped


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MMEMD_CACHE_DIR", str(tmp_path / "cache"))
    # files written by the test are kept at once (the settle rule has its own test below)
    monkeypatch.setattr(_data, "STAMP_SETTLE_SECONDS", 0.0)
    return tmp_path / "cache" / "stamped"


class Counter:
    def __init__(self, *paths: Path) -> None:
        self.paths = paths
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        return b"|".join(p.read_bytes() for p in self.paths)


def test_a_kept_result_is_reused_until_a_file_is_written(cache: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"one")
    b.write_bytes(b"two")
    compute = Counter(a, b)
    assert stamped("pair", [a, b], compute) == b"one|two"
    assert stamped("pair", [a, b], compute) == b"one|two"
    assert compute.calls == 1
    b.write_bytes(b"three")
    assert stamped("pair", [a, b], compute) == b"one|three"
    assert compute.calls == 2


def test_an_added_or_removed_file_is_computed_again(cache: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"one")
    b.write_bytes(b"two")
    assert stamped("set", [a], Counter(a)) == b"one"
    assert stamped("set", [a, b], Counter(a, b)) == b"one|two"
    assert stamped("set", [a], Counter(a)) == b"one"
    b.unlink()
    missing = Counter(a)
    assert stamped("set", [a, b], lambda: missing() + b"|gone") == b"one|gone"
    assert stamped("set", [a, b], lambda: missing() + b"|gone") == b"one|gone"
    assert missing.calls == 2  # a missing file: nothing is kept


def test_files_changed_within_the_settle_time_are_not_kept(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_data, "STAMP_SETTLE_SECONDS", 3600.0)
    a = tmp_path / "a.txt"
    a.write_bytes(b"fresh")
    compute = Counter(a)
    assert stamped("fresh", [a], compute) == b"fresh"
    assert stamped("fresh", [a], compute) == b"fresh"
    assert compute.calls == 2
    assert not cache.exists()


@pytest.mark.parametrize("damage", ["flip-payload", "flip-stamp", "flip-crc", "truncate", "empty"])
def test_a_damaged_entry_is_computed_again_and_replaced(cache: Path, tmp_path: Path, damage: str) -> None:
    a = tmp_path / "a.txt"
    a.write_bytes(b"payload bytes")
    stamped("damaged", [a], Counter(a))
    entry = cache / "damaged.stamped"
    blob = bytearray(entry.read_bytes())
    if damage == "flip-payload":
        blob[-2] ^= 0x01
    elif damage == "flip-stamp":
        blob[len(blob) // 2] ^= 0x01
    elif damage == "flip-crc":
        blob[0] ^= 0x80
    elif damage == "truncate":
        del blob[len(blob) // 2 :]
    else:
        blob.clear()
    entry.write_bytes(bytes(blob))
    compute = Counter(a)
    assert stamped("damaged", [a], compute) == b"payload bytes"
    assert compute.calls == 1
    assert entry.read_bytes() != bytes(blob)  # rewritten
    assert stamped("damaged", [a], compute) == b"payload bytes"
    assert compute.calls == 1


def test_read_yaml_gives_an_edited_file_and_survives_a_damaged_stamp(cache: Path, tmp_path: Path) -> None:
    p = tmp_path / "rules.yaml"
    p.write_text("threshold: 60\n", encoding="utf-8")
    assert read_yaml(p) == {"threshold": 60}
    assert read_yaml(p) == {"threshold": 60}  # from the stamp
    p.write_text("threshold: 610\n", encoding="utf-8")
    assert read_yaml(p) == {"threshold": 610}
    (entry,) = cache.glob("*.stamped")
    entry.write_bytes(entry.read_bytes()[:-3])
    assert read_yaml(p) == {"threshold": 610}


def test_a_document_marshal_cannot_hold_is_never_kept(cache: Path, tmp_path: Path) -> None:
    p = tmp_path / "dated.yaml"
    p.write_text("on: 2024-01-31\n", encoding="utf-8")
    assert read_yaml(p) == read_yaml(p) == parse_yaml(p.read_bytes())
    assert not list(cache.glob("*.stamped"))


def test_the_kept_hashes_are_the_hashes_of_the_files(cache: Path) -> None:
    """The data's content hash (the knowledge-base version) and the store builder's hash, computed cold and read
    back from the stamp, equal a fresh computation over the files."""
    import hashlib

    for _ in range(2):  # cold, then kept
        _data.content_hash.cache_clear()
        _store._builder_hash.cache_clear()
        assert _data.content_hash() == _data._content_hash(_data.data_files())
        builder = hashlib.sha256()
        for name in ("_store.py", "_text.py", "_load.py", "_models.py", "_grade.py", "_vocab.py"):
            builder.update((Path(_store.__file__).resolve().parent / name).read_bytes())
        assert _store._builder_hash() == builder.hexdigest()
    kept = sorted(p.name for p in cache.glob("*-hash-*.stamped"))
    assert kept == [
        _data.stamp_name("builder-hash", Path(_store.__file__).resolve().parent) + ".stamped",
        _data.stamp_name("content-hash", DATA_DIR) + ".stamped",
    ]
    _data.content_hash.cache_clear()
    _store._builder_hash.cache_clear()


def test_two_checkouts_keep_their_hashes_apart(cache: Path, tmp_path: Path) -> None:
    """Two installations sharing a cache (a checkout beside an installed copy) each keep their own entry, rather
    than overwriting each other's (and hashing again) on every run."""
    a, b = tmp_path / "a" / "data", tmp_path / "b" / "data"
    for d in (a, b):
        d.mkdir(parents=True)
        (d / "f.txt").write_bytes(d.parent.name.encode())
    counters = {d: Counter(d / "f.txt") for d in (a, b)}
    for _ in range(3):
        for d in (a, b):
            assert (
                stamped(_data.stamp_name("content-hash", d), [d / "f.txt"], counters[d])
                == d.parent.name.encode()
            )
    assert [c.calls for c in counters.values()] == [1, 1]


def test_package_data_is_stamped_by_its_own_path(cache: Path) -> None:
    p = DATA_DIR / "glossary.yaml"
    assert read_yaml(p) == parse_yaml(p.read_bytes())
    assert read_yaml(p) == parse_yaml(p.read_bytes())
    (entry,) = cache.glob("data-glossary.yaml-*.stamped")
    assert str(p).encode() in entry.read_bytes()
