"""Worked clinical paths through the IMWG 2016 engine (docs/criteria.md §1.2–§1.5).

Each path is a short patient course written as its record would be; the expected answers are derived by
hand from the criteria cited in the docstring (not copied from the engine's output).
"""

from __future__ import annotations

from typing import Any

import msgspec.structs
import pytest
from test_response_support import cats, joined, lesion, run, snap

from mmemd.clinical.response import DEFAULT_RESPONSE_SETTINGS, ImwgResponse


def valid(r: ImwgResponse) -> ImwgResponse:
    """The response is built with model_construct for speed; it must still validate against the contract."""
    again = ImwgResponse.model_validate(r.model_dump())
    assert again == r
    return r


IGG_KAPPA: dict[str, Any] = {
    "serum": 3.0,
    "urine": 500,
    "serum_ife": True,
    "urine_ife": True,
    "kappa": 60,
    "lam": 1.0,
    "involved": "kappa",
    "bmpc": 40,
}


def test_deepening_response_to_scr() -> None:
    """MR → PR → VGPR → CR → sCR, each confirmed by the next (§1.3 rows; general rule 1)."""
    negative = {"serum_ife": False, "urine_ife": False}
    r = valid(
        run(
            [
                snap("2025-01-01", baseline=True, **IGG_KAPPA),
                # serum −33%, urine −60% → MR
                snap("2025-02-01", serum=2.0, urine=200, serum_ife=True, urine_ife=True),
                snap("2025-03-01", serum=1.2, urine=150, serum_ife=True, urine_ife=True),  # −60%, < 200 → PR
                snap(
                    "2025-04-01", serum=1.0, urine=90, serum_ife=True, urine_ife=True
                ),  # −66.7% → PR (confirms)
                snap(
                    "2025-05-01", serum=0.2, urine=50, serum_ife=True, urine_ife=True
                ),  # −93.3%, < 100 → VGPR
                snap("2025-06-01", serum=0, urine=0, serum_ife=True, urine_ife=True),  # IFE only → VGPR
                snap("2025-07-01", **negative, bmpc=3, kappa=3, lam=1),  # IFE −, BMPC < 5, ratio 3 → CR
                snap(
                    "2025-08-01", **negative, kappa=2, lam=1.5, ihc_clonal=False
                ),  # + normal ratio, no clone → sCR
                snap("2025-09-01", **negative, kappa=1.5, lam=1.2),  # sCR again (marrow carried)
            ]
        )
    )
    assert cats(r) == ["baseline", "MR", "PR", "PR", "VGPR", "VGPR", "CR", "sCR", "sCR"]
    assert (r.current, r.confirmed, r.best) == ("sCR", True, "sCR")
    assert r.progressive_disease is False
    assert r.relapse_from_cr is False
    text = joined(r)
    assert "sCR (IMWG-2016 §1.3) at 2025-09-01" in text
    assert "no clonal plasma cells by IHC" in text
    assert "FLC κ/λ 1.25 (normal" in text
    assert "best confirmed response: sCR at 2025-08-01, confirmed by 2025-09-01" in text


def test_pr_blocked_by_non_shrinking_plasmacytoma_is_sd() -> None:
    """§1.5: M-protein qualifies for PR (−60%) but SPD falls only 10% → overall SD; by_parameter shows why."""
    base = {"serum": 2.0, "urine": 0, "serum_ife": True, "urine_ife": True}
    r = valid(
        run(
            [
                snap("2025-01-01", baseline=True, **base, plasmacytomas=[lesion("L1", 5, 4)]),  # SPD 20
                snap("2025-02-01", **{**base, "serum": 0.8}, plasmacytomas=[lesion("L1", 4.5, 4)]),  # SPD 18
                snap("2025-03-01", **{**base, "serum": 0.8}, plasmacytomas=[lesion("L1", 4.5, 4)]),
            ],
            lesions=["L1"],
        )
    )
    assert cats(r) == ["baseline", "SD", "SD"]
    assert r.by_parameter is not None
    assert r.by_parameter.serum == "PR"
    assert r.by_parameter.plasmacytomas == "SD"
    assert "SPD 18.0 cm², −10% from 20 cm²" in joined(r)
    assert "needs ≥50% fall" in joined(r)


