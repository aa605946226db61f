"""The patient registry: patients followed visit by visit, every change kept, an audit trail, cohort exports.

SQLite (one file, WAL mode) is the embedded default; PostgreSQL serves a multi-user deployment — the same code and
migrations on both. docs/registry.md describes the design and the commands.

>>> from mmemd.registry import Registry
>>> reg = Registry("sqlite://")
>>> p = reg.create({"schema": "mmemd.patient/1", "id": "ward-7", "phase": "newly_diagnosed"}, author="dr.a")
>>> p.version, p.record["phase"]
(1, 'newly_diagnosed')
>>> p = reg.patch(p.id, {"ecog": 1}, author="dr.a", reason="seen in clinic", expected_version=1)
>>> [h.action for h in reg.history(p.id)]
['create', 'update']
"""

from __future__ import annotations

from mmemd.registry._accounts import (
    ROLES,
    AccountError,
    Principal,
    Role,
    add_user,
    check_password,
    create_api_key,
    end_session,
    list_users,
    resolve_api_key,
    revoke_api_key,
    session_principal,
    start_session,
)
from mmemd.registry._audit import AUDIT_ACTIONS, AuditAction, AuditContext, audit, audit_entries
from mmemd.registry._backup import BackupError, backup, restore
from mmemd.registry._engine import current_revision, default_database_url, make_engine, upgrade
from mmemd.registry._export import (
    DEFAULT_MAX_SHIFT_DAYS,
    ExportSummary,
    cohort_tables,
    date_shift_days,
    export_cohort,
)
from mmemd.registry._store import (
    HistoryEntry,
    Identity,
    PatientNotFound,
    Registry,
    RegistryError,
    RegistryEvent,
    StoredPatient,
    VersionConflict,
    canonical,
    merge_patch_apply,
)

__all__ = [
    "AUDIT_ACTIONS",
    "DEFAULT_MAX_SHIFT_DAYS",
    "ROLES",
    "AccountError",
    "AuditAction",
    "AuditContext",
    "BackupError",
    "ExportSummary",
    "HistoryEntry",
    "Identity",
    "PatientNotFound",
    "Principal",
    "Registry",
    "RegistryError",
    "RegistryEvent",
    "Role",
    "StoredPatient",
    "VersionConflict",
    "add_user",
    "audit",
    "audit_entries",
    "backup",
    "canonical",
    "check_password",
    "cohort_tables",
    "create_api_key",
    "current_revision",
    "date_shift_days",
    "default_database_url",
    "end_session",
    "export_cohort",
    "list_users",
    "make_engine",
    "merge_patch_apply",
    "resolve_api_key",
    "restore",
    "revoke_api_key",
    "session_principal",
    "start_session",
    "upgrade",
]
