"""Service configuration: a TOML file, overridable from the environment (``MMEMD_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from mmemd.service._cds_config import CdsHooksConfig


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
    cds_hooks: CdsHooksConfig = Field(default_factory=CdsHooksConfig)


def load_config(path: str | Path | None = None) -> ServiceConfig:
    """Read a TOML config (all fields optional); ``None`` gives the defaults."""
    if path is None:
        return ServiceConfig()
    import tomllib

    with Path(path).open("rb") as fh:
        return ServiceConfig.model_validate(tomllib.load(fh))