def test_pd_by_new_emd_lesion() -> None:
    """§1.3 PD (b): a new extramedullary plasmacytoma (not known at baseline) is PD without confirmation."""
    base = {"serum": 2.0, "urine": 0, "serum_ife": True, "urine_ife": True}
    r = valid(
        run(
            [
                snap("2025-01-01", baseline=True, **base, plasmacytomas=[lesion("L1", 4, 4)]),
                snap("2025-02-01", **{**base, "serum": 0.8}, plasmacytomas=[lesion("L1", 2, 2)]),
                snap(
                    "2025-03-01",
                    **{**base, "serum": 0.8},
                    plasmacytomas=[lesion("L1", 2, 2), lesion("L2", 3, 2)],
                ),
            ],
            lesions=["L1"],
        )
    )
    assert cats(r) == ["baseline", "PR", "PD"]
    assert (r.current, r.confirmed, r.progressive_disease) == ("PD", True, True)
    # ADMIRAL confirmation table: a response followed by PD is not confirmed → SD
    assert r.best == "SD"
    assert r.by_parameter is not None and r.by_parameter.plasmacytomas == "PD"
    assert "new plasmacytoma L2" in joined(r)


def test_pd_by_spd_of_two_lesions() -> None:
    """§1.3 PD (b): SPD of more than one lesion +50% from nadir (12 → 6 → 9.5)."""
    base = {"serum": 2.0, "urine": 0, "serum_ife": True, "urine_ife": True}
    r = valid(
        run(
            [
                snap(
                    "2025-01-01",
                    baseline=True,
                    **base,
                    plasmacytomas=[lesion("L1", 3, 2), lesion("L2", 3, 2)],
                ),
                snap(
                    "2025-02-01",
                    **{**base, "serum": 0.8},
                    plasmacytomas=[lesion("L1", 3, 1), lesion("L2", 3, 1)],
                ),
                snap(
                    "2025-03-01",
                    **{**base, "serum": 0.8},
                    plasmacytomas=[lesion("L1", 3, 1.5), lesion("L2", 3, 1.7)],
                ),
            ],
            lesions=["L1", "L2"],
        )
    )
    assert cats(r) == ["baseline", "PR", "PD"]
    assert r.progressive_disease is True
    assert "PD (b): SPD 9.6 cm² (+60%) from nadir 6 cm² (2025-02-01)" in joined(r)


def test_relapse_from_cr_then_pd() -> None:
    """§1.3 relapse from CR: urine IFE positive after a confirmed CR is relapse, not PD (rule 3); a later serum
    rise of ≥ 0.5 g/dL from the 0 nadir, twice, is PD. relapse_from_cr stays true."""
    cr = {"serum_ife": False, "urine_ife": False}
    r = valid(
        run(
            [
                snap("2025-01-01", baseline=True, **IGG_KAPPA),
                snap("2025-03-01", **cr, bmpc=2, kappa=3, lam=1),
                snap("2025-04-01", **cr),
                snap("2025-06-01", serum_ife=False, urine=0, urine_ife=True),
                snap("2025-07-01", serum=0.6, serum_ife=True, urine=0, urine_ife=True),
                snap("2025-08-01", serum=0.7, serum_ife=True, urine=0, urine_ife=True),
            ]
        )
    )
    assert cats(r) == ["baseline", "CR", "CR", "VGPR", "PD", "PD"]
    assert r.relapse_from_cr is True
    assert r.progressive_disease is True
    text = joined(r)
    assert "relapse from CR (IMWG-2016 §1.3) at 2025-06-01: urine IFE positive" in text
    assert "not PD by itself" in text


def test_relapse_from_cr_by_marrow() -> None:
    """§1.3 relapse from CR: development of ≥ 5% plasma cells in the marrow (5% inclusive)."""
    cr = {"serum_ife": False, "urine_ife": False}
    r = run(
        [
            snap("2025-01-01", baseline=True, **IGG_KAPPA),
            snap("2025-03-01", **cr, bmpc=2),
            snap("2025-04-01", **cr),
            snap("2025-06-01", **cr, bmpc=5),
        ]
    )
    assert r.relapse_from_cr is True
    assert cats(r)[-1] == "VGPR"


def test_unconfirmed_cr_cannot_relapse() -> None:
    """Relapse from CR needs a confirmed CR (relapse_from_cr_requires_confirmed_cr)."""
    cr = {"serum_ife": False, "urine_ife": False}
    course = [
        snap("2025-01-01", baseline=True, **IGG_KAPPA),
        snap("2025-03-01", **cr, bmpc=2),
        snap("2025-04-01", serum=0, serum_ife=True, urine=0, urine_ife=True),
    ]
    assert run(course).relapse_from_cr is False
    loose = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, relapse_from_cr_requires_confirmed_cr=False)
    assert run(course, loose).relapse_from_cr is True


