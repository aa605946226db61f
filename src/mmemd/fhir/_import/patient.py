"""Patient -> ``id``, ``sex``, ``age`` (docs/fhir.md, "Mapping")."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from urllib.parse import unquote

from mmemd.fhir._import._state import ImportState
from mmemd.fhir._resources import Entry, parse_date


def is_own_patient(ref: str, patient: Entry) -> bool:
    """Whether a reference names the Bundle's Patient in a form other than ``Patient/id`` or its fullUrl: an
    absolute URL ending in ``Patient/id`` (optionally ``/_history/n``), or a conditional reference
    ``Patient?identifier=system|value`` (what Synthea's transaction bundles and many EHR exports write) matching one
    of the Patient's identifiers (a value alone matches when the reference gives no system)."""
    r = patient.resource
    rid = r.get("id")
    if isinstance(rid, str) and rid:
        path = ref.split("/_history/")[0]
        if path.endswith(f"/Patient/{rid}"):
            return True
    if not ref.startswith("Patient?identifier="):
        return False
    wanted = unquote(ref.removeprefix("Patient?identifier=").split("&")[0])
    system, sep, value = wanted.rpartition("|")
    for ident in r.get("identifier") or []:
        if not isinstance(ident, Mapping) or ident.get("value") != value:
            continue
        if not sep or ident.get("system") == system:
            return True
    return False


def patient_id(patient: Entry | None, st: ImportState) -> str:
    if patient is not None:
        rid = patient.resource.get("id")
        if isinstance(rid, str) and rid:
            return rid
        for ident in patient.resource.get("identifier") or []:
            if isinstance(ident, Mapping) and isinstance(ident.get("value"), str) and ident["value"]:
                return str(ident["value"])
    st.why("no_patient_id", patient.path if patient else "Bundle", id="unknown")
    return "unknown"


def age_years(patient: Entry | None, at: date | None, st: ImportState) -> int | None:
    if patient is None:
        return None
    raw = patient.resource.get("birthDate")
    if raw is None:
        return None
    born, _partial = parse_date(raw)
    path = f"{patient.path}.birthDate"
    if born is None:
        st.why("no_birth_date", path, why="birth date is not a full date (age would be off by up to a year)")
        return None
    if at is None:
        st.why("no_birth_date", path, why="no diagnosis date to compute the age at")
        return None
    # Age in completed years at the diagnosis date (or the caller's date): the record's other "at diagnosis" data.
    return at.year - born.year - ((at.month, at.day) < (born.month, born.day))
