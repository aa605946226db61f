"""Users, roles and API keys.

Roles (closed list):

- ``clinician``: reads and writes patient data (the REST ``/v1/patients`` routes, the web page).
- ``researcher``: pseudonymised exports and cohort analytics only; no identifying or per-patient access.
- ``admin``: manages users and keys; no patient data.

Passwords are stored as argon2id hashes (argon2-cffi's defaults, RFC 9106); API keys as their SHA-256 digest — a
key is a long random secret, so a fast hash is enough and lets the service find the key's row by its digest. A key
listed in the service config's ``api_key_hashes`` (the keys that existed before the registry) is a clinician key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, get_args

from sqlalchemy import select

from mmemd.registry._models import ApiKey, User, WebSession

if TYPE_CHECKING:
    from mmemd.registry._store import Registry

__all__ = [
    "ROLES",
    "AccountError",
    "Principal",
    "Role",
    "add_user",
    "check_password",
    "create_api_key",
    "end_session",
    "list_users",
    "resolve_api_key",
    "revoke_api_key",
    "session_principal",
    "start_session",
]

Role = Literal["clinician", "researcher", "admin"]
ROLES: Final[tuple[str, ...]] = get_args(Role)
_KEY_PREFIX: Final = "mmemd_"


class AccountError(ValueError):
    """A user or key operation that cannot be done (unknown role, duplicate user, ...)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: a name for the audit log and a role for the permission check."""

    name: str
    role: str


def _hasher() -> object:
    from argon2 import PasswordHasher

    return PasswordHasher()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")


def add_user(registry: Registry, username: str, role: str, password: str | None = None) -> Principal:
    """Create a local account (``password=None``: an account for API keys only)."""
    from argon2 import PasswordHasher

    _check_role(role)
    if not username or len(username) > 100:
        raise AccountError("a username is 1 to 100 characters")
    pw_hash = PasswordHasher().hash(password) if password else None
    with registry.writing() as s:
        if s.scalar(select(User.id).where(User.username == username)) is not None:
            raise AccountError(f"user {username!r} exists")
        s.add(
            User(
                username=username,
                role=role,
                password_hash=pw_hash,
                disabled=False,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
    return Principal(username, role)


def list_users(registry: Registry) -> list[dict[str, object]]:
    with registry.reading() as s:
        return [
            {
                "username": u.username,
                "role": u.role,
                "disabled": u.disabled,
                "has_password": bool(u.password_hash),
            }
            for u in s.scalars(select(User).order_by(User.username))
        ]


def check_password(registry: Registry, username: str, password: str) -> Principal | None:
    """The user when the password is right (and the account enabled), else ``None``."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    with registry.reading() as s:
        user = s.scalar(select(User).where(User.username == username))
    ph = PasswordHasher()
    if user is None or user.password_hash is None or user.disabled:
        # Spend the same time as a real check, so a wrong name is not told apart from a wrong password.
        ph.hash(password)
        return None
    try:
        ph.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return Principal(user.username, user.role)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(registry: Registry, label: str, role: str, username: str | None = None) -> str:
    """Create a key and return it — the only time it is seen; the registry keeps its SHA-256 digest."""
    _check_role(role)
    key = _KEY_PREFIX + secrets.token_urlsafe(32)
    with registry.writing() as s:
        user_id = None
        if username is not None:
            user_id = s.scalar(select(User.id).where(User.username == username))
            if user_id is None:
                raise AccountError(f"no user {username!r}")
        s.add(
            ApiKey(
                key_hash=_digest(key),
                role=role,
                label=label,
                user_id=user_id,
                revoked=False,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
    return key


def revoke_api_key(registry: Registry, label: str) -> int:
    """Revoke every key with this label; returns how many."""
    from sqlalchemy import update

    with registry.writing() as s:
        res = s.execute(
            update(ApiKey).where(ApiKey.label == label, ApiKey.revoked.is_(False)).values(revoked=True)
        )
        return int(getattr(res, "rowcount", 0) or 0)


def resolve_api_key(
    registry: Registry | None, key: str, config_hashes: Iterable[str] = ()
) -> Principal | None:
    """The principal of an API key: a config key is a clinician (``key:<first 8 hex of its digest>``); a registry
    key has its own role and label. ``None`` for an unknown or revoked key."""
    digest = _digest(key)
    presented = bytes.fromhex(digest)
    ok = False
    for h in config_hashes:
        ok |= hmac.compare_digest(presented, bytes.fromhex(h))
    if ok:
        return Principal(f"key:{digest[:8]}", "clinician")
    if registry is None:
        return None
    with registry.reading() as s:
        row = s.scalar(select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked.is_(False)))
        if row is None:
            return None
        name = row.label
        if row.user_id is not None:
            user = s.get(User, row.user_id)
            if user is None or user.disabled:
                return None
            name = user.username
        return Principal(name, row.role)


#: a web session lasts a working day; signing in again starts a new one
SESSION_LIFETIME: Final = dt.timedelta(hours=12)


def start_session(registry: Registry, principal: Principal) -> str:
    """A new session token for a signed-in user (returned once; the registry keeps its SHA-256 digest)."""
    token = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    with registry.writing() as s:
        user_id = s.scalar(select(User.id).where(User.username == principal.name))
        if user_id is None:
            raise AccountError(f"no user {principal.name!r}")
        s.add(
            WebSession(
                token_hash=_digest(token),
                user_id=user_id,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
                revoked=False,
            )
        )
    return token


def session_principal(registry: Registry, token: str) -> Principal | None:
    """The user of a live session (not expired, not ended, account enabled), else ``None``."""
    now = dt.datetime.now(dt.UTC)
    with registry.reading() as s:
        row = s.scalar(select(WebSession).where(WebSession.token_hash == _digest(token)))
        if row is None or row.revoked:
            return None
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.UTC)
        if expires <= now:
            return None
        user = s.get(User, row.user_id)
        if user is None or user.disabled:
            return None
        return Principal(user.username, user.role)


def end_session(registry: Registry, token: str) -> None:
    from sqlalchemy import update

    with registry.writing() as s:
        s.execute(update(WebSession).where(WebSession.token_hash == _digest(token)).values(revoked=True))
