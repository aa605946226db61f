from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def small_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 400-patient synthetic cohort (Parquet), shared by the tests that only read it."""
    from mmemd.research.cohort import synth_cohort

    out = tmp_path_factory.mktemp("cohort") / "c400"
    synth_cohort(400, out, seed=11)
    return out


@pytest.fixture(scope="session")
def small_analysis(small_cohort: Path):  # type: ignore[no-untyped-def]
    from mmemd.research.cohort import analyze_cohort

    return analyze_cohort(small_cohort, workers=1)
