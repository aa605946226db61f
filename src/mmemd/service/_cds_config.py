"""Settings for the CDS Hooks endpoints and their JWT checks (docs/criteria.md §5).

Every value that §5 marks [I] (an implementation reading) is a named field here whose comment cites the section.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: §5 "ES384 and RS384 RECOMMENDED"; the other asymmetric JWS algorithms of RFC 7518 may be allowed in the config.
ASYMMETRIC_ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
RECOMMENDED_ALGORITHMS: Final = ("ES384", "RS384")


class TrustedIssuer(BaseModel):
    """An EHR allowed to call the CDS service: its ``iss`` and the keys it signs with."""

    model_config = ConfigDict(extra="forbid")

    iss: str = Field(min_length=1)
    #: the issuer's JWK Set, inline (exchanged out of band, §5 "else JWKS exchanged out-of-band")
    jwks: dict[str, Any] | None = None
    #: or a path to a JWK Set file
    jwks_file: str | None = None
    #: allow-listed ``jku`` URLs this issuer may name (§5: "Services SHOULD allow-list iss and jku"). A token naming a
    #: ``jku`` outside this list is rejected. The keys are still taken from ``jwks``/``jwks_file`` (the copy of that JWK
    #: Set exchanged out of band): nothing is downloaded at run time.
    jku: list[str] = Field(default_factory=list)
    #: FHIR base URLs of this issuer's EHR: a hook request's ``fhirServer`` must be one of these (or lie under one)
    #: before anything is fetched from it; empty: nothing is ever fetched for this issuer (mmemd.service._fhir_egress)
    fhir_servers: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_key_source(self) -> TrustedIssuer:
        if (self.jwks is None) == (self.jwks_file is None):
            raise ValueError(f"issuer {self.iss!r}: give exactly one of jwks or jwks_file")
        return self

    def key_set(self) -> dict[str, Any]:
        """The issuer's JWK Set as a dict (read from ``jwks_file`` when given)."""
        if self.jwks is not None:
            return self.jwks
        assert self.jwks_file is not None
        data = json.loads(Path(self.jwks_file).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"issuer {self.iss!r}: {self.jwks_file} is not a JWK Set object")
        return data


class CdsHooksConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    issuers: list[TrustedIssuer] = Field(default_factory=list)
    #: [I] §5 validation checklist: "clock skew ≤ ~60 s" — applied to ``exp`` (expired) and ``iat`` (in the future)
    clock_skew_seconds: int = Field(default=60, ge=0, le=300)
    #: asymmetric algorithms accepted (§5: none and HMAC are forbidden, ES384 and RS384 recommended); only members of
    #: ``ASYMMETRIC_ALGORITHMS`` may be listed
    algorithms: list[str] = Field(default_factory=lambda: list(RECOMMENDED_ALGORITHMS), min_length=1)
    #: [I] not in §5: longest accepted ``exp - iat``. It bounds how long a ``jti`` must be remembered for replay
    #: protection (§5 "cache until exp"); CDS clients typically issue 5-minute tokens.
    max_token_lifetime_seconds: int = Field(default=600, ge=60, le=86_400)
    #: [I] replay cache size; when it is full of unexpired ``jti`` s new calls are refused (503) rather than evicting
    #: an entry that could then be replayed
    replay_cache_size: int = Field(default=200_000, ge=100)
    #: timeout for fetching missing prefetch data from the client's ``fhirServer`` (§5 latency ~500 ms)
    fhir_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    #: spec: fhirServer "scheme MUST be https when production data is exchanged" — plain http only when allowed here
    #: (a test FHIR server on loopback); the access token is never sent over plain http otherwise
    fhir_allow_http: bool = False
    #: [I] a FHIR search page limit: at most this many ``next`` links are followed per prefetch key
    fhir_max_pages: int = Field(default=20, ge=1, le=100)
    #: language of the cards (summary, detail, labels); the report links offer both
    card_language: Literal["en", "zh"] = "en"
    #: the full-report link on each card (a capability URL valid for ``report_link_ttl_seconds``, in memory only)
    report_links: bool = True
    report_link_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    report_link_max_entries: int = Field(default=1_000, ge=1)
    #: issued card uuids are remembered this long so that feedback on an unknown card can be told apart
    card_registry_ttl_seconds: int = Field(default=7 * 86_400, ge=60)
    card_registry_max_entries: int = Field(default=100_000, ge=100)

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if a not in ASYMMETRIC_ALGORITHMS]
        if bad:
            # §5: "JWTs SHALL NOT be signed using the none algorithm" nor "any symmetric algorithm".
            raise ValueError(
                f"not an allowed asymmetric JWS algorithm: {', '.join(bad)} (docs/criteria.md §5)"
            )
        return value

    @model_validator(mode="after")
    def _unique_issuers(self) -> CdsHooksConfig:
        seen = [i.iss for i in self.issuers]
        dupes = sorted({i for i in seen if seen.count(i) > 1})
        if dupes:
            raise ValueError(f"issuer listed twice: {', '.join(dupes)}")
        return self
