"""Observations -> facts per record field: one handler per kind of target (``_codes.Target.kind``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Final

from mmemd.fhir import _codes as C
from mmemd.fhir import _tables as T
from mmemd.fhir._import._state import ImportState
from mmemd.fhir._resources import Entry, code_label, codings, parse_date, ref_of, texts, to_decimal

_USABLE_OBS_STATUS: Final = frozenset({"final", "amended", "corrected"})
_MDE: Final = (
    "hypercalcemia",
    "renal_insufficiency",
    "anemia",
    "bone_lesions",
    "marrow_plasma_cells_ge_60",
    "flc_ratio_ge_100",
    "mri_focal_lesions",
)


def _target(e: Entry, st: ImportState) -> C.Target | None:
    cc = e.resource.get("code")
    for system, code, _ in codings(cc):
        row = T.observation_code(system, code)
        if row is not None and row.target in ("histology", "disease_status"):
            return C.Target(row.target, row.target)
        if row is not None and row.target == "genomic_variant":
            return C.Target("genomic_variant", "cytogenetics")
        if system == C.NCIT and code in (C.NCIT_ISS, C.NCIT_RISS):
            # An EHR's own ISS / R-ISS stage: mmemd stages from the laboratory values.
            return C.Target("derived", "ISS / R-ISS stage")
        if system == C.LOINC:
            if code in C.REJECTED_LOINC:
                st.why("unverified_code", f"{e.path}.code", code=f"LOINC {code}", why=C.REJECTED_LOINC[code])
                return None
            if code in C.LOINC_CODES:
                return C.LOINC_CODES[code]
        elif system == C.MMEMD and code in C.MMEMD_CODES:
            return C.MMEMD_CODES[code]
    for t in texts(cc):
        fld = T.cytogenetic_field(t)
        if fld is not None:
            return C.MMEMD_CODES[fld]
    if not any(system == C.LOINC for system, _, _ in codings(cc)):  # a LOINC code says what the test is
        for t in texts(cc):
            loinc = T.loinc_from_local_name(t)
            if loinc is not None and loinc in C.LOINC_CODES:
                st.why("lab_from_local_name", f"{e.path}.code", name=t, code=f"LOINC {loinc}")
                return C.LOINC_CODES[loinc]
    for system, code, display in codings(cc):
        if system == C.LOINC and display and code not in C.LOINC_CODES:
            loinc = T.loinc_from_loinc_name(display)
            if loinc is not None and loinc in C.LOINC_CODES:
                st.why(
                    "lab_from_loinc_name", f"{e.path}.code", code=f"LOINC {code}", name=display, as_code=loinc
                )
                return C.LOINC_CODES[loinc]
    if e.resource.get("valueQuantity") is None and not any(
        system == C.LOINC and code in C.LOINC_CODES for system, code, _ in codings(cc)
    ):
        for t in texts(cc):
            ife = T.ife_from_test_name(t)
            if ife is not None and ife in C.MMEMD_CODES:
                st.why("test_from_name", f"{e.path}.code", name=t, field=ife)
                return C.MMEMD_CODES[ife]
            if T.names_disease_status(t):
                st.why("test_from_name", f"{e.path}.code", name=t, field="disease status")
                return C.Target("disease_status", "disease_status")
    if e.resource.get("component") and _component_cyto(e.resource["component"]):
        return C.MMEMD_CODES["cytogenetics"]
    if isinstance(e.resource.get("valueString"), str) and any(
        T.is_cytogenetic_report_name(t) for t in texts(cc)
    ):
        return C.Target("cyto_report", "cytogenetics")
    st.why("unknown_code", f"{e.path}.code", code=code_label(cc))
    return None


def _component_cyto(components: Sequence[Any]) -> bool:
    return any(_cyto_field(c.get("code")) for c in components if isinstance(c, Mapping))


def _cyto_field(cc: object) -> str | None:
    for system, code, _ in codings(cc):
        if system == C.MMEMD and code in (*C.CYTOGENETIC_FIELDS, "del_1p32", "del_17p_clonal_fraction_pct"):
            return code
    for t in texts(cc):
        fld = T.cytogenetic_field(t)
        if fld is not None:
            return fld
    return None


def map_observation(e: Entry, st: ImportState) -> None:
    r = e.resource
    if e.path in st.consumed:
        return  # mapped with the Condition it describes (histology)
    if any(
        isinstance(t, Mapping) and t.get("system") == C.MMEMD and t.get("code") == C.RESULT_TAG
        for t in (r.get("meta") or {}).get("tag") or []
    ):
        st.why("derived_value", f"{e.path}.meta.tag", what=f"mmemd result {code_label(r.get('code'))}")
        return
    status = r.get("status")
    if status not in _USABLE_OBS_STATUS:
        st.why("status_excluded", f"{e.path}.status", status=status)
        return
    children = _panel_members(e)
    if children:
        # A panel (FLC panel, metabolic panel, a Chinese 肝功能 / 肾功能 report as one Observation) whose own code
        # is not a record field: each component is read as the Observation it reports.
        st.why("panel_components", f"{e.path}.component", code=code_label(r.get("code")))
        for child in children:
            map_observation(child, st)
        return
    target = _target(e, st)
    if target is None:
        return
    kind, fld = target.kind, target.field
    if kind == "derived":
        st.why("derived_value", f"{e.path}.code", what=fld)
        return
    if kind == "other_method":
        st.why(
            "not_used_method",
            f"{e.path}.code",
            what=fld,
            why="IMWG marrow criteria use the morphological plasma cell percentage (11118-7)",
        )
        return
    if r.get("dataAbsentReason") is not None:
        st.why("no_value", f"{e.path}.dataAbsentReason")
        return
    day, raw_date = _effective(r)
    if day is None and raw_date is None and (day := issued_date(r)) is not None:
        st.why("date_from_issued", f"{e.path}.issued")
    if day is None:
        if raw_date is not None:
            st.why("partial_date", f"{e.path}.effectiveDateTime", value=raw_date)
        else:
            st.why("no_date", f"{e.path}.effective[x]")
        return
    if kind in _NUMERIC_KINDS and r.get("valueQuantity") is None and isinstance(r.get("valueString"), str):
        q = quantity_from_string(r["valueString"])
        if q is None:
            st.why("value_type", f"{e.path}.valueString", field=fld, expected="a number with its unit")
            return
        st.why("value_from_string", f"{e.path}.valueString", field=fld)
        e = Entry(e.path, {**r, "valueQuantity": q}, e.full_url)
    handler = _HANDLERS[kind]
    handler(e, fld, day, st)


_NUMERIC_KINDS: Final = frozenset({"quantity", "lab", "percent", "ratio"})
# A result sent as text ("3.2 g/dL", "<0.2", "35%", "１２０ μmol/L"): an optional comparator, a decimal number, an
# optional unit. Anything else (a range, words) is not a value.
_VALUE_TEXT: Final = re.compile(r"^\s*(<=|>=|<|>|≤|≥)?\s*([-+]?\d+(?:\.\d+)?)\s*([^\d\s][^\s]*)?\s*$")
_COMPARATORS: Final = {"≤": "<=", "≥": ">="}


def quantity_from_string(text: str) -> dict[str, Any] | None:
    """A FHIR Quantity from a result written as text (after NFKC, so full-width digits read), or None."""
    m = _VALUE_TEXT.match(unicodedata.normalize("NFKC", text))
    if m is None:
        return None
    q: dict[str, Any] = {"value": m[2]}
    if m[1]:
        q["comparator"] = _COMPARATORS.get(m[1], m[1])
    if m[3]:
        q["unit"] = m[3]
    return q


def _panel_members(e: Entry) -> list[Entry]:
    """The components of an Observation whose own code is not read but whose components are laboratory tests the
    import knows (by LOINC or by local name), each as an Observation of its own (path ``….component[i]``) with the
    panel's subject and dates. Empty when the Observation's own code is read (tumour size, MRD, FISH panels …)."""
    r = e.resource
    comps = r.get("component")
    if not comps or _own_code_read(r.get("code")):
        return []
    base = {k: v for k, v in r.items() if k not in ("code", "component", "referenceRange", "interpretation")}
    base = {k: v for k, v in base.items() if not k.startswith("value") and k != "dataAbsentReason"}
    if not any(isinstance(c, Mapping) and _lab_code(c.get("code")) for c in comps):
        return []
    # Every component is read (one the import does not know gets its own reason, as an entry would).
    return [
        Entry(f"{e.path}.component[{i}]", {**base, **comp})
        for i, comp in enumerate(comps)
        if isinstance(comp, Mapping)
    ]


def _own_code_read(cc: object) -> bool:
    for system, code, _ in codings(cc):
        if system == C.LOINC and code in C.LOINC_CODES:
            return True
        if system == C.MMEMD and code in C.MMEMD_CODES:
            return True
        if T.observation_code(system, code) is not None:
            return True
    return any(T.cytogenetic_field(t) or T.is_cytogenetic_report_name(t) for t in texts(cc))


def _lab_code(cc: object) -> bool:
    """A component code that is a numeric laboratory test the import reads."""
    for system, code, display in codings(cc):
        if system == C.LOINC and code in C.LOINC_CODES:
            return C.LOINC_CODES[code].kind in (*_NUMERIC_KINDS, "derived")
        if system == C.LOINC and display and T.loinc_from_loinc_name(display) in C.LOINC_CODES:
            return True
    return any(T.loinc_from_local_name(t) in C.LOINC_CODES for t in texts(cc))


def _effective(r: Mapping[str, Any]) -> tuple[date | None, Any]:
    for key in ("effectiveDateTime", "effectiveInstant"):
        if r.get(key) is not None:
            return parse_date(r[key])[0], r[key]
    p = r.get("effectivePeriod")
    if isinstance(p, Mapping) and p.get("start") is not None:
        return parse_date(p["start"])[0], p["start"]
    return None, None


def issued_date(r: Mapping[str, Any]) -> date | None:
    """``Observation.issued`` (when the result was released): the date used when no ``effective[x]`` is given."""
    return parse_date(r.get("issued"))[0]


def _quantity_value(q: object, path: str, fld: str, st: ImportState) -> Decimal | None:
    """The exact value of a FHIR Quantity, or a reason why there is none (not a Quantity, a comparator such as
    "<0.5" that is not a value, no value)."""
    if not isinstance(q, Mapping):
        st.why("value_type", path, field=fld, expected="valueQuantity")
        return None
    if q.get("comparator"):
        st.why("comparator", f"{path}.comparator", comparator=q["comparator"])
        return None
    value = to_decimal(q.get("value"))
    if value is None:
        st.why("no_value", f"{path}.value")
        return None
    return value


def _quantity(q: object, path: str, fld: str, st: ImportState) -> dict[str, Any] | None:
    """A FHIR Quantity as a record quantity of ``fld`` (exact; units per ``_codes.record_unit``)."""
    value = _quantity_value(q, path, fld, st)
    if value is None or not isinstance(q, Mapping):
        return None
    ucum = q.get("code") if q.get("system") in (C.UCUM, None) and q.get("code") else q.get("unit")
    unit = str(ucum) if ucum is not None else ""
    m = C.record_unit(fld, unit)
    if m is None:
        st.why("unknown_unit", f"{path}.code", unit=unit, field=fld, accepted=C.accepted_units(fld))
        return None
    if m.factor != 1:
        value = value * m.factor
        st.why("unit_converted", f"{path}.code", field=fld, src=unit, dst=m.unit)
    return {"value": _clean(value), "unit": m.unit}


def _clean(d: Decimal) -> Decimal:
    # The value as written (3.0 stays 3.0); a positive exponent from a conversion factor (5E+2) becomes 500.
    exp = d.as_tuple().exponent
    return d.quantize(Decimal(1)) if isinstance(exp, int) and exp > 0 else d


def _plain_number(
    q: object, path: str, fld: str, units: Mapping[str, Decimal], st: ImportState
) -> Decimal | None:
    value = _quantity_value(q, path, fld, st)
    if value is None or not isinstance(q, Mapping):
        return None
    unit = str(q.get("code") or q.get("unit") or "")
    f = units.get(unit)
    if f is None:
        st.why(
            "unknown_unit",
            f"{path}.code",
            unit=unit,
            field=fld,
            accepted=", ".join(k or "(none)" for k in units),
        )
        return None
    return _clean(value * f)


# "%" and UCUM's annotated forms a laboratory writes for a percentage of counted cells.
_PERCENT: Final = {
    "%": Decimal(1),
    "%{cells}": Decimal(1),
    "/100{cells}": Decimal(1),
    "/100{WBCs}": Decimal(1),
}
_RATIO: Final = {"": Decimal(1), "1": Decimal(1), "{ratio}": Decimal(1)}
_FRACTION: Final = {"": Decimal(1), "1": Decimal(1), "%": Decimal("0.01")}


def _finding(value_holder: Mapping[str, Any]) -> bool | None:
    """Detected/positive -> True, not detected/negative -> False, else None (valueCodeableConcept/String/Boolean)."""
    if isinstance(value_holder.get("valueBoolean"), bool):
        return bool(value_holder["valueBoolean"])
    cc = value_holder.get("valueCodeableConcept")
    for system, code, _ in codings(cc):
        if (system, code) in C.POSITIVE_CODES:
            return True
        if (system, code) in C.NEGATIVE_CODES:
            return False
    candidates = texts(cc)
    if isinstance(value_holder.get("valueString"), str):
        candidates.append(value_holder["valueString"])
    for t in candidates:
        n = t.strip().lower()
        if n in C.POSITIVE_TEXT:
            return True
        if n in C.NEGATIVE_TEXT:
            return False
    return None


def _value_text(holder: Mapping[str, Any]) -> list[str]:
    out = [c for _, c, _ in codings(holder.get("valueCodeableConcept")) if c]
    out += texts(holder.get("valueCodeableConcept"))
    if isinstance(holder.get("valueString"), str):
        out.append(holder["valueString"])
    if isinstance(holder.get("valueCode"), str):
        out.append(holder["valueCode"])
    return out


def _h_quantity(e: Entry, fld: str, day: date, st: ImportState) -> None:
    q = _quantity(e.resource.get("valueQuantity"), f"{e.path}.valueQuantity", fld, st)
    if q is None:
        return
    if fld == "circulating_plasma_cells_per_ul":
        st.add(fld, day, q["value"], e.path)
    else:
        st.add(fld, day, q, e.path)


def _h_lab(e: Entry, fld: str, day: date, st: ImportState) -> None:
    q = _quantity(e.resource.get("valueQuantity"), f"{e.path}.valueQuantity", fld, st)
    if q is None:
        return
    if fld == "ldh":
        for i, rr in enumerate(e.resource.get("referenceRange") or []):
            high = rr.get("high") if isinstance(rr, Mapping) else None
            if isinstance(high, Mapping):
                h = _quantity(high, f"{e.path}.referenceRange[{i}].high", fld, st)
                if h is not None and h["unit"] == q["unit"]:
                    q["upper_limit_normal"] = h["value"]
                break
    st.add(fld, day, q, e.path)


def _h_percent(e: Entry, fld: str, day: date, st: ImportState) -> None:
    v = _plain_number(e.resource.get("valueQuantity"), f"{e.path}.valueQuantity", fld, _PERCENT, st)
    if v is not None:
        st.add(fld, day, v, e.path)


def _h_ratio(e: Entry, fld: str, day: date, st: ImportState) -> None:
    v = _plain_number(e.resource.get("valueQuantity"), f"{e.path}.valueQuantity", fld, _RATIO, st)
    if v is not None:
        st.add(fld, day, v, e.path)


def _integer(r: Mapping[str, Any]) -> int | None:
    if isinstance(r.get("valueInteger"), int) and not isinstance(r.get("valueInteger"), bool):
        return int(r["valueInteger"])
    q = r.get("valueQuantity")
    if isinstance(q, Mapping):
        d = to_decimal(q.get("value"))
        if d is not None and d == d.to_integral_value():
            return int(d)
    return None


def _h_count(e: Entry, fld: str, day: date, st: ImportState) -> None:
    v = _integer(e.resource)
    if v is None:
        st.why("value_type", f"{e.path}.value[x]", field=fld, expected="valueInteger")
        return
    st.add(fld, day, v, e.path)


def _h_ecog(e: Entry, fld: str, day: date, st: ImportState) -> None:
    v = _integer(e.resource)
    if v is None:  # an answer code (mCODE: LOINC LA9622-7 ... or a SNOMED ECOG grade)
        v = next(
            (
                g
                for s, c, _ in codings(e.resource.get("valueCodeableConcept"))
                if (g := T.ecog_answer(s, c)) is not None
            ),
            None,
        )
    if v is None or not 0 <= v <= 5:
        st.why("value_type", f"{e.path}.value[x]", field="ecog", expected="valueInteger 0-5")
        return
    st.add(fld, day, v, e.path)


def _h_bool(e: Entry, fld: str, day: date, st: ImportState) -> None:
    v = e.resource.get("valueBoolean")
    if not isinstance(v, bool):
        v = _finding(e.resource)
    if v is None:
        st.why("value_type", f"{e.path}.value[x]", field=fld, expected="valueBoolean")
        return
    st.add(fld, day, v, e.path)


def _h_ife(e: Entry, fld: str, day: date, st: ImportState) -> None:
    v = _finding(e.resource)
    if v is None and "valueBoolean" not in e.resource:
        # Free text ("IgG kappa monoclonal band", "阴性", "未见M蛋白"): the documented pattern table.
        found = {T.ife_from_text(t) for t in _value_text(e.resource)} - {None}
        if len(found) == 1:
            v = found == {"positive"}
            st.why("ife_from_text", f"{e.path}.value[x]", value=next(iter(found)))
    if v is None or "valueBoolean" in e.resource:
        st.why(
            "unknown_value",
            f"{e.path}.value[x]",
            field=fld,
            value=_value_text(e.resource),
            accepted="positive|negative",
        )
        return
    st.add(fld, day, "positive" if v else "negative", e.path)


def _h_involved(e: Entry, fld: str, day: date, st: ImportState) -> None:
    for t in _value_text(e.resource):
        n = t.strip().lower()
        if n in ("kappa", "κ"):
            st.add(fld, day, "kappa", e.path)
            return
        if n in ("lambda", "λ"):
            st.add(fld, day, "lambda", e.path)
            return
    st.why(
        "unknown_value",
        f"{e.path}.value[x]",
        field=fld,
        value=_value_text(e.resource),
        accepted="kappa|lambda",
    )


def _h_mrd(e: Entry, fld: str, day: date, st: ImportState) -> None:
    r = e.resource
    mrd: dict[str, Any] = {}
    method_cc = r.get("method")
    for system, code, _ in codings(method_cc):
        if system == C.MMEMD and code in ("NGF", "NGS"):
            mrd["method"] = code
    if "method" not in mrd:
        for t in texts(method_cc):
            low = t.lower()
            if "ngs" in low or "sequencing" in low:
                mrd["method"] = "NGS"
            elif "ngf" in low or "flow" in low:
                mrd["method"] = "NGF"
    if method_cc is not None and "method" not in mrd:
        st.why(
            "unknown_value",
            f"{e.path}.method",
            field="mrd.method",
            value=code_label(method_cc),
            accepted="NGF|NGS",
        )
    neg = _finding(r)
    if neg is not None:
        mrd["negative"] = not neg
    elif any(k.startswith("value") for k in r):
        st.why(
            "unknown_value",
            f"{e.path}.value[x]",
            field="mrd",
            value=_value_text(r),
            accepted="positive|negative",
        )
    for i, comp in enumerate(r.get("component") or []):
        if any(s == C.MMEMD and c == C.MRD_SENSITIVITY for s, c, _ in codings(comp.get("code"))):
            v = _plain_number(
                comp.get("valueQuantity"),
                f"{e.path}.component[{i}].valueQuantity",
                "mrd.sensitivity",
                _FRACTION,
                st,
            )
            if v is not None:
                mrd["sensitivity"] = v
        else:
            st.why("unknown_code", f"{e.path}.component[{i}].code", code=code_label(comp.get("code")))
    if mrd:
        st.add(fld, day, {k: mrd[k] for k in ("method", "negative", "sensitivity") if k in mrd}, e.path)


def _h_tumor_size(e: Entry, fld: str, day: date, st: ImportState) -> None:
    r = e.resource
    dims: dict[str, Decimal] = {}
    for i, comp in enumerate(r.get("component") or []):
        cs = [c for s, c, _ in codings(comp.get("code")) if s == C.LOINC]
        key = (
            "longest_cm"
            if C.LOINC_LONGEST in cs
            else "perpendicular_cm"
            if C.LOINC_PERPENDICULAR in cs
            else None
        )
        if key is None:
            st.why("unknown_code", f"{e.path}.component[{i}].code", code=code_label(comp.get("code")))
            continue
        v = _plain_number(
            comp.get("valueQuantity"), f"{e.path}.component[{i}].valueQuantity", key, C.LENGTH_CM, st
        )
        if v is not None:
            dims[key] = v
    if len(dims) != 2:
        st.why("incomplete_measurement", f"{e.path}.component")
        return
    focus = [ref_of(f) for f in r.get("focus") or []]
    lesion = next((st.lesion_ids[f] for f in focus if f and f in st.lesion_ids), None)
    if lesion is None:
        st.why("unknown_lesion", f"{e.path}.focus", ref=", ".join(f for f in focus if f) or "(no focus)")
        return
    st.add(fld, day, {"lesion": lesion, **dims}, e.path)


def _h_mde(e: Entry, fld: str, day: date, st: ImportState) -> None:
    events: list[str] = []
    comps = e.resource.get("component") or []
    for i, comp in enumerate(comps):
        code = next((c for s, c, _ in codings(comp.get("code")) if s == C.MMEMD and c in _MDE), None)
        if code is None or not isinstance(comp.get("valueBoolean"), bool):
            st.why("unknown_code", f"{e.path}.component[{i}]", code=code_label(comp.get("code")))
            continue
        if comp["valueBoolean"]:
            events.append(code)
    if not comps:
        st.why("no_value", f"{e.path}.component")
        return
    st.add(fld, day, events, e.path)


def _unknown_value(st: ImportState, path: str, fld: str, holder: Mapping[str, Any], accepted: str) -> None:
    st.why("unknown_value", f"{path}.value[x]", field=fld, value=_value_text(holder), accepted=accepted)


def _cyto_value(fld: str, holder: Mapping[str, Any], path: str, st: ImportState) -> Any:
    if fld == "del_17p_clonal_fraction_pct":
        return _plain_number(holder.get("valueQuantity"), f"{path}.valueQuantity", fld, _PERCENT, st)
    if fld == "del_1p32":
        for t in _value_text(holder):
            n = t.strip().lower()
            if n in ("none", "monoallelic", "biallelic"):
                return n
        if _finding(holder) is False:
            return "none"
        _unknown_value(st, path, fld, holder, "none|monoallelic|biallelic (or not detected)")
        return None
    v = _finding(holder)
    if v is None:
        _unknown_value(st, path, fld, holder, "detected|not detected")
    return v


def _h_cyto(e: Entry, fld: str, day: date, st: ImportState) -> None:
    v = _cyto_value(fld, e.resource, e.path, st)
    if v is not None:
        st.add(fld, day, v, e.path)


def _h_cyto_panel(e: Entry, fld: str, day: date, st: ImportState) -> None:
    for i, comp in enumerate(e.resource.get("component") or []):
        path = f"{e.path}.component[{i}]"
        f = _cyto_field(comp.get("code"))
        if f is None:
            st.why("unknown_code", f"{path}.code", code=code_label(comp.get("code")))
            continue
        v = _cyto_value(f, comp, path, st)
        if v is not None:
            st.add(f, day, v, path)


def _h_cyto_report(e: Entry, fld: str, day: date, st: ImportState) -> None:
    """A FISH / karyotype report as text: each clause naming a finding (``text_patterns.yaml``)."""
    path = f"{e.path}.valueString"
    findings = T.cytogenetic_findings(e.resource["valueString"])
    if not findings:
        st.why("unknown_value", path, field=fld, value="report text", accepted="a named cytogenetic finding")
        return
    said: dict[str, set[bool]] = {}
    for f, v in findings:
        said.setdefault(f, set()).add(v)
    for f, vs in said.items():
        if len(vs) == 1:  # a report that says both (detected and not detected) gives no value
            st.add(f, day, vs.pop(), path)
            st.why("cytogenetics_from_text", path, field=f)
        else:
            st.why("conflicting_values", path, field=f, date=day.isoformat())


# The kind of change a variant's DNA change type (Sequence Ontology display, text) or HGVS names, as the words the
# cytogenetics pattern table reads: a loss, a gain or a fusion; any other change of TP53 is a TP53 mutation.
_CHANGE_WORDS: Final = (
    (re.compile(r"copy[_ ]number[_ ]loss|deletion|del\b|loss|缺失", re.I), "deletion"),
    (re.compile(r"copy[_ ]number[_ ]gain|amplification|duplication|gain|dup\b|扩增|增加", re.I), "gain"),
    (re.compile(r"fusion|translocation|rearrangement|融合|易位", re.I), "fusion"),
)


def _variant_phrases(r: Mapping[str, Any]) -> list[str]:
    """What a genomic variant Observation reports, as phrases the cytogenetics table reads: "<location> <change>",
    "<gene> <change>", "<gene>/<gene> fusion", "TP53 mutation", plus any text it carries (ISCN, a display)."""
    genes: list[str] = []
    locations: list[str] = []
    changes: list[str] = []
    raw: list[str] = []
    for comp in r.get("component") or []:
        if not isinstance(comp, Mapping):
            continue
        role = next(
            (
                row.target
                for s, c, _ in codings(comp.get("code"))
                if (row := T.observation_code(s, c)) is not None
            ),
            None,
        )
        values = [t for t in _value_text(comp) if t and not t.upper().startswith("HGNC:")]
        if role == "variant_gene":
            genes += values[:1]
        elif role == "variant_location":
            locations += values[:1]
        elif role == "variant_change":
            changes += values
        else:
            raw += values
    # A variant or FISH result may name its abnormality only in its own code's text / display ("del(17p13.1) TP53
    # deletion", "t(4;14)(p16;q32) IGH/FGFR3 fusion"), in a text value or in a note.
    raw += _own_texts(r)
    kind = next((w for c in changes for p, w in _CHANGE_WORDS if p.search(c)), None)
    phrases: list[str] = []
    if kind == "fusion" and len(genes) >= 2:
        phrases.append(f"{genes[0]}/{genes[1]} fusion")
    if kind is not None:
        phrases += [f"{x} {kind}" for x in (*locations, *genes)]
    elif any(g.upper() == "TP53" for g in genes) and changes:
        phrases.append("TP53 mutation")
    return phrases + raw


def _own_texts(r: Mapping[str, Any]) -> list[str]:
    """An Observation's code text and displays, its ``valueString`` and its notes."""
    return texts(r.get("code")) + _said(r)


