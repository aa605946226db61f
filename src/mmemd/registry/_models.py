"""The registry's tables (SQLAlchemy 2 declarative models).

The shape follows one rule: *nothing is overwritten*. A patient's clinical data lives in five fact tables
(:class:`PatientFacts`, :class:`DiagnosisFacts`, :class:`TherapyLineRow`, :class:`LesionRow`, :class:`VisitRow`) plus
:class:`EventRow`; each row is one *version* of one fact (``key`` names the fact within the patient: a line number, a
lesion id, a visit date), written by one :class:`Change` (who, when, why). A later change adds a newer row for the
same key; a deletion adds a row with ``tombstone = true``. The current record is, per key, the row of the latest
change — so every earlier state stays readable (:meth:`mmemd.registry.Registry.history`).

Identifying fields (MRN, name, the record id the hospital sent) sit apart in :class:`PatientIdentity`; the clinical
tables and every export carry only the pseudonymous registry id.

:class:`Patient` is the one mutable row per patient: ``version`` (the number of the latest change, the HTTP ETag) and
``deleted``. Writers lock it first, so two writers of one patient are serialised and a stale ``If-Match`` is caught.

The migrations in ``migrations/versions`` create exactly these tables; a test compares the two.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "FACT_TABLES",
    "ApiKey",
    "AuditEntry",
    "Base",
    "Change",
    "DiagnosisFacts",
    "EventRow",
    "LesionRow",
    "Patient",
    "PatientFacts",
    "PatientIdentity",
    "TherapyLineRow",
    "User",
    "VisitRow",
    "WebSession",
]

# Deterministic constraint names, so migrations can refer to them on every backend.
_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class PatientIdentity(Base):
    """Identifying fields, kept apart from the clinical data and never exported."""

    __tablename__ = "patient_identities"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    source_id: Mapped[str | None] = mapped_column(String(200))
    mrn: Mapped[str | None] = mapped_column(String(200), index=True)
    name: Mapped[str | None] = mapped_column(String(400))


class Change(Base):
    """One write to one patient: the version it created, who made it, when and why."""

    __tablename__ = "changes"
    __table_args__ = (UniqueConstraint("patient_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    author: Mapped[str] = mapped_column(String(200), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)


class _Fact:
    """Columns shared by every versioned fact table."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    tombstone: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PatientFacts(_Fact, Base):
    """Demographics and current status: age, sex, phase, transplant eligibility, ECOG, current labs."""

    __tablename__ = "patient_facts"
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), nullable=False)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), nullable=False)
    __table_args__ = (Index(None, "patient_id", "change_id"),)


class DiagnosisFacts(_Fact, Base):
    """What was known at diagnosis: the diagnosis block, labs at diagnosis, cytogenetics."""

    __tablename__ = "diagnosis_facts"
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), nullable=False)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), nullable=False)
    __table_args__ = (Index(None, "patient_id", "change_id"),)


class TherapyLineRow(_Fact, Base):
    """One line of therapy (``key`` = the line number)."""

    __tablename__ = "therapy_lines"
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), nullable=False)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), nullable=False)
    __table_args__ = (Index(None, "patient_id", "change_id"),)


class LesionRow(_Fact, Base):
    """One plasmacytoma (``key`` = the lesion id); ``position`` keeps the record's order."""

    __tablename__ = "lesions"
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), nullable=False)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    __table_args__ = (Index(None, "patient_id", "change_id"),)


class VisitRow(_Fact, Base):
    """One response assessment visit (``key`` = its ISO date, unique within a patient)."""

    __tablename__ = "visits"
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), nullable=False)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), nullable=False)
    __table_args__ = (Index(None, "patient_id", "change_id"),)


class EventRow(_Fact, Base):
    """Progression, death, last contact (``key`` = ``death``, ``last_contact`` or ``progression:<date>``)."""

    __tablename__ = "events"
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), nullable=False)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), nullable=False)
    __table_args__ = (Index(None, "patient_id", "change_id"),)


FACT_TABLES: tuple[type[Any], ...] = (
    PatientFacts,
    DiagnosisFacts,
    TherapyLineRow,
    LesionRow,
    VisitRow,
    EventRow,
)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ApiKey(Base):
    """An API key for a program: only its SHA-256 digest is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class AuditEntry(Base):
    """Who touched which patient's data, how, when — never a clinical value. Append-only (database triggers)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    user: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    patient_id: Mapped[str | None] = mapped_column(String(32), index=True)
    request_id: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)


class WebSession(Base):
    """A signed-in web session; only the SHA-256 digest of its random token is stored."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
