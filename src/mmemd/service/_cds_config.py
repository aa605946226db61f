"""Settings for the CDS Hooks endpoints and their JWT checks (clinical-criteria.md §5)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TrustedIssuer(BaseModel):
    """An EHR allowed to call the CDS service: its ``iss`` and the keys it signs with."""

    model_config = ConfigDict(extra="forbid")

    iss: str
    #: the issuer's JWK Set, inline (exchanged out of band, §5 "else JWKS exchanged out-of-band")
    jwks: dict[str, object] | None = None
    #: or a path to a JWK Set file
    jwks_file: str | None = None
    #: allow-listed ``jku`` URLs this issuer may name (§5: "Services SHOULD allow-list iss and jku")
    jku: list[str] = Field(default_factory=list)


class CdsHooksConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    issuers: list[TrustedIssuer] = Field(default_factory=list)
    #: [I] §5 validation checklist: "clock skew ≤ ~60 s"
    clock_skew_seconds: int = Field(default=60, ge=0, le=300)
