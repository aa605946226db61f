"""Synthesis of the knowledge base's claims: the rules of docs/meta-analysis.md ("Synthesis"), one test each."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mmemd.research import meta
from mmemd.research.meta._synthesize import (
    HETEROGENEITY_I2,
    HETEROGENEITY_Q_P,
    _heterogeneity_warning,
    agent_class,
    derive_events,
    select,
    synthesize,
)

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    ("value", "n", "events"),
    [
        ("61.1", 18, [11]),
        ("40", 15, [6]),
        ("67.7", 31, [21]),
        ("81", 16, [13]),
        ("50", 200, [99, 100, 101]),  # ambiguous at whole percent
        ("28", 19, []),  # the reviews print 28% for 5/19 (26.3%): inconsistent, no count fits
        ("0", 12, [0]),
        ("100", 7, [7]),
    ],
)
def test_derive_events_rounding_rule(value: str, n: int, events: list[int]) -> None:
    assert derive_events(Decimal(value), n) == events


def test_orr_synthesis_accounts_for_every_claim(kb: Any) -> None:
    s = synthesize(kb, "ORR")
    claims = kb.claims(endpoint="ORR")
    assert s.considered == len(claims)
    included = {c.claim_id for st in s.strata for c in st.included}
    excluded = {e.claim_id for e in s.excluded}
    assert included | excluded == {c.id for c in claims}  # nothing silently dropped
    assert all(e.reason for e in s.excluded)
    assert s.kb_version == kb.version


def test_orr_known_inclusions_and_exclusions(kb: Any) -> None:
    s = synthesize(kb, "ORR")
    counts = {c.claim_id: (c.events, c.n) for st in s.strata for c in st.included}
    assert counts["emdtx-2.1-07"] == (11, 18)  # 61.1% of 18 EMD patients on Rd
    assert counts["emdtx-4.1-05"] == (21, 31)
    reasons = {e.claim_id: e.reason for e in s.excluded}
    assert "meta-analysis" in reasons["emdtx-7-05"]
    assert "range" in reasons["emdtx-3-03"]


def test_strata_never_mix_endpoints_or_populations(kb: Any) -> None:
    s = synthesize(kb, "ORR")
    for st in s.strata:
        for c in st.included:
            claim = kb.get(c.claim_id)
            assert claim.endpoint == st.endpoint == "ORR"
            assert claim.population.disease == st.disease
    assert len({(st.endpoint, st.disease, st.emd) for st in s.strata}) == len(s.strata)


def test_pooled_value_is_the_meta_analysis_of_the_derived_counts(kb: Any) -> None:
    s = synthesize(kb, "ORR", measure="PFT", method="DL")
    st = max(s.strata, key=lambda x: len(x.included))
    direct = meta.rma(
        meta.proportions("PFT", [c.events for c in st.included], [c.n for c in st.included]), "DL"
    )
    assert st.result.pooled == pytest.approx(direct.pooled)
    assert st.result.tau2 == pytest.approx(direct.tau2)


def test_mixed_population_arms_go_to_separate_strata(kb: Any) -> None:
    # emdtx-1.1-02 (57.1% EMD vs 52.9% non-EMD of 144) with a hypothetical 42 EMD patients: 24/42 and 54/102.
    claim = kb.get("emdtx-1.1-02").model_copy(update={"n_emd": 42})
    strata, excluded, _ = select([claim], kb.vocabulary)
    assert not excluded
    keys = {k[2]: [(c.events, c.n) for c in v] for k, v in strata.items()}
    assert keys == {"emd": [(24, 42)], "non_emd": [(54, 102)]}


def test_unknown_arm_size_is_excluded_with_reason(kb: Any) -> None:
    _, excluded, _ = select([kb.get("emdtx-1.1-02")], kb.vocabulary)
    assert {e.arm for e in excluded} == {"EMD", "non-EMD"}
    assert all("unknown" in e.reason for e in excluded)


def test_duplicates_are_excluded(kb: Any) -> None:
    first = kb.get("emdtx-2.1-07")
    copy = first.model_copy(update={"id": "emdtx-9-99"})
    strata, excluded, _ = select([first, copy], kb.vocabulary)
    assert [c.claim_id for v in strata.values() for c in v] == ["emdtx-2.1-07"]
    assert excluded[0].claim_id == "emdtx-9-99" and "duplicate of emdtx-2.1-07" in excluded[0].reason


def test_heterogeneity_warning_thresholds() -> None:
    assert (HETEROGENEITY_I2, HETEROGENEITY_Q_P) == (50.0, 0.10)
    bcg = meta.rma(meta.effect_sizes(meta.read_table(DATA / "dat_bcg.csv"), "RR"), "REML")
    assert bcg.i2 >= HETEROGENEITY_I2
    assert _heterogeneity_warning(bcg, "bcg") is not None
    homo = meta.rma(meta.effect_sizes(meta.read_table(DATA / "homogeneous.csv")), "REML")
    assert _heterogeneity_warning(homo, "homo") is None
    single = meta.rma(meta.proportions("PLO", [3], [9]), "REML")
    assert _heterogeneity_warning(single, "one") is None


def test_agent_class_skips_dexamethasone(kb: Any) -> None:
    assert agent_class(kb.get("emdtx-2.1-07"), kb.vocabulary) == "imid"  # lenalidomide + dexamethasone


def test_group_by_agent_class_makes_subgroups(kb: Any) -> None:
    s = synthesize(kb, "ORR", group_by="agent_class")
    multi = [st for st in s.strata if st.subgroups is not None]
    for st in multi:
        assert {c.group for c in st.included} == {g for g, _ in st.subgroups.groups}


def test_two_group_measure_rejected(kb: Any) -> None:
    with pytest.raises(meta.MetaInputError):
        synthesize(kb, "ORR", measure="RR")