def _said(r: Mapping[str, Any]) -> list[str]:
    """An Observation's ``valueString`` and its notes."""
    out = [r["valueString"]] if isinstance(r.get("valueString"), str) else []
    return out + [str(n["text"]) for n in r.get("note") or [] if isinstance(n, Mapping) and n.get("text")]


def _variant_present(r: Mapping[str, Any], found: str) -> bool | None:
    """Whether a variant is present: its value (Present / Absent, detected / not detected), else its
    interpretation (positive / negative), else what its text value or notes say of the abnormality."""
    v = _finding(r)
    if v is not None:
        return v
    for interp in r.get("interpretation") or []:
        if (v := _finding({"valueCodeableConcept": interp})) is not None:
            return v
    said = {d for t in _said(r) for f, d in T.cytogenetic_findings(t) if f == found}
    return said.pop() if len(said) == 1 else None


# The kind of change each abnormality is: a studied gene gives its finding only when the variant names that kind of
# change, or none (a FISH probe result).
_FIELD_CHANGE: Final = {
    "t_4_14": "fusion",
    "t_11_14": "fusion",
    "t_14_16": "fusion",
    "t_14_20": "fusion",
    "del_17p": "deletion",
    "del_1p32": "deletion",
    "gain_1q": "gain",
}


def _studied_gene_finding(r: Mapping[str, Any]) -> str | None:
    """The finding a variant's "Gene studied" component tests (HGNC id or gene name; ``studied_genes`` table), when
    the variant's change type is that finding's kind of change or is not given."""
    field: str | None = None
    changes: list[str] = []
    for comp in r.get("component") or []:
        if not isinstance(comp, Mapping):
            continue
        roles = {
            row.target
            for s, c, _ in codings(comp.get("code"))
            if (row := T.observation_code(s, c)) is not None
        }
        if "variant_gene" in roles and field is None:
            cc = comp.get("valueCodeableConcept")
            candidates = [(c, d) for _, c, d in codings(cc)] + [(None, t) for t in _value_text(comp)]
            field = next((f for c, d in candidates if (f := T.studied_gene_field(c, d)) is not None), None)
        elif "variant_change" in roles:
            changes += _value_text(comp)
    if field is None:
        return None
    kinds = {w for c in changes for p, w in _CHANGE_WORDS if p.search(c)}
    return field if not changes or _FIELD_CHANGE[field] in kinds else None