def test_mrd_negative_cr_and_sustained_negativity() -> None:
    """§1.4: NGF-negative at 1e-5 in confirmed CR → flow_negative; with PET → imaging_plus_negative; marrow and
    PET negative again ≥ 1 calendar year later → sustained_negative."""
    cr = {"serum_ife": False, "urine_ife": False, "kappa": 1.2, "lam": 1}
    mrd = {"mrd_method": "NGF", "mrd_negative": True, "mrd_sensitivity": 1e-5}
    first = [
        snap("2025-01-01", baseline=True, **IGG_KAPPA),
        snap("2025-03-01", **cr, bmpc=1),
        snap("2025-04-01", **cr, **mrd),
    ]
    assert valid(run(first)).mrd == "flow_negative"
    with_pet = [*first[:-1], snap("2025-04-01", **cr, **mrd, pet_negative=True)]
    assert run(with_pet).mrd == "imaging_plus_negative"
    later = [*with_pet, snap("2025-10-01", **cr), snap("2026-04-01", **cr, **mrd, pet_negative=True)]
    r = valid(run(later))
    assert r.mrd == "sustained_negative"
    assert "2025-04-01 and 2026-04-01" in joined(r)


def test_flc_only_patient() -> None:
    """§1.2/§1.3: serum and urine unmeasurable, κ 50 / λ 1 (dFLC 49) → dFLC criteria; CR needs a normal ratio."""
    quiet = {"serum": 0, "urine": 0, "serum_ife": True, "urine_ife": True, "involved": "kappa"}
    neg = {"serum_ife": False, "urine_ife": False}
    r = valid(
        run(
            [
                snap("2025-01-01", baseline=True, kappa=50, lam=1, bmpc=20, **quiet),
                snap("2025-02-01", kappa=20, lam=1, **quiet),  # dFLC 19 = −61% → PR
                snap("2025-03-01", kappa=5.9, lam=1, **quiet),  # dFLC 4.9 = −90% → VGPR
                snap("2025-04-01", kappa=4, lam=1, **quiet),  # −93.9% → VGPR
                snap("2025-05-01", kappa=1.5, lam=1, bmpc=2, **neg),  # ratio 1.5, IFE −, BMPC 2 → CR
                snap("2025-06-01", kappa=1.4, lam=1, **neg),
            ]
        )
    )
    assert cats(r) == ["baseline", "PR", "VGPR", "VGPR", "CR", "CR"]
    assert (r.current, r.best) == ("CR", "CR")
    assert "response by dFLC" in joined(r)


def test_marrow_only_patient() -> None:
    """§1.3 PR marrow-only: serum, urine, FLC unmeasurable and baseline BMPC ≥ 30% → ≥ 50% fall is PR;
    a labs-only visit without marrow is not evaluable (the response parameter was not measured)."""
    quiet = {"serum": 0, "urine": 0, "serum_ife": True, "urine_ife": True, "kappa": 1, "lam": 1}
    r = valid(
        run(
            [
                snap("2025-01-01", baseline=True, bmpc=60, **quiet),
                snap("2025-03-01", bmpc=25, **quiet),
                snap("2025-06-01", bmpc=4, serum_ife=False, urine_ife=False, kappa=1, lam=1),
                snap("2025-07-01", serum_ife=False, urine_ife=False, kappa=1, lam=1),
            ]
        )
    )
    assert cats(r) == ["baseline", "PR", "CR", "CR"]  # the 4% marrow carries forward (no repeat needed)
    assert r.best == "CR"
    no_carry = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, marrow_carry_forward=False)
    r2 = run(
        [
            snap("2025-01-01", baseline=True, bmpc=60, **quiet),
            snap("2025-03-01", bmpc=25, **quiet),
            snap("2025-04-01", **quiet),
        ],
        no_carry,
    )
    assert cats(r2) == ["baseline", "PR", "not_evaluable"]


def test_nadir_at_least_5_g_dl() -> None:
    """§1.5: nadir ≥ 5 g/dL — +1.0 g/dL (only +19%) suffices; twice in a row → confirmed PD."""
    base = {"urine": 0, "serum_ife": True, "urine_ife": True}
    r = valid(
        run(
            [
                snap("2025-01-01", baseline=True, serum=8.0, **base),
                snap("2025-02-01", serum=5.2, **base),
                snap("2025-03-01", serum=5.2, **base),
                snap("2025-04-01", serum=6.2, **base),
                snap("2025-05-01", serum=6.3, **base),
            ]
        )
    )
    assert cats(r) == ["baseline", "MR", "MR", "PD", "PD"]
    assert r.progressive_disease is True
    assert "≥1 g/dL suffices from a nadir ≥5" in joined(r)


