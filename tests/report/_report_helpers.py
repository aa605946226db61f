"""Helpers for the report tests: fixed timestamp, example records, golden-file comparison.

Regenerate the golden files after an intended change with ``MMEMD_UPDATE_GOLDENS=1 python3 -m pytest tests/report``
and review the diff.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"
GENERATED = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)
UPDATE = os.environ.get("MMEMD_UPDATE_GOLDENS") == "1"


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def check_golden(name: str, actual: str, replacements: dict[str, str]) -> None:
    """Compare with ``golden/<name>`` after replacing volatile values (versions) by placeholders."""
    for old, new in replacements.items():
        actual = actual.replace(old, new)
    path = GOLDEN / name
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"golden file {path} missing: run with MMEMD_UPDATE_GOLDENS=1 to create it")
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        import difflib

        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True), actual.splitlines(keepends=True), str(path), "actual", n=2
            )
        )
        pytest.fail(f"{name} differs from its golden file (MMEMD_UPDATE_GOLDENS=1 to accept):\n{diff[:6000]}")