def _h_genomic_variant(e: Entry, fld: str, day: date, st: ImportState) -> None:
    """A genomic variant Observation (Genomics Reporting / mCODE GenomicVariant, LOINC 69548-6): its gene, cytogenetic
    location and change type read as one cytogenetic finding (pattern table); value Present / Absent (no value:
    the variant is reported, so present)."""
    r = e.resource
    found = next((f for p in _variant_phrases(r) if (f := T.cytogenetic_field(p)) is not None), None)
    if found is None:
        found = _studied_gene_finding(r)
    if found is None:
        st.why(
            "unknown_value",
            f"{e.path}.component",
            field=fld,
            value="variant",
            accepted="a myeloma cytogenetic finding",
        )
        return
    present = _variant_present(r, found)
    if present is None and any(k.startswith("value") for k in r):
        _unknown_value(st, e.path, found, r, "present|absent")
        return
    if found == "del_1p32" and present is not False:
        # del(1p32) is recorded as none / monoallelic / biallelic: a reported deletion does not say which.
        st.why(
            "unknown_value",
            f"{e.path}.component",
            field=found,
            value="deletion",
            accepted="monoallelic|biallelic",
        )
        return
    value: Any = "none" if found == "del_1p32" else present is not False
    st.add(found, day, value, e.path)
    st.why("cytogenetics_from_variant", f"{e.path}.component", field=found)


