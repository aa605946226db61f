"""MedicationStatement, MedicationRequest, MedicationAdministration and Procedure -> ``therapy_history`` lines.

Line rule without mmemd's therapy-line extension (docs/fhir.md, "Therapy lines"), applied in start-date order: a
medication opens a new line when its agent is not in the current line and it starts more than
``LINE_JOIN_DAYS`` after the line's start, or when progression was recorded after the current line started; a
repeat of an agent already in the line (the next cycle's order) continues it; medications started on the same day
are one regimen and open or join a line together; a procedure joins the latest line
started on or before its date (a transplant consolidates the line it follows), except CAR-T, a line of its own; a
maintenance agent alone (lenalidomide, thalidomide, bortezomib, ixazomib; no dexamethasone) started after a
combination line without progression is maintenance and joins it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from mmemd.fhir import _codes as C
from mmemd.fhir import _tables as T
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
# MedicationRequest: an order never given or withdrawn; MedicationAdministration: not given.
_EXCLUDED_REQUEST_STATUS: Final = frozenset({"entered-in-error", "cancelled", "draft"})
_EXCLUDED_REQUEST_INTENT: Final = frozenset({"proposal", "plan"})
_EXCLUDED_ADMIN_STATUS: Final = frozenset({"entered-in-error", "not-done"})
MEDICATIONS: Final = ("MedicationStatement", "MedicationRequest", "MedicationAdministration")
# A new agent started within this many days of a line's start joins it (a combination started over the first cycle,
# e.g. daratumumab added on day 8) [I]: one 28-day cycle, the common myeloma cycle length.
LINE_JOIN_DAYS: Final = 28
_EXCLUDED_PROC_STATUS: Final = frozenset({"entered-in-error", "not-done", "preparation"})
_RESPONSES: Final = frozenset({"sCR", "CR", "VGPR", "PR", "MR", "SD", "PD", "not_evaluable"})


def _therapy_id(e: Entry, by_ref: Mapping[str, Entry], st: ImportState) -> str | tuple[str, ...] | None:
    r = e.resource
    if e.rtype in MEDICATIONS:
        cc = r.get("medicationCodeableConcept")
        ref = ref_of(r.get("medicationReference"))
        path = f"{e.path}.medicationCodeableConcept"
        if cc is None and ref is not None:
            med = by_ref.get(ref) or _contained(e, ref)
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
        # A SNOMED CT procedure or an RxNorm ingredient concept listed in the reviewed tables.
        tid = T.therapy_code(system, code, "procedure" if e.rtype == "Procedure" else "agent")
        if tid in ids:
            return tid
    for t in texts(cc):
        tid = C.therapy_from_text(t)
        if tid is not None:
            return tid
    if e.rtype == "Procedure":
        for t in texts(cc):
            tid = T.procedure_from_text(t)
            if tid in ids:
                st.why("procedure_from_text", path, name=t, procedure=tid)
                return tid
        unspecified = any(T.therapy_code(s, c, "transplant_unspecified") for s, c, _ in codings(cc)) or any(
            T.procedure_from_text(t) == "transplant_unspecified" for t in texts(cc)
        )
        if unspecified and "asct" in ids:
            # Neither autologous nor allogeneic said: the transplant myeloma patients receive [I].
            st.why("transplant_type_assumed", path, what=code_label(cc))
            return "asct"
    # A product name (RxNorm SCD/SBD display, NMPA product name) names its ingredient.
    for t in texts(cc):
        found = C.agents_in_product_name(t)
        if len(found) == 1:
            agent = next(iter(found))
            st.why("agent_from_product_name", path, name=t, agent=agent)
            return agent
    # A regimen: its name or abbreviation in the vocabulary (VRd, 来那度胺-硼替佐米-地塞米松, "DRd regimen"), or a text
    # naming several agents ("bortezomib + lenalidomide + dexamethasone", 硼替佐米+来那度胺+地塞米松).
    for t in texts(cc):
        agents = C.regimen_from_text(t) or tuple(sorted(C.agents_in_product_name(t)))
        agents = tuple(a for a in agents if a in ids)
        if len(agents) >= 2:
            st.why("agents_from_regimen", path, name=t, agents=", ".join(agents))
            return agents
    st.why("unknown_agent", path, what=code_label(cc))
    return None


# The agents given as maintenance after induction (alone, without dexamethasone) [I].
MAINTENANCE_AGENTS: Final = frozenset({"lenalidomide", "thalidomide", "bortezomib", "ixazomib"})


def _maintenance(group: list[tuple[Entry, str]], current: _Line) -> bool:
    """A maintenance agent alone (no dexamethasone: a steroid with it makes it a treatment regimen) started after a
    combination line, without recorded progression: maintenance, part of that line (IMWG counts induction,
    transplant, consolidation and maintenance as one line) [I]."""
    agents = {tid for _, tid in group}
    before = set(current.agents) - {"dexamethasone"}
    return len(agents) == 1 and agents <= MAINTENANCE_AGENTS and len(before) >= 2


def _is_regimen(tid: str) -> bool:
    from mmemd.knowledge import vocabulary

    proc = vocabulary().procedures.get(tid)
    return proc is None or proc.cls == "car_t"


def _contained(e: Entry, ref: str) -> Entry | None:
    """A local reference ``#id`` to a resource contained in ``e`` (a contained Medication)."""
    if not ref.startswith("#"):
        return None
    for i, c in enumerate(e.resource.get("contained") or []):
        if isinstance(c, Mapping) and c.get("id") == ref[1:]:
            return Entry(f"{e.path}.contained[{i}]", c)
    return None


