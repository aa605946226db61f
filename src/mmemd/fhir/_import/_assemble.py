"""Facts -> record blocks: the value at diagnosis, the latest value, assessments by date, free light chains."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any, Final

from mmemd.fhir import _codes as C
from mmemd.fhir._import._state import Fact, ImportState

# Assessment parameters that make a date an assessment date on their own (IMWG response parameters, §1.3). Marrow
# and blood percentages join an assessment on their date; alone, on the date chosen as "at diagnosis", they describe
# the diagnosis (docs/record.md ``diagnosis``), otherwise they form a (marrow-only) assessment.
_ANCHORS: Final = frozenset(
    {
        "serum_m_protein",
        "urine_m_protein",
        "kappa",
        "lambda",
        "circulating_plasma_cells_per_ul",
        "serum_ife",
        "urine_ife",
        "new_lesion",
        "pet_negative",
        "baseline",
        "mrd",
        "plasmacytomas",
    }
)
_LAB_FIELDS: Final = (
    "beta2_microglobulin",
    "albumin",
    "ldh",
    "creatinine",
    "calcium",
    "hemoglobin",
)
_ASSESSMENT_ORDER: Final = (
    "date",
    "baseline",
    "serum_m_protein",
    "urine_m_protein",
    "serum_ife",
    "urine_ife",
    "free_light_chains",
    "bone_marrow_plasma_cells_pct",
    "bone_marrow_clonal_by_ihc",
    "bone_marrow_kappa_lambda_ratio_ihc",
    "bone_marrow_plasma_cells_counted",
    "circulating_plasma_cells_per_ul",
    "circulating_plasma_cells_pct",
    "plasmacytomas",
    "new_lesion",
    "mrd",
    "pet_negative",
)
_CYTO_ORDER: Final = (
    "del_17p",
    "del_17p_clonal_fraction_pct",
    "tp53_mutation",
    "t_4_14",
    "t_14_16",
    "t_14_20",
    "t_11_14",
    "gain_1q",
    "del_1p32",
)
# FLC ratio normal range, inclusive (docs/criteria.md §1.2): outside it the clone's chain is the higher one.
_FLC_RATIO_LOW: Final = Decimal("0.26")
_FLC_RATIO_HIGH: Final = Decimal("1.65")


def latest(st: ImportState, fld: str) -> Any:
    facts = sorted(st.facts.get(fld, ()), key=lambda f: f.day or date.min)
    if not facts:
        return None
    last = facts[-1]
    same = [f for f in facts if f.day == last.day]
    if any(f.value != last.value for f in same):
        st.why("conflicting_values", last.path, field=fld, date=last.day)
        return None
    for f in facts:
        if f.day != last.day:
            st.why("superseded", f.path, field=fld)
    return last.value


def _pick(facts: list[Fact], fld: str, dx: date, st: ImportState) -> Fact | None:
    """The value at diagnosis: the one closest to the diagnosis date within the window; ties must agree."""
    inside = [f for f in facts if f.day is not None and abs((f.day - dx).days) <= C.DIAGNOSIS_WINDOW_DAYS]
    if not inside:
        return None
    best = min(abs((f.day - dx).days) for f in inside if f.day is not None)
    closest = [f for f in inside if f.day is not None and abs((f.day - dx).days) == best]
    if any(f.value != closest[0].value for f in closest):
        for f in closest:
            st.why("conflicting_values", f.path, field=fld, date=f.day)
            f.used = True
        return None
    for f in closest:
        f.used = True
    return closest[0]


def diagnosis_block(dx: date | None, st: ImportState) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if dx is not None:
        out["date"] = dx.isoformat()
        for src, dst in (
            ("bone_marrow_plasma_cells_pct", "clonal_bone_marrow_plasma_cells_pct"),
            ("circulating_plasma_cells_pct", "circulating_plasma_cells_pct"),
        ):
            f = _pick(st.facts.get(src, []), src, dx, st)
            if f is not None:
                out[dst] = f.value
                f.at_dx = True
    mde = latest(st, "myeloma_defining_events")
    if mde is not None:
        out["myeloma_defining_events"] = mde
    return out


def lab_blocks(dx: date | None, st: ImportState) -> tuple[dict[str, Any], dict[str, Any]]:
    labs: dict[str, Any] = {}
    current: dict[str, Any] = {}
    for fld in _LAB_FIELDS:
        facts = sorted(st.facts.get(fld, []), key=lambda f: f.day or date.min)
        if not facts:
            continue
        chosen: Fact | None = None
        if dx is not None:
            chosen = _pick(facts, fld, dx, st)
            if chosen is not None:
                labs[fld] = chosen.value
        later = [
            f
            for f in facts
            if f.day is not None and (dx is None or (f.day - dx).days > C.DIAGNOSIS_WINDOW_DAYS)
        ]
        if later:
            last = later[-1]
            same = [f for f in later if f.day == last.day]
            if any(f.value != last.value for f in same):
                for f in same:
                    st.why("conflicting_values", f.path, field=fld, date=f.day)
                    f.used = True
            else:
                current[fld] = last.value
                for f in same:
                    f.used = True
        for f in facts:
            if f.used:
                continue
            if dx is None:
                st.why("no_diagnosis_date", f.path, field=fld)
            elif f.day is not None and (dx - f.day).days > C.DIAGNOSIS_WINDOW_DAYS:
                st.why("outside_diagnosis_window", f.path, field=fld, days=C.DIAGNOSIS_WINDOW_DAYS)
            else:
                st.why("superseded", f.path, field=fld)
    return labs, current


def cytogenetics_block(dx: date | None, st: ImportState) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fld in _CYTO_ORDER:
        facts = st.facts.get(fld, [])
        if not facts:
            continue
        chosen = _pick(facts, fld, dx, st) if dx is not None else None
        if chosen is not None:
            out[fld] = chosen.value
        for f in facts:
            if f.used:
                continue
            if dx is None:
                st.why("no_diagnosis_date", f.path, field=fld)
            elif f.day is not None and abs((f.day - dx).days) > C.DIAGNOSIS_WINDOW_DAYS:
                st.why("outside_diagnosis_window", f.path, field=fld, days=C.DIAGNOSIS_WINDOW_DAYS)
            else:
                st.why("superseded", f.path, field=fld)
    return out


_NON_ANCHOR: Final = (
    "bone_marrow_plasma_cells_pct",
    "bone_marrow_clonal_by_ihc",
    "bone_marrow_kappa_lambda_ratio_ihc",
    "bone_marrow_plasma_cells_counted",
    "circulating_plasma_cells_pct",
)


def assessment_block(st: ImportState, lesion_ids: set[str]) -> list[dict[str, Any]]:
    days: set[date] = set()
    for fld in _ANCHORS:
        days.update(f.day for f in st.facts.get(fld, []) if f.day is not None)
    for fld in _NON_ANCHOR:
        for f in st.facts.get(fld, []):
            # A marrow or blood value chosen as the diagnosis value forms no assessment by itself.
            if f.day is not None and not f.at_dx:
                days.add(f.day)
    by_day: dict[date, dict[str, Any]] = {d: {"date": d.isoformat()} for d in sorted(days)}
    singles = (*_ANCHORS - {"plasmacytomas", "kappa", "lambda"}, *_NON_ANCHOR)
    for fld in singles:
        groups: dict[date, list[Fact]] = defaultdict(list)
        for f in st.facts.get(fld, []):
            if f.day is not None and f.day in by_day:
                groups[f.day].append(f)
        for d, fs in groups.items():
            if any(f.value != fs[0].value for f in fs):
                for f in fs:
                    st.why("conflicting_values", f.path, field=fld, date=d)
                continue
            by_day[d][fld] = fs[0].value
    # Plasmacytoma measurements: one per lesion per date, in bundle order.
    for f in st.facts.get("plasmacytomas", []):
        if f.day is None:
            continue
        pcs = by_day[f.day].setdefault("plasmacytomas", [])
        same = [p for p in pcs if p["lesion"] == f.value["lesion"]]
        if same:
            if same[0] != f.value:
                st.why("conflicting_values", f.path, field=f"plasmacytoma {f.value['lesion']}", date=f.day)
                pcs.remove(same[0])
            continue
        if f.value["lesion"] not in lesion_ids:
            st.why("unknown_lesion", f.path, ref=f.value["lesion"])
            continue
        pcs.append(f.value)
    _free_light_chains(st, by_day)
    out: list[dict[str, Any]] = []
    for a in by_day.values():
        if a.get("plasmacytomas") == []:
            del a["plasmacytomas"]
        out.append({k: a[k] for k in _ASSESSMENT_ORDER if k in a})
    return [a for a in out if len(a) > 1]


def _free_light_chains(st: ImportState, by_day: dict[date, dict[str, Any]]) -> None:
    from mmemd.clinical.units import to_canonical

    chains: dict[date, dict[str, Fact]] = defaultdict(dict)
    for fld in ("kappa", "lambda"):
        for f in st.facts.get(fld, []):
            if f.day is None:
                continue
            prev = chains[f.day].get(fld)
            if prev is not None and prev.value != f.value:
                st.why("conflicting_values", f.path, field=fld, date=f.day)
                chains[f.day][fld] = Fact(fld, None, None, f.path)
                continue
            chains[f.day].setdefault(fld, f)
    explicit = {f.day: f.value for f in st.facts.get("involved", []) if f.day is not None}
    patient_level = set(explicit.values())
    inferred: str | None = None
    inferred_on: date | None = None
    if len(patient_level) != 1:
        for d in sorted(chains):
            k, lam = chains[d].get("kappa"), chains[d].get("lambda")
            if k is None or lam is None or k.value is None or lam.value is None:
                continue
            kv = to_canonical("free_light_chain", Decimal(k.value["value"]), k.value["unit"])
            lv = to_canonical("free_light_chain", Decimal(lam.value["value"]), lam.value["unit"])
            if lv == 0:
                continue
            ratio = kv / lv
            if ratio > _FLC_RATIO_HIGH or ratio < _FLC_RATIO_LOW:
                inferred, inferred_on = ("kappa" if ratio > _FLC_RATIO_HIGH else "lambda"), d
                break
    reported = False
    for d, pair in sorted(chains.items()):
        involved = explicit.get(d) or (next(iter(patient_level)) if len(patient_level) == 1 else inferred)
        flc: dict[str, Any] = {k: f.value for k, f in pair.items() if f.value is not None}
        if not flc:
            continue
        if involved is None:
            for f in pair.values():
                st.why("involved_chain_unknown", f.path)
            continue
        if involved is inferred and explicit.get(d) is None and len(patient_level) != 1 and not reported:
            st.why("involved_chain_inferred", pair[next(iter(pair))].path, chain=inferred, date=inferred_on)
            reported = True
        flc["involved"] = involved
        if d in by_day:
            by_day[d]["free_light_chains"] = flc