def test_missing_urine_ife_downgrades_cr_to_vgpr() -> None:
    """§1.3 CR needs a negative IFE on serum and urine; urine IFE not reported → VGPR, reason names it."""
    r = valid(
        run(
            [
                snap("2025-01-01", baseline=True, **IGG_KAPPA),
                snap("2025-03-01", serum_ife=False, urine=0, bmpc=1),
                snap("2025-04-01", serum_ife=False, urine=0),
            ]
        )
    )
    assert cats(r) == ["baseline", "VGPR", "VGPR"]
    text = joined(r)
    assert "not CR" in text
    assert (
        "urine M-protein 0 on electrophoresis, IFE not reported (CR needs a negative urine IFE) — datum missing"
        in text
    )


def test_missing_marrow_downgrades_cr_to_vgpr() -> None:
    r = run(
        [
            snap("2025-01-01", baseline=True, **IGG_KAPPA),
            snap("2025-03-01", serum_ife=False, urine_ife=False),
            snap("2025-04-01", serum_ife=False, urine_ife=False),
        ]
    )
    assert cats(r) == ["baseline", "VGPR", "VGPR"]
    assert "bone marrow not examined — datum missing" in joined(r)


def test_missing_measurable_urine_is_not_assumed() -> None:
    """Urine measurable at baseline (500 mg/24 h) and not measured now: PR cannot be established (rule 7)."""
    r = run(
        [
            snap("2025-01-01", baseline=True, **IGG_KAPPA),
            snap("2025-03-01", serum=0.2, serum_ife=True),
            snap("2025-04-01", serum=0.2, serum_ife=True),
        ]
    )
    assert cats(r) == ["baseline", "SD", "SD"]
    assert "urine M-protein missing — datum missing" in joined(r)


def test_unimaged_plasmacytoma_carry_forward_default_and_strict_setting() -> None:
    """By default (imaging_carry_forward, §1.3 rule 1) the last measurement stands at a laboratory-only visit; with the
    strict reading a baseline plasmacytoma not imaged at a date is a missing datum there (docs/record.md)."""
    base = {"serum": 2.0, "urine": 0, "serum_ife": True, "urine_ife": True}
    course = [
        snap("2025-01-01", baseline=True, **base, plasmacytomas=[lesion("L1", 4, 4)]),
        snap("2025-02-01", **{**base, "serum": 0.8}, plasmacytomas=[lesion("L1", 2, 2)]),
        snap("2025-03-01", **{**base, "serum": 0.8}),
    ]
    strict = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, imaging_carry_forward=False)
    r = run(course, strict, ["L1"])
    assert cats(r) == ["baseline", "PR", "SD"]
    assert "plasmacytoma L1 not imaged at this date — datum missing" in joined(r)
    assert cats(run(course, lesions=["L1"])) == ["baseline", "PR", "PR"]


def test_baseline_lesion_not_measured_at_baseline() -> None:
    """A lesion known at baseline but not measured then: SPD reduction unknown → PR not established; CR possible."""
    base = {"serum": 2.0, "urine": 0, "serum_ife": True, "urine_ife": True}
    r = run(
        [
            snap("2025-01-01", baseline=True, **base),
            snap("2025-02-01", **{**base, "serum": 0.8}, plasmacytomas=[lesion("L1", 2, 2)]),
        ],
        lesions=["L1"],
    )
    assert cats(r) == ["baseline", "SD"]
    assert "baseline SPD unknown" in joined(r)


def test_explicit_baseline_after_earlier_assessments() -> None:
    """Assessments before an explicit baseline are listed but not evaluated; timeline length is preserved."""
    r = valid(
        run(
            [
                snap("2024-06-01", serum=4.0, urine=0, serum_ife=True, urine_ife=True),
                snap("2025-01-01", baseline=True, serum=2.0, urine=0, serum_ife=True, urine_ife=True),
                snap("2025-02-01", serum=0.8, urine=0, serum_ife=True, urine_ife=True),
            ]
        )
    )
    assert cats(r) == ["not_evaluable", "baseline", "PR"]
    assert "before the baseline 2025-01-01" in joined(r)


def test_only_baseline() -> None:
    r = valid(run([snap("2025-01-01", baseline=True, **IGG_KAPPA)]))
    assert cats(r) == ["baseline"]
    assert (r.current, r.confirmed, r.best) == ("not_evaluable", False, "not_evaluable")
    assert "no assessment after the baseline" in joined(r)
    assert r.criteria == "IMWG-2016"


def test_no_assessments() -> None:
    r = valid(run([]))
    assert r.timeline == [] and r.current == "not_evaluable"


