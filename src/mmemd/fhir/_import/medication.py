"""MedicationStatement and Procedure -> ``therapy_history`` lines."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from mmemd.fhir import _codes as C
from mmemd.fhir._import._state import ImportState
from mmemd.fhir._resources import (
    Entry,
    code_label,
    codings,
    extension,
    parse_date,
    ref_of,
    sub_extensions,
    texts,
)

_EXCLUDED_MED_STATUS: Final = frozenset({"entered-in-error", "not-taken", "intended"})
_EXCLUDED_PROC_STATUS: Final = frozenset({"entered-in-error", "not-done", "preparation"})
_RESPONSES: Final = frozenset({"sCR", "CR", "VGPR", "PR", "MR", "SD", "PD", "not_evaluable"})


def _therapy_id(e: Entry, by_ref: Mapping[str, Entry], st: ImportState) -> str | None:
    r = e.resource
    if e.rtype == "MedicationStatement":
        cc = r.get("medicationCodeableConcept")
        ref = ref_of(r.get("medicationReference"))
        path = f"{e.path}.medicationCodeableConcept"
        if cc is None and ref is not None:
            med = by_ref.get(ref)
            if med is None:
                st.why("unresolved_reference", f"{e.path}.medicationReference", ref=ref)
                return None
            cc, path = med.resource.get("code"), f"{med.path}.code"
    else:
        cc, path = r.get("code"), f"{e.path}.code"
    current, legacy = C.atc_agents()
    from mmemd.knowledge import vocabulary

    ids = vocabulary().therapy_ids
    for system, code, _ in codings(cc):
        if system == C.ATC and code in current:
            return current[code]
        if system == C.ATC and code in legacy:
            st.why("legacy_atc", path, code=code, agent=legacy[code])
            return legacy[code]
        if system == C.MMEMD and code in ids:
            return code
    for t in texts(cc):
        tid = C.therapy_from_text(t)
        if tid is not None:
            return tid
    st.why("unknown_agent", path, what=code_label(cc))
    return None


def _start(e: Entry) -> date | None:
    r = e.resource
    for key in ("effectiveDateTime", "performedDateTime"):
        if r.get(key) is not None:
            return parse_date(r[key])[0]
    for key in ("effectivePeriod", "performedPeriod"):
        p = r.get(key)
        if isinstance(p, Mapping) and p.get("start") is not None:
            return parse_date(p["start"])[0]
    return None


@dataclass
class _Line:
    number: int | None
    start: date | None
    agents: list[str] = field(default_factory=list)
    refractory_agents: list[str] = field(default_factory=list)
    best: dict[str, set[Any]] = field(default_factory=lambda: defaultdict(set))
    paths: list[str] = field(default_factory=list)


def map_therapy(therapies: list[Entry], by_ref: Mapping[str, Entry], st: ImportState) -> None:
    explicit: dict[int, _Line] = {}
    loose: list[tuple[Entry, str, date]] = []
    for e in therapies:
        status = e.resource.get("status")
        excluded = _EXCLUDED_MED_STATUS if e.rtype == "MedicationStatement" else _EXCLUDED_PROC_STATUS
        if status in excluded:
            st.why("status_excluded", f"{e.path}.status", status=status)
            continue
        tid = _therapy_id(e, by_ref, st)
        if tid is None:
            continue
        start = _start(e)
        ext = extension(e.resource, C.EXT_THERAPY_LINE)
        values = sub_extensions(ext) if ext else {}
        number = values.get("line")
        if isinstance(number, int) and not isinstance(number, bool) and number >= 1:
            line = explicit.setdefault(number, _Line(number, start))
            if start is not None and (line.start is None or start < line.start):
                line.start = start
            line.agents.append(tid)
            line.paths.append(e.path)
            if values.get("agent_refractory") is True and tid not in line.refractory_agents:
                line.refractory_agents.append(tid)
            for key in ("best_response", "refractory"):
                if key in values:
                    line.best[key].add(values[key])
        elif start is None:
            st.why("no_start_date", e.path)
        else:
            loose.append((e, tid, start))

    # Without the extension: medications started on the same day form a line; a procedure joins the latest line
    # started on or before its date (a transplant or radiotherapy belongs to the line it consolidates) [I].
    inferred: list[_Line] = []
    for e, tid, start in sorted(
        loose, key=lambda x: (x[2], x[0].rtype == "Procedure")
    ):  # medications first on a day
        target = None
        if e.rtype == "Procedure":
            earlier = [ln for ln in inferred if ln.start is not None and ln.start <= start]
            target = earlier[-1] if earlier else None
        else:
            target = next((ln for ln in inferred if ln.start == start), None)
        if target is None:
            target = _Line(None, start)
            inferred.append(target)
        target.agents.append(tid)
        target.paths.append(e.path)
    first_free = max(explicit, default=0) + 1
    for i, ln in enumerate(sorted(inferred, key=lambda x: x.start or date.min)):
        ln.number = first_free + i
        for p in ln.paths:
            st.why("therapy_line_inferred", p, line=ln.number)

    for ln in sorted([*explicit.values(), *inferred], key=lambda x: x.number or 0):
        out: dict[str, Any] = {"line": ln.number, "agents": ln.agents}
        if ln.start is not None:
            out["start"] = ln.start.isoformat()
        for key in ("best_response", "refractory"):
            vals = ln.best.get(key, set())
            if len(vals) > 1:
                st.why(
                    "conflicting_values", ln.paths[0], field=f"line {ln.number} {key}", date="(therapy line)"
                )
            elif vals:
                v = next(iter(vals))
                ok = v in _RESPONSES if key == "best_response" else isinstance(v, bool)
                if ok:
                    out[key] = v
                else:
                    st.why(
                        "unknown_value", ln.paths[0], field=key, value=v, accepted="IMWG category / boolean"
                    )
        if ln.refractory_agents:
            out["refractory_agents"] = ln.refractory_agents
        st.add("therapy_history", ln.start, out, ln.paths[0])
