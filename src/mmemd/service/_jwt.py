"""Verification of the CDS Hooks client JWT — docs/criteria.md §5 "Security / JWT (EHR → service)".

Order of checks (every failure raises :class:`JwtRejected` with a stable ``reason`` code; the token itself is never
put into a message or a log):

1. header: well-formed; ``alg`` present, not ``none`` (§5 "none forbidden"), not HMAC (§5 "symmetric forbidden"),
   one of the configured asymmetric algorithms; ``typ`` = ``JWT``; ``kid`` present.
2. issuer: ``iss`` present and allow-listed (§5 "Services SHOULD allow-list iss and jku"); a ``jku`` header, when
   present, must be on that issuer's ``jku`` allow-list.
3. key: ``kid`` found in the issuer's JWK Set; the key fits ``alg`` (key type, curve, the JWK's own ``alg``/``use``).
4. signature (JWS, RFC 7515) — before any claim is trusted or the ``jti`` is remembered, so a forged token cannot
   fill the replay cache.
5. claims: ``aud`` (string or array) contains the exact endpoint URL called; ``exp`` > now − skew; ``iat`` ≤ now +
   skew; ``exp - iat`` ≤ the configured lifetime; ``jti`` a non-empty string not seen before (remembered until
   ``exp`` + skew).
"""

from __future__ import annotations

import base64
import binascii
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import jwt
from jwt.exceptions import InvalidSignatureError, PyJWKError, PyJWTError

from mmemd._json import JsonInputError, JsonLimits, parse_json
from mmemd.service._cds_config import CdsHooksConfig
from mmemd.service._state import ReplayCache, ReplayStore
from mmemd.service._state import ReplayCacheFull as ReplayCacheFull  # re-exported: raised through verify()

#: reason code → short English explanation (the problem+json ``detail``); tests pin one rejection per code
REASONS: Final[dict[str, str]] = {
    "missing_token": "no 'Authorization: Bearer <JWT>' header",
    "malformed_token": "the bearer token is not a compact JWS (header.payload.signature)",
    "missing_alg": "the JWT header has no 'alg'",
    "alg_none": "'alg' none is forbidden (CDS Hooks: unsecured JWS)",
    "alg_symmetric": "symmetric (HMAC) algorithms are forbidden (CDS Hooks)",
    "alg_not_allowed": "'alg' is not one of the asymmetric algorithms this service accepts",
    "bad_typ": "the JWT header 'typ' must be 'JWT'",
    "missing_kid": "the JWT header has no 'kid'",
    "missing_iss": "the JWT payload has no 'iss'",
    "unknown_issuer": "'iss' is not an allow-listed CDS client",
    "jku_not_allowed": "the 'jku' header is not on the issuer's allow-list",
    "unknown_kid": "'kid' is not in the issuer's JWK Set",
    "key_mismatch": "the key named by 'kid' cannot verify this 'alg'",
    "bad_signature": "the signature does not verify",
    "missing_aud": "the JWT payload has no 'aud'",
    "wrong_audience": "'aud' does not equal the endpoint URL called",
    "missing_exp": "the JWT payload has no numeric 'exp'",
    "expired": "the token has expired",
    "missing_iat": "the JWT payload has no numeric 'iat'",
    "issued_in_future": "'iat' is in the future beyond the allowed clock skew",
    "not_yet_valid": "'nbf' is in the future beyond the allowed clock skew",
    "lifetime_too_long": "'exp' - 'iat' exceeds the longest token lifetime this service accepts",
    "invalid_numeric_date": "'exp', 'iat' or 'nbf' is not a whole number of seconds between 1970 and 9999",
    "missing_jti": "the JWT payload has no 'jti'",
    "replayed_jti": "this 'jti' was already used",
}

#: key type and (for EC/OKP) curve each JWS algorithm needs (RFC 7518 §3, RFC 8037)
_KEY_FOR_ALG: Final[dict[str, tuple[str, str | None]]] = {
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"),
    "EdDSA": ("OKP", None),
}