def _h_patient_bool(e: Entry, fld: str, day: date, st: ImportState) -> None:
    _h_bool(e, fld, day, st)


def _h_histology(e: Entry, fld: str, day: date, st: ImportState) -> None:
    # Reached only when no Condition in the input refers to it or is referred to by it (linked ones are consumed).
    st.why("histology_unlinked", f"{e.path}.focus")


def _h_disease_status(e: Entry, fld: str, day: date, st: ImportState) -> None:
    """mCODE CancerDiseaseStatus: "worsened" is progression; any other answer is kept as not-progression."""
    cc = e.resource.get("valueCodeableConcept")
    cs = codings(cc)
    said = texts(cc) + ([e.resource["valueString"]] if isinstance(e.resource.get("valueString"), str) else [])
    if not cs and not said:
        st.why("value_type", f"{e.path}.value[x]", field="disease status", expected="valueCodeableConcept")
        return
    worsened = any(
        (row := T.observation_code(s, c)) is not None and row.target == "status_worsened" for s, c, _ in cs
    ) or (not cs and any(T.says_worsened(t) for t in said))
    st.add("disease_status_worsened", day, worsened, e.path)


_HANDLERS: Final = {
    "histology": _h_histology,
    "disease_status": _h_disease_status,
    "quantity": _h_quantity,
    "lab": _h_lab,
    "percent": _h_percent,
    "ratio": _h_ratio,
    "count": _h_count,
    "ecog": _h_ecog,
    "bool": _h_bool,
    "patient_bool": _h_patient_bool,
    "no_plasmacytoma": _h_bool,
    "ife": _h_ife,
    "involved": _h_involved,
    "mrd": _h_mrd,
    "tumor_size": _h_tumor_size,
    "mde": _h_mde,
    "cyto": _h_cyto,
    "cyto_fraction": _h_cyto,
    "del_1p32": _h_cyto,
    "cyto_panel": _h_cyto_panel,
    "cyto_report": _h_cyto_report,
    "genomic_variant": _h_genomic_variant,
}
