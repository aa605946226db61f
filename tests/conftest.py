from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs must be reproducible: the same examples every run (a failure found while developing is fixed, not left to
# surface at random in CI), and no per-example deadline on a loaded 2-core runner. Locally, hypothesis explores anew.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", max_examples=2000, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
elif os.environ.get("MMEMD_HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["MMEMD_HYPOTHESIS_PROFILE"])

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"

# The knowledge store is built on first use into a cache directory: keep the test run's out of the user's home.
os.environ.setdefault("MMEMD_CACHE_DIR", tempfile.mkdtemp(prefix="mmemd-test-cache-"))
# Likewise the patient registry's default database (data directory), opened by any app the tests build.
os.environ.setdefault("MMEMD_DATA_DIR", tempfile.mkdtemp(prefix="mmemd-test-data-"))


# Tests that need a system package call _system.require_system (``from _system import require_system``), which skips
# naming the package, or fails under MMEMD_STRICT_SKIPS=1 (CI). It is not here: a module named conftest is ambiguous
# across test directories.


@pytest.fixture(scope="session")
def kb():  # type: ignore[no-untyped-def]
    from mmemd import knowledge

    return knowledge.load()


@pytest.fixture(scope="session")
def curated():  # type: ignore[no-untyped-def]
    from mmemd.knowledge import load_curated

    return load_curated()


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The shared seed texts; a fixture (not an importable helper) because every test dir may have a conftest."""
    if not SEEDS.is_dir():
        pytest.skip(f"{SEEDS} not present (the shared reference material sits beside the repository in CI)")
    return SEEDS
