"""The registry store: patients as versioned facts, read back as ``mmemd.patient/1`` records.

Every write goes through :meth:`Registry._write`, one transaction that (1) locks the patient row, (2) checks the
expected version (a stale one raises :class:`VersionConflict` — never a silent overwrite), (3) builds the new record
and validates it with the ``mmemd.patient/1`` model (an invalid one raises :class:`~mmemd.clinical.RecordError` and
nothing is stored), (4) appends one :class:`~._models.Change` and a new row for each fact that differs (a tombstone
for each fact that disappeared), (5) bumps the patient's version. A crash anywhere before the commit leaves the
previous version as it was: the database rolls the transaction back.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, Integer, literal, select, union_all
from sqlalchemy.orm import Session, sessionmaker

from mmemd.clinical.errors import Problem, RecordError
from mmemd.registry._audit import AuditContext
from mmemd.registry._engine import make_engine, upgrade
from mmemd.registry._models import (
    FACT_TABLES,
    Change,
    DiagnosisFacts,
    EventRow,
    LesionRow,
    Patient,
    PatientFacts,
    PatientIdentity,
    TherapyLineRow,
    VisitRow,
)

__all__ = [
    "HistoryEntry",
    "Identity",
    "PatientNotFound",
    "Registry",
    "RegistryError",
    "RegistryEvent",
    "StoredPatient",
    "VersionConflict",
]

RECORD_SCHEMA: Final = "mmemd.patient/1"
_PATIENT_KEYS: Final = ("age", "sex", "phase", "transplant_eligible", "ecog", "current_labs")
_DIAGNOSIS_KEYS: Final = ("diagnosis", "labs", "cytogenetics")
_LIST_KEYS: Final = ("therapy_history", "lesions", "assessments")
# Pseudonymous registry ids: "MM-" and 10 characters of Crockford-style base32 (no I, L, O, U: no misreading).
_ID_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class RegistryError(Exception):
    """Base of the registry's errors."""


class PatientNotFound(RegistryError):
    def __init__(self, patient_id: str) -> None:
        super().__init__(f"no patient {patient_id!r} in the registry")
        self.patient_id = patient_id


class VersionConflict(RegistryError):
    """The caller's expected version is not the current one (HTTP 412)."""

    def __init__(self, patient_id: str, expected: int, current: int) -> None:
        super().__init__(f"patient {patient_id!r} is at version {current}, not {expected}")
        self.patient_id = patient_id
        self.expected = expected
        self.current = current


class RegistryEvent(BaseModel):
    """An end-point event: progression, death, or the last contact (the censoring date when alive)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event: Literal["progression", "death", "last_contact"]
    date: dt.date
    line: int | None = Field(default=None, ge=1, description="line of therapy a progression occurred on")

    @property
    def key(self) -> str:
        return f"progression:{self.date.isoformat()}" if self.event == "progression" else self.event


class Identity(BaseModel):
    """Identifying fields: stored apart, shown to clinicians, never exported."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mrn: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=400)


@dataclass(frozen=True, slots=True)
class StoredPatient:
    """A patient as stored: the current (or a past) ``mmemd.patient/1`` record and the registry's extras."""

    id: str
    version: int
    record: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False

    @property
    def etag(self) -> str:
        return f'"{self.id}.{self.version}"'


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    version: int
    action: str
    author: str
    at: dt.datetime
    reason: str | None
    changed: list[dict[str, Any]]


def new_registry_id() -> str:
    return "MM-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- record <-> facts ---------------------------------------------------------------------------------------------

_Facts = dict[type[Any], dict[str, tuple[dict[str, Any] | None, int]]]


