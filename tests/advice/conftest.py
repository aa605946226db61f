from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="session")
def example_record() -> Callable[[str], dict[str, Any]]:
    def read(name: str) -> dict[str, Any]:
        return dict(json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8")))

    return read
