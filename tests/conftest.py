from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"

# The knowledge store is built on first use into a cache directory: keep the test run's out of the user's home.
os.environ.setdefault("MMEMD_CACHE_DIR", tempfile.mkdtemp(prefix="mmemd-test-cache-"))


@pytest.fixture(scope="session")
def kb():  # type: ignore[no-untyped-def]
    from mmemd import knowledge

    return knowledge.load()


@pytest.fixture(scope="session")
def curated():  # type: ignore[no-untyped-def]
    from mmemd.knowledge import load_curated

    return load_curated()


def seeds_or_skip() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"{SEEDS} not present (the shared reference material sits beside the repository in CI)")
    return SEEDS