def decompose(doc: Mapping[str, Any], events: Sequence[RegistryEvent]) -> _Facts:
    """A canonical record (and events) as facts: per table, key -> (data, position)."""
    present = [k for k in _LIST_KEYS if k in doc]
    out: _Facts = {t: {} for t in FACT_TABLES}
    out[PatientFacts]["patient"] = (
        {**{k: doc[k] for k in _PATIENT_KEYS if k in doc}, "_lists": present},
        0,
    )
    dx = {k: doc[k] for k in _DIAGNOSIS_KEYS if k in doc}
    if dx:
        out[DiagnosisFacts]["diagnosis"] = (dx, 0)
    for line in doc.get("therapy_history") or []:
        out[TherapyLineRow][str(line["line"])] = (line, 0)
    for i, lesion in enumerate(doc.get("lesions") or []):
        out[LesionRow][lesion["id"]] = (lesion, i)
    for visit in doc.get("assessments") or []:
        out[VisitRow][visit["date"]] = (visit, 0)
    for ev in events:
        out[EventRow][ev.key] = (ev.model_dump(mode="json", exclude_none=True), 0)
    return out


def compose(patient_id: str, facts: _Facts) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Facts back into an ``mmemd.patient/1`` record (id = the registry id) and the event list."""
    doc: dict[str, Any] = {"schema": RECORD_SCHEMA, "id": patient_id}
    pf = facts[PatientFacts].get("patient")
    lists: list[str] = []
    if pf is not None and pf[0] is not None:
        data = dict(pf[0])
        lists = list(data.pop("_lists", []))
        doc.update(data)
    dx = facts[DiagnosisFacts].get("diagnosis")
    if dx is not None and dx[0] is not None:
        doc.update(dx[0])
    lines = sorted((d for d, _ in facts[TherapyLineRow].values() if d), key=lambda d: int(d["line"]))
    lesions = [d for d, _ in sorted(facts[LesionRow].values(), key=lambda v: v[1]) if d]
    visits = sorted((d for d, _ in facts[VisitRow].values() if d), key=lambda d: str(d["date"]))
    for name, rows in (("therapy_history", lines), ("lesions", lesions), ("assessments", visits)):
        if rows or name in lists:
            doc[name] = rows
    events = sorted((d for d, _ in facts[EventRow].values() if d), key=lambda d: (d["date"], d["event"]))
    return _ordered(doc), events


_ORDER: Final[tuple[str, ...]] = (
    "schema",
    "id",
    *_PATIENT_KEYS[:5],
    "therapy_history",
    "diagnosis",
    "labs",
    "current_labs",
)


def _ordered(doc: dict[str, Any]) -> dict[str, Any]:
    head = {k: doc[k] for k in _ORDER if k in doc}
    return {**head, **{k: v for k, v in doc.items() if k not in head}}


def canonical(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a record and return its canonical JSON form (raises :class:`RecordError` with every problem)."""
    import json

    from mmemd.clinical.record import parse_record

    record = parse_record(doc)
    out: dict[str, Any] = json.loads(record.model_dump_json(by_alias=True, exclude_unset=True))
    return out


# --- the store ----------------------------------------------------------------------------------------------------


