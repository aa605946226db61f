"""Property: whatever sequence of changes a patient goes through, every version ever written reads back exactly,
and the history has one entry per version, in order."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from _registry_support import example
from hypothesis import given, settings
from hypothesis import strategies as st

from mmemd.clinical.errors import RecordError
from mmemd.registry import Registry

# One step: add a visit on day d, set ECOG, add a lesion, drop every lesion id > L1 (and its measurements), or an
# invalid visit (must change nothing).
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("visit"), st.integers(0, 400), st.floats(0, 5, allow_nan=False).map(lambda x: round(x, 2))
        ),
        st.tuples(st.just("ecog"), st.integers(0, 4)),
        st.tuples(st.just("lesion"), st.integers(2, 6)),
        st.tuples(st.just("drop_lesions")),
        st.tuples(st.just("bad_visit"), st.integers(0, 400)),
    ),
    max_size=12,
)


@settings(max_examples=25, deadline=None)
@given(steps)
def test_every_version_reads_back(ops: list[tuple[Any, ...]]) -> None:
    reg = Registry("sqlite://")
    p = reg.create(example("emd-liver-rrmm-pr"), author="a")
    seen = {1: p.record}
    for op in ops:
        try:
            if op[0] == "visit":
                day = (dt.date(2026, 1, 1) + dt.timedelta(days=op[1])).isoformat()
                p = reg.add_visit(
                    p.id, {"date": day, "serum_m_protein": {"value": op[2], "unit": "g/dL"}}, author="a"
                )
            elif op[0] == "ecog":
                p = reg.patch(p.id, {"ecog": op[1]}, author="a", expected_version=p.version)
            elif op[0] == "lesion":
                les = {
                    "id": f"L{op[1]}",
                    "site": "skin",
                    "relation_to_bone": "none",
                    "detected_at": "relapse",
                }
                lesions = [x for x in p.record["lesions"] if x["id"] != les["id"]] + [les]
                p = reg.patch(p.id, {"lesions": lesions}, author="a")
            elif op[0] == "drop_lesions":
                keep = [x for x in p.record["lesions"] if x["id"] == "L1"]
                p = reg.patch(p.id, {"lesions": keep}, author="a")
            else:
                day = (dt.date(2026, 1, 1) + dt.timedelta(days=op[1])).isoformat()
                before = p.version
                with pytest.raises(RecordError):
                    reg.add_visit(
                        p.id, {"date": day, "serum_m_protein": {"value": -1, "unit": "g/dL"}}, author="a"
                    )
                assert reg.get(p.id).version == before
                continue
        except RecordError:
            continue  # e.g. a second visit on one day: refused, nothing written (checked below by the replay)
        seen[p.version] = p.record
    current = reg.get(p.id)
    assert current.record == seen[current.version]
    assert [h.version for h in reg.history(p.id)] == list(range(1, current.version + 1))
    for version, record in seen.items():
        assert reg.get(p.id, version=version).record == record
    reg.close()
