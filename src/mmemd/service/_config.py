"""Service configuration: a TOML file, overridable from the environment (``MMEMD_*``).

Environment variables (each overrides the file's key of the same name):

========================== ======================================================================================
``MMEMD_HOST``             bind address
``MMEMD_PORT``             port
``MMEMD_API_KEYS``         comma-separated *plain* API keys: hashed (SHA-256) at load, never stored or logged
``MMEMD_API_KEY_HASHES``   comma-separated SHA-256 hex digests of API keys
``MMEMD_LOCAL_MODE``       ``true``/``false``: single-user mode, no key needed, loopback only
``MMEMD_AUTH_REQUIRED``    ``true``/``false`` (``false`` is accepted only together with local mode)
``MMEMD_MAX_BODY_BYTES``   request body limit in bytes
``MMEMD_CORS_ORIGINS``     comma-separated allowed origins (empty: CORS closed)
``MMEMD_PUBLIC_BASE_URL``  externally visible base URL
``MMEMD_SHUTDOWN_TIMEOUT`` seconds to let in-flight requests finish on SIGTERM/SIGINT
``MMEMD_SHARED_STATE_URL`` ``redis://…`` store shared by several workers/hosts (replay cache, cards, report links)
``MMEMD_DATABASE_URL``     the patient registry's database (``sqlite:///path`` or ``postgresql://...``)
========================== ======================================================================================
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mmemd.service._cds_config import CdsHooksConfig

_HEX64: Final = re.compile(r"^[0-9a-f]{64}$")
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


def hash_api_key(key: str) -> str:
    """The SHA-256 hex digest under which an API key is stored (``printf %s KEY | sha256sum``)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1`` — the only binds allowed in local mode."""
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ServiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    #: authentication on ``/v1`` and ``/cds-services``; on unless the config says otherwise
    auth_required: bool = True
    #: SHA-256 hex digests of the accepted REST API keys (the keys themselves are never stored)
    api_key_hashes: list[str] = Field(default_factory=list)
    #: explicit single-user local mode: the web page and ``/v1`` work without a key, on loopback only
    local_mode: bool = False
    max_body_bytes: int = Field(default=1_000_000, ge=1_024)
    cors_origins: list[str] = Field(default_factory=list)
    #: the externally visible base URL (CDS Hooks ``aud`` must equal the exact endpoint URL called)
    public_base_url: str | None = None
    #: seconds in-flight requests get to finish after SIGTERM/SIGINT before connections are closed
    shutdown_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    cds_hooks: CdsHooksConfig = Field(default_factory=CdsHooksConfig)
    #: a request (headers and body) must arrive whole within this many seconds of its first byte, or the
    #: connection is closed (slow or idle clients cannot hold sockets)
    request_read_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    #: an idle keep-alive connection is closed after this many seconds
    keep_alive_timeout_seconds: int = Field(default=5, ge=1, le=300)
    #: open connections plus in-flight requests per worker; beyond it uvicorn answers 503
    max_connections: int = Field(default=2048, ge=16)
    #: at most this many bytes are buffered while a request line and headers are still incomplete (h11 answers 400)
    max_header_bytes: int = Field(default=16_384, ge=1_024)
    #: reports (HTML/PDF) rendered at once, and waiting beyond those; more get 503 with Retry-After
    report_workers: int = Field(default=1, ge=1, le=64)
    report_queue: int = Field(default=8, ge=0, le=1_000)
    #: render reports in separate processes (memory returns after a burst; the GIL is not shared) or in threads
    report_isolation: Literal["process", "thread"] = "process"
    #: FHIR imports (``POST /v1/fhir/assessments``, CDS ``patient-view``) run at once, and waiting beyond those; more
    #: get 503 with Retry-After
    import_workers: int = Field(default=1, ge=1, le=64)
    import_queue: int = Field(default=32, ge=0, le=1_000)
    #: run FHIR imports in a separate process (off this process's interpreter lock) or in threads
    import_isolation: Literal["process", "thread"] = "process"
    #: evidence searches and claim look-ups (run in the request thread pool) at once; more get 503 with Retry-After
    evidence_concurrency: int = Field(default=16, ge=1, le=1_000)
    #: a Redis/Valkey URL (``redis://``, ``rediss://``, ``unix://``) for the state shared by several workers or
    #: hosts; unset: in-process, one worker only (``mmemd serve --workers`` > 1 is refused)
    shared_state_url: str | None = None

    @field_validator("shared_state_url")
    @classmethod
    def _redis_url(cls, v: str | None) -> str | None:
        from mmemd.service._state import REDIS_SCHEMES

        if v is not None and not v.startswith(REDIS_SCHEMES):
            # Not echoed: the URL may carry a password.
            raise ValueError(f"shared_state_url must start with one of {', '.join(REDIS_SCHEMES)}")
        return v

    #: the patient registry's database: ``sqlite:///path/registry.sqlite3`` or ``postgresql://user@host/db``;
    #: unset: ``registry.sqlite3`` in the data directory (``MMEMD_DATA_DIR``, else ``$XDG_DATA_HOME/mmemd``)
    database_url: str | None = None

    @field_validator("api_key_hashes")
    @classmethod
    def _hex_digests(cls, v: list[str]) -> list[str]:
        out = []
        for i, h in enumerate(v):
            h = h.strip().lower()
            if not _HEX64.match(h):
                # Never echo the value: a plain key pasted here by mistake must not reach a log.
                raise ValueError(
                    f"api_key_hashes[{i}] is not a SHA-256 hex digest (64 hex characters); store the digest of the "
                    "key (printf %s KEY | sha256sum), or pass plain keys in MMEMD_API_KEYS"
                )
            out.append(h)
        return out

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, v: list[str]) -> list[str]:
        # A wildcard would let any web page a clinician visits call the API with the browser's ambient credentials;
        # origins must be listed one by one.
        if "*" in v:
            raise ValueError("cors_origins must list explicit origins; '*' is not allowed")
        return v

    @model_validator(mode="after")
    def _auth_off_only_locally(self) -> Self:
        if self.local_mode and not is_loopback(self.host):
            raise ValueError(
                f"local_mode is allowed only when bound to loopback (127.0.0.1, ::1, localhost), not {self.host!r}"
            )
        if not self.auth_required and not self.local_mode:
            raise ValueError(
                "auth_required = false is allowed only with local_mode = true (on a loopback host)"
            )
        return self

    @property
    def key_required(self) -> bool:
        """Whether ``/v1`` requests must carry an API key."""
        return self.auth_required and not self.local_mode


def _split(v: str) -> list[str]:
    return [p.strip() for p in v.split(",") if p.strip()]


def _bool(name: str, v: str) -> bool:
    s = v.strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueError(f"{name} must be true or false, not {v!r}")


def env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    """The config keys set by ``MMEMD_*`` variables; plain ``MMEMD_API_KEYS`` come back hashed."""
    out: dict[str, Any] = {}
    if "MMEMD_HOST" in env:
        out["host"] = env["MMEMD_HOST"]
    if "MMEMD_PORT" in env:
        out["port"] = env["MMEMD_PORT"]
    if "MMEMD_MAX_BODY_BYTES" in env:
        out["max_body_bytes"] = env["MMEMD_MAX_BODY_BYTES"]
    if "MMEMD_PUBLIC_BASE_URL" in env:
        out["public_base_url"] = env["MMEMD_PUBLIC_BASE_URL"] or None
    if "MMEMD_SHUTDOWN_TIMEOUT" in env:
        out["shutdown_timeout_seconds"] = env["MMEMD_SHUTDOWN_TIMEOUT"]
    if "MMEMD_SHARED_STATE_URL" in env:
        out["shared_state_url"] = env["MMEMD_SHARED_STATE_URL"] or None
    if "MMEMD_DATABASE_URL" in env:
        out["database_url"] = env["MMEMD_DATABASE_URL"] or None
    if "MMEMD_CORS_ORIGINS" in env:
        out["cors_origins"] = _split(env["MMEMD_CORS_ORIGINS"])
    for name, key in (("MMEMD_LOCAL_MODE", "local_mode"), ("MMEMD_AUTH_REQUIRED", "auth_required")):
        if name in env:
            out[key] = _bool(name, env[name])
    hashes: list[str] = []
    if "MMEMD_API_KEY_HASHES" in env:
        hashes += _split(env["MMEMD_API_KEY_HASHES"])
    if "MMEMD_API_KEYS" in env:
        hashes += [hash_api_key(k) for k in _split(env["MMEMD_API_KEYS"])]
    if hashes:
        out["api_key_hashes"] = hashes
    return out


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> ServiceConfig:
    """Read a TOML config (all keys optional; ``None``: defaults), then apply ``MMEMD_*`` overrides.

    Keys from the environment are added to the file's (``api_key_hashes``) or replace them (every other key).
    """
    data: dict[str, Any] = {}
    if path is not None:
        import tomllib

        with Path(path).open("rb") as fh:
            data = tomllib.load(fh)
    over = env_overrides(os.environ if env is None else env)
    if "api_key_hashes" in over:
        over["api_key_hashes"] = [*data.get("api_key_hashes", []), *over["api_key_hashes"]]
    data.update(over)
    return ServiceConfig.model_validate(data)