def _excluded(e: Entry, st: ImportState) -> bool:
    r = e.resource
    status = r.get("status")
    excluded = {
        "MedicationStatement": _EXCLUDED_MED_STATUS,
        "MedicationRequest": _EXCLUDED_REQUEST_STATUS,
        "MedicationAdministration": _EXCLUDED_ADMIN_STATUS,
    }.get(e.rtype, _EXCLUDED_PROC_STATUS)
    if status in excluded:
        st.why("status_excluded", f"{e.path}.status", status=status)
        return True
    if e.rtype == "MedicationRequest" and r.get("intent") in _EXCLUDED_REQUEST_INTENT:
        st.why("status_excluded", f"{e.path}.intent", status=r.get("intent"))
        return True
    return False


def _start(e: Entry) -> date | None:
    r = e.resource
    if e.rtype == "MedicationRequest":
        # When the order says when to start (dosage bounds), else when it was written.
        for d in r.get("dosageInstruction") or []:
            bounds = (((d or {}).get("timing") or {}).get("repeat") or {}).get("boundsPeriod") or {}
            if bounds.get("start") is not None:
                return parse_date(bounds["start"])[0]
        authored = parse_date(r.get("authoredOn"))[0]
        if authored is not None:
            return authored
        validity = ((r.get("dispenseRequest") or {}).get("validityPeriod") or {}).get("start")
        return parse_date(validity)[0]
    for key in ("effectiveDateTime", "performedDateTime"):
        if r.get(key) is not None:
            return parse_date(r[key])[0]
    for key in ("effectivePeriod", "performedPeriod"):
        p = r.get(key)
        if isinstance(p, Mapping) and p.get("start") is not None:
            return parse_date(p["start"])[0]
    if e.rtype == "MedicationStatement":
        # No period: the date the statement was made (the medication was being taken then).
        return parse_date(r.get("dateAsserted"))[0]
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
        if _excluded(e, st):
            continue
        found = _therapy_id(e, by_ref, st)
        if found is None:
            continue
        tids = (found,) if isinstance(found, str) else found
        start = _start(e)
        ext = extension(e.resource, C.EXT_THERAPY_LINE)
        values = sub_extensions(ext) if ext else {}
        number = values.get("line")
        if isinstance(number, int) and not isinstance(number, bool) and number >= 1:
            line = explicit.setdefault(number, _Line(number, start))
            if start is not None and (line.start is None or start < line.start):
                line.start = start
            line.agents.extend(tids)
            line.paths.append(e.path)
            for tid in tids:
                if values.get("agent_refractory") is True and tid not in line.refractory_agents:
                    line.refractory_agents.append(tid)
            for key in ("best_response", "refractory"):
                if key in values:
                    line.best[key].add(values[key])
        elif start is None:
            st.why("no_start_date", e.path)
        else:
            loose.extend((e, tid, start) for tid in tids)

    # Without the extension: the rule in the module docstring [I].
    progression = sorted(
        f.day
        for fld in ("disease_status_worsened", "new_lesion")
        for f in st.facts.get(fld, [])
        if f.value is True and f.day is not None
    )
    inferred: list[_Line] = []
    # Medications started on one day are one regimen: they open a new line together or join the current one
    # together (dexamethasone re-ordered with a new carfilzomib belongs to the new line, not the old one).
    by_day: dict[date, list[tuple[Entry, str]]] = defaultdict(list)
    # A CAR-T infusion is a line of its own (a regimen), whatever resource records it; a transplant or local
    # therapy joins the line it consolidates.
    joins = {e.path for e, tid, _ in loose if e.rtype == "Procedure" and not _is_regimen(tid)}
    for e, tid, start in loose:
        if e.path not in joins:
            by_day[start].append((e, tid))
    procedures = sorted(((e, tid, start) for e, tid, start in loose if e.path in joins), key=lambda x: x[2])
    for start in sorted(by_day):
        current = inferred[-1] if inferred else None
        target: _Line | None = None
        if current is not None and current.start is not None:
            progressed = any(current.start < d <= start for d in progression)
            within = (start - current.start).days <= LINE_JOIN_DAYS
            same = all(tid in current.agents for _, tid in by_day[start])
            maintenance = not within and not same and _maintenance(by_day[start], current)
            if not progressed and (within or same or maintenance):
                target = current
                if maintenance:
                    for e, tid in by_day[start]:
                        st.why("maintenance_joins_line", e.path, agent=tid)
        if target is None:
            target = _Line(None, start)
            inferred.append(target)
        for e, tid in by_day[start]:
            if tid not in target.agents:
                target.agents.append(tid)
            if e.path not in target.paths:
                target.paths.append(e.path)
    for e, tid, start in procedures:  # a procedure joins the latest line started on or before its date
        earlier = [ln for ln in inferred if ln.start is not None and ln.start <= start]
        proc_line = earlier[-1] if earlier else _Line(None, start)
        if not earlier:
            inferred.append(proc_line)
        if tid not in proc_line.agents:
            proc_line.agents.append(tid)
        proc_line.paths.append(e.path)
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