def test_unsorted_or_duplicate_dates_are_rejected() -> None:
    a, b = snap("2025-02-01", serum=1), snap("2025-01-01", serum=1)
    with pytest.raises(ValueError, match="sorted"):
        run([a, b])
    with pytest.raises(ValueError, match="sorted"):
        run([a, a])


def test_two_baselines_are_rejected() -> None:
    with pytest.raises(ValueError, match="baseline"):
        run([snap("2025-01-01", baseline=True, serum=2), snap("2025-02-01", baseline=True, serum=2)])


def test_imaging_carry_forward_never_fills_a_partial_imaging() -> None:
    """imaging_carry_forward only covers laboratory-only visits: at an imaging date that omits L2, L2 is missing."""
    base = {"serum": 2.0, "urine": 0, "serum_ife": True, "urine_ife": True}
    two = [lesion("L1", 4, 4), lesion("L2", 4, 4)]
    course = [
        snap("2025-01-01", baseline=True, **base, plasmacytomas=two),
        snap("2025-02-01", **{**base, "serum": 0.8}, plasmacytomas=[lesion("L1", 2, 2), lesion("L2", 2, 2)]),
        snap("2025-03-01", **{**base, "serum": 0.8}, plasmacytomas=[lesion("L1", 2, 2)]),
    ]
    carry = msgspec.structs.replace(DEFAULT_RESPONSE_SETTINGS, imaging_carry_forward=True)
    r = run(course, carry, ["L1", "L2"])
    assert cats(r) == ["baseline", "PR", "SD"]
    assert "plasmacytoma L2 not imaged at this date — datum missing" in joined(r)


def test_by_parameter_sub_responses() -> None:
    """by_parameter: highest overall category each parameter's data allow; marrow includes IHC; null if absent."""
    cr = {"serum_ife": False, "urine_ife": False, "kappa": 1.2, "lam": 1}
    r = run(
        [
            snap("2025-01-01", baseline=True, **IGG_KAPPA),
            snap("2025-03-01", **cr, bmpc=2),
        ]
    )
    assert r.by_parameter is not None
    assert r.by_parameter.marrow == "CR"  # BMPC 2% (< 5%) but IHC clonality unknown → not sCR
    assert r.by_parameter.flc == "sCR"  # normal ratio
    assert r.by_parameter.plasmacytomas is None  # none at baseline
    r2 = run(
        [
            snap("2025-01-01", baseline=True, **IGG_KAPPA),
            snap("2025-03-01", **cr, bmpc=2, ihc_clonal=False),
            snap("2025-04-01", serum=0.1, serum_ife=True),
        ]
    )
    assert r2.by_parameter is not None
    assert r2.by_parameter.marrow == "sCR"  # carried forward: BMPC 2% and no clonal cells
    assert r2.by_parameter.urine is None  # urine (measurable at baseline) not measured at 04-01
    assert r2.by_parameter.serum == "VGPR"


def test_imwg_best_response_is_the_best_of_the_full_assessment():
    # the cohort fast path must never disagree with the full response assessment
    import json
    from pathlib import Path

    from mmemd.clinical import parse_record
    from mmemd.clinical.assessment import assess, baseline_lesions, to_snapshots
    from mmemd.clinical.response import imwg_best_response

    examples = Path(__file__).resolve().parents[2] / "examples"
    checked = 0
    for path in sorted(examples.glob("*.json")):
        record = parse_record(json.loads(path.read_text(encoding="utf-8")))
        full = assess(record).response.best
        fast = imwg_best_response(
            to_snapshots(record), baseline_lesions=baseline_lesions(record), phase=record.phase
        )
        assert fast == full, path.stem
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    ("category", "confirmed"), [("baseline", None), ("PR", True), ("PD", False), ("not_evaluable", None)]
)
def test_timeline_entry_is_what_the_validating_constructor_builds(
    category: str, confirmed: bool | None
) -> None:
    """The section builder writes each timeline entry's fields directly (no validation, one entry an assessment):
    the entry must be the one TimelineEntry(...) builds — same field dict in the same order, every field set."""
    import datetime as dt

    from mmemd.clinical._response_build import _timeline_entry
    from mmemd.clinical.response import TimelineEntry

    day = dt.date(2025, 3, 1)
    built = _timeline_entry(day, category, confirmed)
    checked = TimelineEntry(date=day, category=category, confirmed=confirmed)
    assert list(built.__dict__.items()) == list(checked.__dict__.items())
    assert built.model_fields_set == checked.model_fields_set == {"date", "category", "confirmed"}
    assert built.model_dump_json() == checked.model_dump_json()
    assert built.__pydantic_extra__ is checked.__pydantic_extra__ is None
    assert built.__pydantic_private__ is checked.__pydantic_private__ is None