class Registry:
    """The patient registry on one database (SQLite file or PostgreSQL), schema migrated to the newest revision.

    >>> reg = Registry("sqlite:///:memory:")  # doctest: +SKIP
    """

    def __init__(self, url: str, *, migrate: bool = True, pool_size: int | None = None) -> None:
        self.url = url
        extra: dict[str, Any] = {}
        if pool_size is not None and not url.startswith("sqlite"):
            extra = {"pool_size": pool_size, "max_overflow": pool_size}
        if url in ("sqlite://", "sqlite:///:memory:"):
            # One in-memory database is one connection: share it (tests, doctests).
            from sqlalchemy.pool import StaticPool

            self.engine: Engine = make_engine(url, write=True, poolclass=StaticPool)
            self._write_engine: Engine = self.engine
        else:
            self.engine = make_engine(url, **extra)
            self._write_engine = (
                make_engine(url, write=True) if self.engine.dialect.name == "sqlite" else self.engine
            )
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(self._write_engine, expire_on_commit=False)
        if migrate:
            upgrade(self._write_engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()
        if self._write_engine is not self.engine:
            self._write_engine.dispose()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._read() as s, s.begin():
            yield s

    @contextmanager
    def writing(self) -> Iterator[Session]:
        with self._writer() as s, s.begin():
            yield s

    # --- reads ---

    def _facts(self, s: Session, patient_id: str, upto_change: int | None = None) -> _Facts:
        # One round trip: the six fact tables as one UNION ALL, in change order.
        parts = []
        for i, table in enumerate(FACT_TABLES):
            pos = table.position if table is LesionRow else literal(0, Integer)
            q = select(
                literal(i, Integer).label("t"),
                table.key,
                table.tombstone,
                table.data,
                pos.label("position"),
                table.change_id,
            ).where(table.patient_id == patient_id)
            if upto_change is not None:
                q = q.where(table.change_id <= upto_change)
            parts.append(q)
        out: _Facts = {t: {} for t in FACT_TABLES}
        for t, key, tombstone, data, position, _ in s.execute(union_all(*parts).order_by("change_id")):
            facts = out[FACT_TABLES[t]]
            # Later changes replace earlier ones; a tombstone removes the fact.
            if tombstone:
                facts.pop(key, None)
            else:
                facts[key] = (data, position)
        return out

    def get(self, patient_id: str, version: int | None = None) -> StoredPatient:
        """The current record (or the one at ``version``); raises :class:`PatientNotFound`."""
        with self.reading() as s:
            p = s.get(Patient, patient_id)
            if p is None or (p.deleted and version is None):
                raise PatientNotFound(patient_id)
            upto = None
            v = p.version
            if version is not None:
                change_id = s.scalar(
                    select(Change.id).where(Change.patient_id == patient_id, Change.version == version)
                )
                if change_id is None:
                    raise PatientNotFound(f"{patient_id}@{version}")
                upto, v = change_id, version
            doc, events = compose(patient_id, self._facts(s, patient_id, upto))
            return StoredPatient(patient_id, v, doc, events, deleted=p.deleted and version is None)

    def identity(self, patient_id: str) -> dict[str, str | None]:
        with self.reading() as s:
            ident = s.get(PatientIdentity, patient_id)
            if ident is None:
                raise PatientNotFound(patient_id)
            return {"source_id": ident.source_id, "mrn": ident.mrn, "name": ident.name}

    def list_patients(
        self, q: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Patients ordered by registry id, ``limit`` at a time after ``cursor``; ``q`` matches the registry id,
        the MRN or the name (case-insensitive substring). Returns the page and the next cursor (``None``: last)."""
        with self.reading() as s:
            stmt = (
                select(Patient, PatientIdentity)
                .join(PatientIdentity, PatientIdentity.patient_id == Patient.id)
                .where(Patient.deleted.is_(False))
            )
            if q:
                like = f"%{q.lower()}%"
                from sqlalchemy import func, or_

                stmt = stmt.where(
                    or_(
                        func.lower(Patient.id).like(like),
                        func.lower(PatientIdentity.mrn).like(like),
                        func.lower(PatientIdentity.name).like(like),
                    )
                )
            if cursor:
                stmt = stmt.where(Patient.id > cursor)
            rows = s.execute(stmt.order_by(Patient.id).limit(limit + 1)).all()
            page: list[dict[str, Any]] = [
                {"id": p.id, "version": p.version, "mrn": i.mrn, "name": i.name, "source_id": i.source_id}
                for p, i in rows[:limit]
            ]
            nxt: str | None = page[-1]["id"] if len(rows) > limit and page else None
            return page, nxt

    def patient_ids(self, include_deleted: bool = False) -> list[str]:
        with self.reading() as s:
            stmt = select(Patient.id).order_by(Patient.id)
            if not include_deleted:
                stmt = stmt.where(Patient.deleted.is_(False))
            return list(s.scalars(stmt))

    def history(self, patient_id: str) -> list[HistoryEntry]:
        """Every change of the patient, oldest first, with the facts each one added, replaced or deleted."""
        with self.reading() as s:
            if s.get(Patient, patient_id) is None:
                raise PatientNotFound(patient_id)
            changes = list(
                s.scalars(select(Change).where(Change.patient_id == patient_id).order_by(Change.version))
            )
            touched: dict[int, list[dict[str, Any]]] = {c.id: [] for c in changes}
            parts = [
                select(literal(i, Integer).label("t"), table.change_id, table.key, table.tombstone).where(
                    table.patient_id == patient_id
                )
                for i, table in enumerate(FACT_TABLES)
            ]
            for t, change_id, key, tomb in s.execute(union_all(*parts).order_by("t", "key")):
                touched[change_id].append(
                    {"table": FACT_TABLES[t].__tablename__, "key": key, "deleted": bool(tomb)}
                )
            return [
                HistoryEntry(c.version, c.action, c.author, _aware(c.at), c.reason, touched[c.id])
                for c in changes
            ]

    # --- writes ---

    def create(
        self,
        record: Mapping[str, Any],
        *,
        author: str,
        reason: str | None = None,
        identity: Identity | None = None,
        events: Sequence[RegistryEvent] = (),
        patient_id: str | None = None,
        audit: AuditContext | None = None,
    ) -> StoredPatient:
        """Store a new patient from an ``mmemd.patient/1`` record (its ``id`` is kept apart, as ``source_id``)."""
        return self.create_many(
            [record],
            author=author,
            reason=reason,
            identities=[identity],
            events=[events],
            patient_ids=[patient_id],
            audit=audit,
        )[0]

    def create_many(
        self,
        records: Sequence[Mapping[str, Any]],
        *,
        author: str,
        reason: str | None = None,
        identities: Sequence[Identity | None] | None = None,
        events: Sequence[Sequence[RegistryEvent]] | None = None,
        patient_ids: Sequence[str | None] | None = None,
        audit: AuditContext | None = None,
    ) -> list[StoredPatient]:
        """Store several new patients in one transaction: all or none (every record is validated first; the
        problems of record ``i`` are reported under ``$[i]``)."""
        n = len(records)
        pids = [(patient_ids[i] if patient_ids else None) or new_registry_id() for i in range(n)]
        docs: list[dict[str, Any]] = []
        problems: list[Problem] = []
        for i, (pid, record) in enumerate(zip(pids, records, strict=True)):
            try:
                docs.append(canonical({**record, "id": pid} if isinstance(record, Mapping) else record))
            except RecordError as exc:
                if n == 1:
                    raise
                problems += [Problem((i, *p.loc), p.message, p.accepted, p.code) for p in exc.problems]
        if problems:
            raise RecordError(problems, kind="batch")
        with self.writing() as s:
            for i, (pid, record, doc) in enumerate(zip(pids, records, docs, strict=True)):
                identity = (identities[i] if identities else None) or Identity()
                source_id = record.get("id")
                s.add(Patient(id=pid, version=1, deleted=False, created_at=_now()))
                s.add(
                    PatientIdentity(
                        patient_id=pid,
                        source_id=source_id if isinstance(source_id, str) else None,
                        mrn=identity.mrn,
                        name=identity.name,
                    )
                )
                s.flush()
                change = Change(
                    patient_id=pid, version=1, action="create", author=author, at=_now(), reason=reason
                )
                s.add(change)
                s.flush()
                evs = events[i] if events else ()
                self._append(s, pid, change.id, {t: {} for t in FACT_TABLES}, decompose(doc, evs))
                if audit is not None:
                    s.add(audit.entry("create", pid))
        return [self.get(pid) for pid in pids]

    def _write(
        self,
        patient_id: str,
        *,
        action: str,
        author: str,
        reason: str | None,
        expected_version: int | None,
        build: Callable[[dict[str, Any], list[RegistryEvent]], tuple[dict[str, Any], list[RegistryEvent]]],
        delete: bool = False,
        audit: AuditContext | None = None,
    ) -> StoredPatient:
        with self.writing() as s:
            if audit is not None:
                s.add(audit.entry(action, patient_id))  # rolled back with the change if it fails
            p = s.get(Patient, patient_id, with_for_update=True)
            if p is None or p.deleted:
                raise PatientNotFound(patient_id)
            if expected_version is not None and expected_version != p.version:
                raise VersionConflict(patient_id, expected_version, p.version)
            old = self._facts(s, patient_id)
            if delete:
                new: _Facts = {t: {} for t in FACT_TABLES}
            else:
                doc, events = compose(patient_id, old)
                new_doc, new_events = build(doc, [RegistryEvent.model_validate(e) for e in events])
                new = decompose(canonical({**new_doc, "id": patient_id}), new_events)
            if not delete and new == old:
                return StoredPatient(patient_id, p.version, *compose(patient_id, old))
            change = Change(
                patient_id=patient_id,
                version=p.version + 1,
                action=action,
                author=author,
                at=_now(),
                reason=reason,
            )
            s.add(change)
            s.flush()
            self._append(s, patient_id, change.id, old, new)
            p.version += 1
            p.deleted = delete
            version = p.version
        if delete:
            return StoredPatient(patient_id, version, {}, [], deleted=True)
        return StoredPatient(patient_id, version, *compose(patient_id, new))

    @staticmethod
    def _append(s: Session, patient_id: str, change_id: int, old: _Facts, new: _Facts) -> None:
        for table in FACT_TABLES:
            before, after = old[table], new[table]
            for key, (data, pos) in after.items():
                if before.get(key) != (data, pos):
                    extra = {"position": pos} if table is LesionRow else {}
                    s.add(
                        table(
                            patient_id=patient_id,
                            change_id=change_id,
                            key=key,
                            tombstone=False,
                            data=data,
                            **extra,
                        )
                    )
            for key in before.keys() - after.keys():
                extra = {"position": before[key][1]} if table is LesionRow else {}
                s.add(
                    table(
                        patient_id=patient_id,
                        change_id=change_id,
                        key=key,
                        tombstone=True,
                        data=None,
                        **extra,
                    )
                )

    def add_visit(
        self,
        patient_id: str,
        visit: Mapping[str, Any],
        *,
        author: str,
        reason: str | None = None,
        therapy_lines: Sequence[Mapping[str, Any]] = (),
        lesions: Sequence[Mapping[str, Any]] = (),
        events: Sequence[RegistryEvent] = (),
        expected_version: int | None = None,
        audit: AuditContext | None = None,
    ) -> StoredPatient:
        """Add one assessment visit (in the record's ``assessments[]`` form), optionally adding or replacing therapy
        lines (by ``line``) and lesions (by ``id``), and recording events. Problems are reported at paths of the
        visit body: ``$.visit...``, ``$.therapy_lines[i]...``, ``$.lesions[i]...``."""

        def build(
            doc: dict[str, Any], evs: list[RegistryEvent]
        ) -> tuple[dict[str, Any], list[RegistryEvent]]:
            date = visit.get("date") if isinstance(visit, Mapping) else None
            if isinstance(date, str) and any(a.get("date") == date for a in doc.get("assessments", [])):
                raise RecordError(
                    [
                        Problem(
                            ("visit", "date"),
                            f"a visit on {date} is already recorded; change it with PATCH",
                            code="duplicate_date",
                        )
                    ]
                )
            visits = [*doc.get("assessments", []), visit]
            # Visits arrive in any order; the record keeps them by date (strings sort as ISO dates; an invalid date is
            # left in place for the validator to report).
            visits_sorted = sorted(
                visits, key=lambda a: str(a.get("date", "")) if isinstance(a, Mapping) else ""
            )
            lines = list(doc.get("therapy_history", []))
            line_pos: dict[int, int] = {}
            for j, tl in enumerate(therapy_lines):
                idx = next((i for i, x in enumerate(lines) if x.get("line") == tl.get("line")), None)
                if idx is None:
                    lines.append(tl)
                    idx = len(lines) - 1
                else:
                    lines[idx] = tl
                line_pos[idx] = j
            les = list(doc.get("lesions", []))
            les_pos: dict[int, int] = {}
            for j, ls in enumerate(lesions):
                idx = next((i for i, x in enumerate(les) if x.get("id") == ls.get("id")), None)
                if idx is None:
                    les.append(ls)
                    idx = len(les) - 1
                else:
                    les[idx] = ls
                les_pos[idx] = j
            new_doc = {**doc, "assessments": visits_sorted}
            if lines:
                new_doc["therapy_history"] = lines
            if les:
                new_doc["lesions"] = les
            visit_at = next(i for i, a in enumerate(visits_sorted) if a is visit)
            try:
                canonical({**new_doc, "id": patient_id})
            except RecordError as exc:
                raise RecordError(
                    [_visit_path(p, visit_at, line_pos, les_pos) for p in exc.problems]
                ) from None
            merged = {e.key: e for e in evs}
            merged.update({e.key: e for e in events})
            return new_doc, list(merged.values())

        return self._write(
            patient_id,
            action="add_visit",
            author=author,
            reason=reason,
            expected_version=expected_version,
            build=build,
            audit=audit,
        )

    def patch(
        self,
        patient_id: str,
        merge_patch: Mapping[str, Any],
        *,
        author: str,
        reason: str | None = None,
        expected_version: int | None = None,
        events: Sequence[RegistryEvent] | None = None,
        audit: AuditContext | None = None,
    ) -> StoredPatient:
        """Apply a JSON Merge Patch (RFC 7396) to the current record; ``events``, when given, replace the events.
        Lists (lesions, assessments, lines) are replaced whole, as RFC 7396 says; facts that disappear get
        tombstones."""

        def build(
            doc: dict[str, Any], evs: list[RegistryEvent]
        ) -> tuple[dict[str, Any], list[RegistryEvent]]:
            new_doc = merge_patch_apply(doc, merge_patch)
            if not isinstance(new_doc, dict):
                raise RecordError([Problem((), "the merge patch must be a JSON object", code="model_type")])
            return new_doc, list(events) if events is not None else evs

        return self._write(
            patient_id,
            action="update",
            author=author,
            reason=reason,
            expected_version=expected_version,
            build=build,
            audit=audit,
        )

    def delete(
        self,
        patient_id: str,
        *,
        author: str,
        reason: str | None = None,
        expected_version: int | None = None,
        audit: AuditContext | None = None,
    ) -> StoredPatient:
        """Tombstone every fact of the patient; the history stays readable."""
        return self._write(
            patient_id,
            action="delete",
            author=author,
            reason=reason,
            expected_version=expected_version,
            build=lambda d, e: (d, e),
            delete=True,
            audit=audit,
        )


def merge_patch_apply(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch."""
    if not isinstance(patch, Mapping):
        return patch
    out = dict(target) if isinstance(target, Mapping) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch_apply(out.get(k), v)
    return out


def _visit_path(p: Problem, visit_at: int, line_pos: dict[int, int], les_pos: dict[int, int]) -> Problem:
    """A record-level problem at the path of the visit body it came from (record paths stay under ``$.record``)."""
    loc = p.loc
    if len(loc) >= 2 and loc[0] == "assessments" and loc[1] == visit_at:
        new: tuple[str | int, ...] = ("visit", *loc[2:])
    elif len(loc) >= 2 and loc[0] == "therapy_history" and isinstance(loc[1], int) and loc[1] in line_pos:
        new = ("therapy_lines", line_pos[loc[1]], *loc[2:])
    elif len(loc) >= 2 and loc[0] == "lesions" and isinstance(loc[1], int) and loc[1] in les_pos:
        new = ("lesions", les_pos[loc[1]], *loc[2:])
    else:
        new = ("record", *loc)
    return Problem(new, p.message, p.accepted, p.code)


def _aware(t: dt.datetime) -> dt.datetime:
    # SQLite gives back naive datetimes (stored as UTC).
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
