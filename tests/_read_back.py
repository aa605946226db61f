"""Shared by the tests of data validated once and read back (claims, vocabulary, rules): models compared value for
value and type for type, and a read that must not validate again."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from mmemd.knowledge import _data


def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *loads: Any) -> Iterator[Path]:
    """A private cache directory whose entries are kept at once (no settle time: the test writes its files), with
    the ``lru_cache`` of each of ``loads`` cleared before and after (for a fixture: ``yield from``)."""
    monkeypatch.setenv("MMEMD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(_data, "STAMP_SETTLE_SECONDS", 0.0)
    for load in loads:
        load.cache_clear()
    yield tmp_path / "cache"
    for load in loads:
        load.cache_clear()


def read_back(monkeypatch: pytest.MonkeyPatch, load: Any, owner: object, validate: str) -> Any:
    """``load()`` in a new process's state (its ``lru_cache`` cleared), failing if it calls ``owner.<validate>``
    instead of rebuilding from the kept values."""
    load.cache_clear()

    def no_validation(*_args: object) -> Any:
        raise AssertionError("validated again: the kept values were not used")

    with monkeypatch.context() as m:
        m.setattr(owner, validate, no_validation)
        return load()


def printed_by_two_processes(probe: str, cache: Path) -> tuple[str, str]:
    """What ``python -c probe`` prints, run twice with the cache directory ``cache``: the first run starts cold
    (validates and keeps), the second reads back what the first kept."""
    env = {**os.environ, "MMEMD_CACHE_DIR": str(cache)}
    first, second = (
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
        ).stdout
        for _ in range(2)
    )
    return first.strip(), second.strip()


def assert_identical(got: Any, want: Any) -> None:
    """Equal, of the same types all the way down, with the same set fields and field order."""
    assert type(got) is type(want), (got, want)
    if isinstance(want, BaseModel):
        assert got.model_fields_set == want.model_fields_set
        assert list(got.__dict__) == list(want.__dict__)
        assert (got.__pydantic_extra__, got.__pydantic_private__) == (
            want.__pydantic_extra__,
            want.__pydantic_private__,
        )
        for key, value in want.__dict__.items():
            assert_identical(got.__dict__[key], value)
        assert got == want and _hash(got) == _hash(want) and repr(got) == repr(want)
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            assert_identical(a, b)
    elif isinstance(want, dict):
        assert list(got) == list(want)
        for key, value in want.items():
            assert_identical(got[key], value)
    else:
        assert got == want


def _hash(model: BaseModel) -> int | str:
    try:
        return hash(model)
    except TypeError as exc:  # a frozen model with a dict field: unhashable either way
        return str(exc)