class JwtRejected(Exception):
    """A CDS client JWT failed a §5 check; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = REASONS[reason]


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    iss: str
    kid: str
    alg: str
    jti: str
    exp: float
    tenant: str | None


# A JOSE header or a CDS client's claim set is a small, flat object: anything near these limits is not a real token.
_TOKEN_JSON_LIMITS: Final = JsonLimits(
    max_bytes=16 * 1024, max_depth=8, max_number_chars=32, max_string_chars=4096
)

# RFC 7519 §2 NumericDate, restricted to whole seconds from the epoch to 9999-12-31T23:59:59Z: a NaN, an infinity or
# 10**400 would otherwise pass (or crash) the comparisons and could pin a replay-cache entry forever.
_LATEST_NUMERIC_DATE: Final = 253_402_300_799


def _b64_json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return parse_json(base64.urlsafe_b64decode(padded.encode("ascii")), limits=_TOKEN_JSON_LIMITS)


def _split(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise JwtRejected("malformed_token")
    try:
        header, payload = _b64_json(parts[0]), _b64_json(parts[1])
    except (JsonInputError, ValueError, binascii.Error, UnicodeError) as exc:
        raise JwtRejected("malformed_token") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise JwtRejected("malformed_token")
    return header, payload


def _number(value: Any) -> float | None:
    """The NumericDate ``value`` of a time claim; None when absent or not a number; rejected when out of range."""
    # RFC 7519 NumericDate: a JSON number (bool is an int in Python and is not a date)
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise JwtRejected("invalid_numeric_date")
    if not 0 <= value <= _LATEST_NUMERIC_DATE:
        raise JwtRejected("invalid_numeric_date")
    return float(value)


class JwtVerifier:
    """Verifies client JWTs against the configured issuers. Build once per app (it parses the JWK Sets)."""

    def __init__(
        self,
        config: CdsHooksConfig,
        clock: Callable[[], float] = time.time,
        replay_cache: ReplayStore | None = None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._algorithms = frozenset(config.algorithms)
        self._skew = config.clock_skew_seconds
        self._keys: dict[str, dict[str, Mapping[str, Any]]] = {}
        self._jku: dict[str, frozenset[str]] = {}
        self._parsed: dict[tuple[str, str, str], Any] = {}
        self._parsed_lock = threading.Lock()
        # in-process unless a shared store is given (several workers or hosts: mmemd.service._state)
        self.replay_cache: ReplayStore = replay_cache or ReplayCache(config.replay_cache_size)
        for issuer in config.issuers:
            self._keys[issuer.iss] = _index_key_set(issuer.iss, issuer.key_set())
            self._jku[issuer.iss] = frozenset(issuer.jku)

    def verify(self, token: str, audience: str) -> VerifiedToken:
        header, payload = _split(token)
        alg = self._check_header(header)
        iss = payload.get("iss")
        if not isinstance(iss, str) or not iss:
            raise JwtRejected("missing_iss")
        keys = self._keys.get(iss)
        if keys is None:
            raise JwtRejected("unknown_issuer")
        jku = header.get("jku")
        # RFC 7515 §4.1.2: jku is a URI, i.e. a string; anything else is refused like an unlisted URI.
        if jku is not None and (not isinstance(jku, str) or jku not in self._jku[iss]):
            raise JwtRejected("jku_not_allowed")
        kid = header["kid"]
        jwk = keys.get(kid)
        if jwk is None:
            raise JwtRejected("unknown_kid")
        key = self._key(iss, kid, alg, jwk)
        try:
            jwt.PyJWS().decode_complete(token, key, algorithms=[alg])
        except InvalidSignatureError as exc:
            raise JwtRejected("bad_signature") from exc
        except PyJWTError as exc:
            raise JwtRejected("malformed_token") from exc
        return self._check_claims(payload, iss, kid, alg, audience)

    def _check_header(self, header: Mapping[str, Any]) -> str:
        alg = header.get("alg")
        if not isinstance(alg, str) or not alg:
            raise JwtRejected("missing_alg")
        if alg.lower() == "none":
            raise JwtRejected("alg_none")
        if alg.upper().startswith("HS"):
            raise JwtRejected("alg_symmetric")
        if alg not in self._algorithms:
            raise JwtRejected("alg_not_allowed")
        # §5 typ "Fixed value: JWT"; RFC 7515 §4.1.9 makes the media type comparison case-insensitive.
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.upper() != "JWT":
            raise JwtRejected("bad_typ")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise JwtRejected("missing_kid")
        return alg

    def _key(self, iss: str, kid: str, alg: str, jwk: Mapping[str, Any]) -> Any:
        cache_key = (iss, kid, alg)
        with self._parsed_lock:
            cached = self._parsed.get(cache_key)
        if cached is not None:
            return cached
        kty, crv = _KEY_FOR_ALG[alg]
        if jwk.get("kty") != kty or (crv is not None and jwk.get("crv") != crv):
            raise JwtRejected("key_mismatch")
        if jwk.get("alg") not in (None, alg) or jwk.get("use") not in (None, "sig"):
            raise JwtRejected("key_mismatch")
        try:
            key = jwt.PyJWK(dict(jwk), algorithm=alg).key
        except (PyJWKError, PyJWTError, ValueError) as exc:
            raise JwtRejected("key_mismatch") from exc
        with self._parsed_lock:
            self._parsed[cache_key] = key
        return key

    def _check_claims(
        self, payload: Mapping[str, Any], iss: str, kid: str, alg: str, audience: str
    ) -> VerifiedToken:
        now = self._clock()
        aud = payload.get("aud")
        if aud is None:
            raise JwtRejected("missing_aud")
        # §5: aud is a string or an array of strings and "must equal the exact endpoint URL called"
        auds = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else None
        if auds is None or audience not in [a for a in auds if isinstance(a, str)]:
            raise JwtRejected("wrong_audience")
        exp = _number(payload.get("exp"))
        if exp is None:
            raise JwtRejected("missing_exp")
        iat = _number(payload.get("iat"))
        if iat is None:
            raise JwtRejected("missing_iat")
        if exp <= now - self._skew:
            raise JwtRejected("expired")
        if iat > now + self._skew:
            raise JwtRejected("issued_in_future")
        if "nbf" in payload:
            nbf = _number(payload["nbf"])
            if nbf is None or nbf > now + self._skew:
                raise JwtRejected("not_yet_valid")
        if exp - iat > self._config.max_token_lifetime_seconds:
            raise JwtRejected("lifetime_too_long")
        jti = payload.get("jti")
        if not isinstance(jti, str) or not jti:
            raise JwtRejected("missing_jti")
        if not self.replay_cache.add(iss, jti, exp + self._skew, now):
            raise JwtRejected("replayed_jti")
        tenant = payload.get("tenant")
        return VerifiedToken(iss, kid, alg, jti, exp, tenant if isinstance(tenant, str) else None)


def _index_key_set(iss: str, key_set: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    keys = key_set.get("keys")
    if not isinstance(keys, list) or not keys:
        raise ValueError(f"issuer {iss!r}: the JWK Set has no 'keys'")
    out: dict[str, Mapping[str, Any]] = {}
    for i, key in enumerate(keys):
        if not isinstance(key, dict):
            raise ValueError(f"issuer {iss!r}: keys[{i}] is not a JWK object")
        if key.get("kty") == "oct":
            # §5: symmetric keys would mean a shared secret — never accepted, even if configured by mistake.
            raise ValueError(
                f"issuer {iss!r}: keys[{i}] is a symmetric ('oct') key; only public keys are accepted"
            )
        if "d" in key:
            raise ValueError(
                f"issuer {iss!r}: keys[{i}] contains a private key; configure the public JWK only"
            )
        kid = key.get("kid")
        if not isinstance(kid, str) or not kid:
            raise ValueError(f"issuer {iss!r}: keys[{i}] has no 'kid' (§5: kid identifies the key)")
        if kid in out:
            raise ValueError(f"issuer {iss!r}: kid {kid!r} is not unique in the JWK Set (§5)")
        out[kid] = key
    return out
