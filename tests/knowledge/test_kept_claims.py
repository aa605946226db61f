"""A knowledge base opened while its store is unchanged answers from the kept claims without opening the store: the
same claims, the same answers, the store opened on the first query they cannot answer, and a store written since
opened, verified and healed as before."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mmemd.knowledge import _data, _store, load
from mmemd.knowledge._kb import KnowledgeBase
from mmemd.knowledge._store import open_store, store_path
from mmemd.knowledge._vocab import vocabulary


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("MMEMD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(_data, "STAMP_SETTLE_SECONDS", 0.0)  # files written by the test are kept at once
    yield tmp_path / "cache"


def _kept_kb() -> KnowledgeBase:
    load()  # builds the store (not kept: it has just been written and the stamp needs a settled file) ...
    load()  # ... then keeps its claims
    kb = load()
    assert kb._con is None and kb._kept_docs is not None, "the kept claims were not used"
    return kb


def test_kept_claims_answer_as_the_store_does(
    cache: Path, assert_identical: Callable[[Any, Any], None]
) -> None:
    kb = _kept_kb()
    opened = KnowledgeBase(open_store(), vocabulary())
    ids = [cid for (cid,) in opened._rows("SELECT id FROM claims ORDER BY id")]
    assert len(ids) > 200
    assert kb.version == opened.version
    for cid in ids:
        assert cid in kb
        assert_identical(kb.get(cid), opened.get(cid))
    assert "no-such-claim-01" not in kb and "no-such-claim-01" not in opened
    with pytest.raises(KeyError):
        kb.get("no-such-claim-01")
    assert kb._con is None  # lookups by id never opened the store


def test_a_query_opens_the_store_and_shares_the_claims_read(cache: Path) -> None:
    kb = _kept_kb()
    first = kb.get("emdtx-intro-01") if "emdtx-intro-01" in kb else kb.get(next(iter(kb._kept_docs or {})))
    everything = kb.claims()
    assert kb._con is not None
    assert len(everything) == len(kb) > 200
    assert next(c for c in everything if c.id == first.id) is first  # one object per claim
    assert kb.search("pomalidomide").hits


@pytest.mark.parametrize("damage", ["truncate", "overwrite-page", "remove"])
def test_a_store_written_since_is_opened_verified_and_healed(
    cache: Path, damage: str, assert_identical: Callable[[Any, Any], None]
) -> None:
    kb = _kept_kb()
    want = {cid: kb.get(cid) for cid in list(kb._kept_docs or {})[:20]}
    path = store_path()
    if damage == "truncate":
        with path.open("r+b") as fh:
            fh.truncate(path.stat().st_size // 2)
    elif damage == "overwrite-page":
        with path.open("r+b") as fh:
            fh.seek(4096)
            fh.write(os.urandom(4096))
    else:
        path.unlink()
    healed = load()
    assert healed._con is not None  # the changed file was opened (and checked) rather than trusted
    assert _store.verify_store(healed._con) is None
    for cid, claim in want.items():
        assert_identical(healed.get(cid), claim)


_PROBE = """
import io, sys
sys.argv = ["mmemd", "assess", sys.argv[1]]
out, sys.stdout = sys.stdout, io.StringIO()
from mmemd.cli import main
main()
sys.stdout = out
print("sqlite3" in sys.modules)
"""


def test_a_warm_assess_neither_imports_sqlite3_nor_opens_the_store(tmp_path: Path) -> None:
    env = {**os.environ, "MMEMD_CACHE_DIR": str(tmp_path / "cache")}
    record = Path(__file__).resolve().parents[2] / "examples" / "emd-liver-rrmm-pr.json"
    probe = [
        sys.executable,
        "-c",
        f"from mmemd.knowledge import _data; _data.STAMP_SETTLE_SECONDS = 0.0\n{_PROBE}",
    ]
    runs = [
        subprocess.run([*probe, str(record)], capture_output=True, text=True, env=env, check=True)
        for _ in range(3)
    ]
    assert runs[0].stdout.strip() == "True"  # the first run builds the store
    assert runs[2].stdout.strip() == "False", runs[2].stderr[-2000:]
