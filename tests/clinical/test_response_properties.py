"""Invariants of the IMWG response engine, checked with hypothesis (docs/criteria.md §1).

Category order used throughout (docs/response.md): PD < SD < MR < PR < VGPR < CR < sCR; not_evaluable is
kept apart (the generators below produce complete, measurable data so it does not arise where an order is
compared).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_response_support import cats, run

from mmemd.clinical.response import ImwgResponse
from mmemd.clinical.snapshot import PlasmacytomaMeasure, Snapshot

ORDER = {"PD": 0, "SD": 1, "MR": 2, "PR": 3, "VGPR": 4, "CR": 5, "sCR": 6}
FULL_ORDER = {"not_evaluable": -1, **ORDER}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
START = dt.date(2025, 1, 1)


def cents(lo: int, hi: int) -> st.SearchStrategy[Decimal]:
    """Exact two-decimal values in [lo/100, hi/100]."""
    return st.integers(lo, hi).map(lambda x: Decimal(x).scaleb(-2))


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def blank(day: int, **kw: Any) -> Snapshot:
    fields: dict[str, Any] = dict.fromkeys(Snapshot._fields)
    fields.update(date=START + dt.timedelta(days=30 * day), baseline=False, plasmacytomas=())
    fields.update(kw)
    return Snapshot(**fields)


# ------------------------------------------------------------------------------------------- generators


@st.composite
def lesions(draw: st.DrawFn, ids: tuple[str, ...], allow_missing: bool) -> tuple[PlasmacytomaMeasure, ...]:
    out = []
    for lid in ids:
        if allow_missing and draw(st.booleans()) and draw(st.booleans()):
            continue
        if draw(st.integers(0, 5)) == 0:
            out.append(PlasmacytomaMeasure(lid, Decimal(0), Decimal(0)))
        else:
            longest = draw(cents(10, 800))
            perp = draw(cents(10, 800).filter(lambda p, lo=longest: p <= lo))
            out.append(PlasmacytomaMeasure(lid, longest, perp))
    return tuple(draw(st.permutations(out)))


@st.composite
def any_patient(draw: st.DrawFn) -> tuple[list[Snapshot], tuple[str, ...]]:
    """Arbitrary (possibly incomplete) courses, including assessments before an explicit baseline."""
    n = draw(st.integers(1, 9))
    b = draw(st.integers(0, n - 1))
    explicit = b > 0 or draw(st.booleans())
    ids = tuple(draw(st.lists(st.sampled_from(["L1", "L2", "L3"]), unique=True, max_size=2)))
    snaps = []
    for k in range(n):
        snaps.append(
            blank(
                k,
                baseline=explicit and k == b,
                serum_m_protein_g_dl=draw(maybe(cents(0, 800))),
                urine_m_protein_mg_24h=draw(maybe(cents(0, 200000))),
                serum_ife_positive=draw(maybe(st.booleans())),
                urine_ife_positive=draw(maybe(st.booleans())),
                flc_kappa_mg_dl=draw(maybe(cents(1, 20000))),
                flc_lambda_mg_dl=draw(maybe(cents(1, 5000))),
                flc_involved=draw(maybe(st.sampled_from(["kappa", "lambda"]))),
                bone_marrow_plasma_cells_pct=draw(maybe(cents(0, 9000))),
                bone_marrow_clonal_by_ihc=draw(maybe(st.booleans())),
                bone_marrow_kappa_lambda_ratio_ihc=draw(maybe(cents(10, 1000))),
                bone_marrow_plasma_cells_counted=draw(maybe(st.integers(0, 300))),
                circulating_plasma_cells_per_ul=draw(maybe(cents(0, 100000))),
                plasmacytomas=draw(lesions(ids, allow_missing=True)),
                new_lesion=draw(maybe(st.booleans())) if k > 0 else False,
                mrd_method=draw(maybe(st.sampled_from(["NGF", "NGS"]))),
                mrd_negative=draw(maybe(st.booleans())),
                mrd_sensitivity=draw(
                    maybe(st.sampled_from([Decimal("1E-4"), Decimal("1E-5"), Decimal("1E-6")]))
                ),
                pet_negative=draw(maybe(st.booleans())),
            )
        )
    return snaps, ids


@st.composite
def complete_patient(draw: st.DrawFn) -> tuple[list[Snapshot], tuple[str, ...]]:
    """Measurable serum patient with every datum present at every assessment (for order comparisons).

    κ-involved FLC with κ/λ never below the normal lower bound, so a rise in κ only moves the ratio away
    from normal (see test_worsening_never_improves_the_category).
    """
    n = draw(st.integers(2, 7))
    ids = tuple(draw(st.lists(st.sampled_from(["L1", "L2"]), unique=True, max_size=2)))
    snaps = []
    for k in range(n):
        serum_ife = draw(st.booleans())
        urine_ife = draw(st.booleans())
        lam = draw(cents(50, 300))
        snaps.append(
            blank(
                k,
                baseline=k == 0,
                serum_m_protein_g_dl=draw(cents(100, 600)) if k == 0 else (
                    draw(cents(0, 600)) if serum_ife else Decimal(0)
                ),
                urine_m_protein_mg_24h=draw(cents(0, 100000)) if urine_ife or k == 0 else Decimal(0),
                serum_ife_positive=True if k == 0 else serum_ife,
                urine_ife_positive=True if k == 0 else urine_ife,
                flc_kappa_mg_dl=lam * draw(st.sampled_from([Decimal("0.3"), Decimal("1"), Decimal("1.6"), Decimal("5")])),
                flc_lambda_mg_dl=lam,
                flc_involved="kappa",
                bone_marrow_plasma_cells_pct=draw(cents(0, 6000)),
                bone_marrow_clonal_by_ihc=draw(st.booleans()),
                plasmacytomas=draw(lesions(ids, allow_missing=False)),
                new_lesion=False,
            )
        )  # fmt: skip
    return snaps, ids


def worsen(s: Snapshot, delta: Decimal, grow: Decimal) -> Snapshot:
    """Every parameter worse or equal: M-protein and FLC up, IFE positive, marrow up, clonal, lesions larger."""
    assert s.serum_m_protein_g_dl is not None and s.urine_m_protein_mg_24h is not None
    assert s.flc_kappa_mg_dl is not None and s.bone_marrow_plasma_cells_pct is not None
    return s._replace(
        serum_m_protein_g_dl=s.serum_m_protein_g_dl + delta,
        urine_m_protein_mg_24h=s.urine_m_protein_mg_24h + delta * 100,
        serum_ife_positive=True,
        urine_ife_positive=True,
        flc_kappa_mg_dl=s.flc_kappa_mg_dl + delta * 10,
        bone_marrow_plasma_cells_pct=s.bone_marrow_plasma_cells_pct + delta,
        bone_marrow_clonal_by_ihc=True,
        plasmacytomas=tuple(
            PlasmacytomaMeasure(m.lesion, m.longest_cm + grow, m.perpendicular_cm + grow)
            for m in s.plasmacytomas
        ),
    )


# ------------------------------------------------------------------------------------------- properties


@SETTINGS
@given(any_patient())
def test_timeline_length_equals_number_of_assessments(case: tuple[list[Snapshot], tuple[str, ...]]) -> None:
    snaps, ids = case
    r = run(snaps, lesions=ids)
    assert len(r.timeline) == len(snaps)
    assert [t.date for t in r.timeline] == [s.date for s in snaps]
    assert cats(r).count("baseline") == 1


@SETTINGS
@given(any_patient())
def test_answers_are_consistent_and_valid(case: tuple[list[Snapshot], tuple[str, ...]]) -> None:
    """current = latest timeline category; best never above the best raw category; PD/relapse flags
    are backed by the timeline; the output validates against the contract model."""
    snaps, ids = case
    r = run(snaps, lesions=ids)
    assert ImwgResponse.model_validate(r.model_dump()) == r
    post = [c for c in cats(r) if c != "baseline"]
    if cats(r)[-1] != "baseline":
        assert r.current == cats(r)[-1]
    if r.best != "not_evaluable":
        assert FULL_ORDER[r.best] <= max(FULL_ORDER[c] for c in post)
    if r.progressive_disease:
        assert r.current == "PD"
    if r.relapse_from_cr:
        assert r.best in ("CR", "sCR")
    if r.mrd is not None:
        assert r.best in ("CR", "sCR")
    assert r.reasons, "every answer carries its reasons"


@SETTINGS
@given(any_patient(), st.randoms(use_true_random=False))
def test_order_of_plasmacytomas_does_not_matter(
    case: tuple[list[Snapshot], tuple[str, ...]], rnd: Any
) -> None:
    snaps, ids = case
    shuffled = []
    for s in snaps:
        items = list(s.plasmacytomas)
        rnd.shuffle(items)
        shuffled.append(s._replace(plasmacytomas=tuple(items)))
    assert run(shuffled, lesions=ids).model_dump() == run(snaps, lesions=tuple(reversed(ids))).model_dump()


@SETTINGS
@given(
    complete_patient(),
    st.data(),
    cents(0, 300),
    cents(0, 200),
)
def test_worsening_never_improves_the_category(
    case: tuple[list[Snapshot], tuple[str, ...]], data: st.DataObject, delta: Decimal, grow: Decimal
) -> None:
    """Worsening every parameter at one assessment never gives that assessment a better category."""
    snaps, ids = case
    i = data.draw(st.integers(1, len(snaps) - 1))
    worse = [*snaps[:i], worsen(snaps[i], delta, grow), *snaps[i + 1 :]]
    new_lesion = data.draw(st.booleans())
    if new_lesion:
        worse[i] = worse[i]._replace(new_lesion=True)
    before = cats(run(snaps, lesions=ids))[i]
    after = cats(run(worse, lesions=ids))[i]
    assert ORDER[after] <= ORDER[before]
    if new_lesion:
        assert after == "PD"


@st.composite
def serum_only_decreasing(draw: st.DrawFn) -> list[Snapshot]:
    """Serum-measurable patient (urine 0) whose M-protein never rises: no PD criterion can apply."""
    base = draw(cents(100, 900))
    values = sorted(draw(st.lists(cents(0, int(base * 100)), min_size=1, max_size=6)), reverse=True)
    snaps = [
        blank(
            0,
            baseline=True,
            serum_m_protein_g_dl=base,
            urine_m_protein_mg_24h=Decimal(0),
            serum_ife_positive=True,
            urine_ife_positive=True,
        )
    ]
    for k, v in enumerate(values, start=1):
        snaps.append(
            blank(
                k,
                serum_m_protein_g_dl=v,
                urine_m_protein_mg_24h=Decimal(0),
                serum_ife_positive=draw(st.booleans()) if v == 0 else True,
                urine_ife_positive=True,
            )
        )
    return snaps  # fmt: skip


FACTORS = st.sampled_from([Decimal("1.5"), Decimal("2"), Decimal("3"), Decimal("7.25"), Decimal("10")])


@SETTINGS
@given(serum_only_decreasing(), FACTORS)
def test_scaling_serum_does_not_change_the_category(snaps: list[Snapshot], k: Decimal) -> None:
    """Scale invariance of the relative criteria (§1.3): multiplying every serum value by k ≥ 1 keeps
    measurability (≥ 1 g/dL) and every reduction; the M-protein never rises, so the absolute PD minimums
    (+0.5 g/dL, +1 g/dL from ≥ 5) cannot bind — the property is restricted to where only ratios matter."""
    scaled = [s._replace(serum_m_protein_g_dl=(s.serum_m_protein_g_dl or Decimal(0)) * k) for s in snaps]
    a, b = run(snaps), run(scaled)
    assert cats(a) == cats(b)
    assert (a.best, a.confirmed) == (b.best, b.confirmed)


@st.composite
def flc_only_decreasing(draw: st.DrawFn) -> list[Snapshot]:
    """FLC-only patient (serum and urine 0) with dFLC never rising: κ falls and λ rises from the baseline on, so
    every dFLC = κ − λ is at most the one before it (λ must not start below the baseline λ: a falling λ raises
    dFLC, and a scaled rise can then cross the > 10 mg/dL PD minimum — found by hypothesis in CI)."""
    lam0 = draw(cents(50, 300))
    kappa0 = draw(cents(1000, 20000).filter(lambda x, lo=lam0: x > lo * Decimal("1.65")))
    kappas = sorted(draw(st.lists(cents(10, int(kappa0 * 100)), min_size=1, max_size=6)), reverse=True)
    lam_floor = int(lam0 * 100)
    lams = sorted(draw(st.lists(cents(lam_floor, 300), min_size=len(kappas), max_size=len(kappas))))
    quiet = {
        "serum_m_protein_g_dl": Decimal(0),
        "urine_m_protein_mg_24h": Decimal(0),
        "serum_ife_positive": True,
        "urine_ife_positive": True,
        "flc_involved": "kappa",
    }
    snaps = [blank(0, baseline=True, flc_kappa_mg_dl=kappa0, flc_lambda_mg_dl=lam0, **quiet)]
    snaps += [
        blank(k + 1, flc_kappa_mg_dl=kv, flc_lambda_mg_dl=lv, **quiet)
        for k, (kv, lv) in enumerate(zip(kappas, lams, strict=True))
    ]
    return snaps  # fmt: skip


@SETTINGS
@given(flc_only_decreasing(), FACTORS)
def test_scaling_flc_does_not_change_the_category(snaps: list[Snapshot], k: Decimal) -> None:
    """Scaling κ and λ together keeps the κ/λ ratio, every dFLC reduction and measurability (κ ≥ 10 with
    k ≥ 1); dFLC never rises, so the > 10 mg/dL PD minimum cannot bind."""
    scaled = [
        s._replace(
            flc_kappa_mg_dl=(s.flc_kappa_mg_dl or Decimal(0)) * k,
            flc_lambda_mg_dl=(s.flc_lambda_mg_dl or Decimal(0)) * k,
        )
        for s in snaps
    ]
    a, b = run(snaps), run(scaled)
    assert cats(a) == cats(b)
    assert a.best == b.best


@SETTINGS
@given(
    sign=st.integers(0, 1),
    digits=st.lists(st.integers(0, 9), min_size=1, max_size=40).map(tuple),
    exponent=st.integers(-45, 45),
)
def test_reason_numbers_are_written_without_exponent(
    sign: int, digits: tuple[int, ...], exponent: int
) -> None:
    """The reasons write a number through ``str`` when it has no exponent form: the text must always be the
    plain ``format(v, "f")`` — trailing zeros kept, no exponent — whatever the value's sign, digits and exponent."""
    from mmemd.clinical._response_text import num

    v = Decimal((sign, digits, exponent))
    assert num(v) == format(v, "f")
    assert "E" not in num(v) and "e" not in num(v)
