"""The audit log: who read or wrote which patient's data, how and when — never a clinical value.

One row per access: time (UTC), user, role, action, registry patient id (or none for a list or an export), request
id (the ``X-Request-ID`` of the HTTP request, so an entry can be matched to the access log) and outcome. The table
is append-only: database triggers refuse UPDATE and DELETE (migration 0002).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from sqlalchemy import select

from mmemd.registry._models import AuditEntry

if TYPE_CHECKING:
    from mmemd.registry._accounts import Principal
    from mmemd.registry._store import Registry

__all__ = ["AUDIT_ACTIONS", "AuditAction", "AuditContext", "audit", "audit_entries"]

AuditAction = Literal[
    "create",
    "read",
    "list",
    "history",
    "assessment",
    "report",
    "add_visit",
    "update",
    "delete",
    "import",
    "export",
    "backup",
    "restore",
]
AUDIT_ACTIONS: Final = frozenset(AuditAction.__args__)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class AuditContext:
    """Who writes, for the audit entry a write adds in its own transaction (a change never lands unaudited)."""

    user: str
    role: str
    request_id: str | None = None

    def entry(self, action: str, patient_id: str | None) -> AuditEntry:
        return AuditEntry(
            at=dt.datetime.now(dt.UTC),
            user=self.user,
            role=self.role,
            action=action,
            patient_id=patient_id,
            request_id=self.request_id,
            outcome="ok",
        )


def audit(
    registry: Registry,
    principal: Principal,
    action: AuditAction,
    patient_id: str | None = None,
    *,
    request_id: str | None = None,
    outcome: str = "ok",
) -> None:
    """Append one entry (its own transaction: refused and failed attempts are logged too)."""
    with registry.writing() as s:
        s.add(
            AuditEntry(
                at=dt.datetime.now(dt.UTC),
                user=principal.name,
                role=principal.role,
                action=action,
                patient_id=patient_id,
                request_id=request_id,
                outcome=outcome,
            )
        )


def audit_entries(
    registry: Registry,
    *,
    patient_id: str | None = None,
    user: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Entries, oldest first, optionally for one patient, one user, or from a time on."""
    with registry.reading() as s:
        q = select(AuditEntry)
        if patient_id is not None:
            q = q.where(AuditEntry.patient_id == patient_id)
        if user is not None:
            q = q.where(AuditEntry.user == user)
        if since is not None:
            q = q.where(AuditEntry.at >= since)
        rows = s.scalars(q.order_by(AuditEntry.id).limit(limit))
        return [
            {
                "at": (r.at if r.at.tzinfo else r.at.replace(tzinfo=dt.UTC)).isoformat(),
                "user": r.user,
                "role": r.role,
                "action": r.action,
                "patient_id": r.patient_id,
                "request_id": r.request_id,
                "outcome": r.outcome,
            }
            for r in rows
        ]
