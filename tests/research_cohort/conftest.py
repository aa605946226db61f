from __future__ import annotations

from collections.abc import Callable
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


@pytest.fixture
def add_duplicate_and_orphan_event() -> Callable[[Path], None]:
    """Break a cohort's events: its first event twice (a duplicate key) and a death of patient ``P9999999``, who is
    not in the patients table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def add(d: Path) -> None:
        e = pq.read_table(d / "events.parquet")
        orphan = pa.table(
            {
                "patient_id": ["P9999999"],
                "event": ["death"],
                "date": pa.array([e.column("date")[0].as_py()], pa.date32()),
                "line": pa.array([None], pa.int64()),
            }
        )
        pq.write_table(pa.concat_tables([e, e.slice(0, 1), orphan]), d / "events.parquet")

    return add
