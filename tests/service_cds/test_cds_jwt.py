"""One test per JWT rejection reason of docs/criteria.md §5, through the discovery endpoint (every call carries
the JWT, §5), plus the unit-level properties of the verifier (replay cache, key set checks, config checks)."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import jwt
import pytest
from cds_support import DISCOVERY_URL, ISS, NOW, SERVICE_URL, TokenFactory, bearer, make_app, make_config
from fastapi.testclient import TestClient
from pydantic import ValidationError

from mmemd.service import ServiceConfig
from mmemd.service._cds_config import CdsHooksConfig, TrustedIssuer
from mmemd.service._jwt import REASONS, JwtRejected, JwtVerifier, ReplayCache, ReplayCacheFull


def b64(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: str = "c2ln") -> str:
    return f"{b64(header)}.{b64(payload)}.{signature}"


def claims(**over: Any) -> dict[str, Any]:
    base = {"iss": ISS, "aud": DISCOVERY_URL, "iat": int(NOW), "exp": int(NOW) + 300, "jti": "j-1"}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def rejected(client: TestClient, tok: str | None, reason: str) -> None:
    headers = {} if tok is None else bearer(tok)
    resp = client.get("/cds-services", headers=headers)
    assert resp.status_code == 401, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["reason"] == reason
    assert body["status"] == 401
    assert body["detail"] == REASONS[reason]
    assert "invalid_token" in resp.headers["www-authenticate"]
    if tok is not None:
        assert tok not in resp.text  # never echo the token


def test_valid_token_is_accepted(client: TestClient, token: TokenFactory) -> None:
    resp = client.get("/cds-services", headers=bearer(token(DISCOVERY_URL)))
    assert resp.status_code == 200
    assert resp.json()["services"][0]["id"] == "mmemd-patient-view"


def test_rs384_token_is_accepted(client: TestClient, token: TokenFactory) -> None:
    assert client.get("/cds-services", headers=bearer(token(DISCOVERY_URL, alg="RS384"))).status_code == 200


def test_missing_authorization_header(client: TestClient) -> None:
    rejected(client, None, "missing_token")


def test_non_bearer_scheme(client: TestClient, token: TokenFactory) -> None:
    resp = client.get("/cds-services", headers={"Authorization": f"Basic {token(DISCOVERY_URL)}"})
    assert resp.status_code == 401 and resp.json()["reason"] == "missing_token"


def test_malformed_token(client: TestClient) -> None:
    rejected(client, "not-a-jwt", "malformed_token")


def test_alg_none(client: TestClient) -> None:
    tok = unsigned({"alg": "none", "typ": "JWT", "kid": "ec-1"}, claims(), signature="")
    rejected(client, tok, "alg_none")


def test_alg_none_signed_by_pyjwt(client: TestClient) -> None:
    tok = jwt.encode(claims(), None, algorithm="none", headers={"kid": "ec-1", "typ": "JWT"})
    rejected(client, tok, "alg_none")


def test_hs256(client: TestClient) -> None:
    # An HMAC token "signed" with the issuer's public key as the secret: the classic key-confusion attack.
    tok = jwt.encode(
        claims(), "a-shared-secret-of-enough-length-32b", algorithm="HS256", headers={"kid": "ec-1"}
    )
    rejected(client, tok, "alg_symmetric")


def test_hs384_also_rejected(client: TestClient) -> None:
    tok = jwt.encode(
        claims(),
        "a-shared-secret-of-enough-length-48-bytes-long!!",
        algorithm="HS384",
        headers={"kid": "ec-1"},
    )
    rejected(client, tok, "alg_symmetric")


def test_missing_alg(client: TestClient) -> None:
    rejected(client, unsigned({"typ": "JWT", "kid": "ec-1"}, claims()), "missing_alg")


def test_alg_not_allowed(client: TestClient, token: TokenFactory) -> None:
    # RS256 is asymmetric but not in the default list (ES384, RS384, §5 RECOMMENDED)
    rejected(client, token(DISCOVERY_URL, alg="RS256"), "alg_not_allowed")


def test_missing_typ(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(DISCOVERY_URL, headers={"typ": None}), "bad_typ")


def test_wrong_typ(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(DISCOVERY_URL, headers={"typ": "at+jwt"}), "bad_typ")


def test_missing_kid(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(DISCOVERY_URL, headers={"kid": None}), "missing_kid")


def test_unknown_kid(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(DISCOVERY_URL, headers={"kid": "nope"}), "unknown_kid")


def test_missing_iss(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(DISCOVERY_URL, iss=None), "missing_iss")


def test_unknown_iss(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(DISCOVERY_URL, iss="https://evil.example.com"), "unknown_issuer")


def test_jku_not_allow_listed(client: TestClient, token: TokenFactory) -> None:
    rejected(
        client, token(DISCOVERY_URL, headers={"jku": "https://evil.example.com/jwks"}), "jku_not_allowed"
    )


def test_allow_listed_jku_is_accepted(client: TestClient, token: TokenFactory) -> None:
    tok = token(DISCOVERY_URL, headers={"jku": "https://ehr.example.org/jwks.json"})
    assert client.get("/cds-services", headers=bearer(tok)).status_code == 200


def test_bad_signature(client: TestClient, token: TokenFactory, other_ec_key: Any) -> None:
    rejected(client, token(DISCOVERY_URL, key=other_ec_key), "bad_signature")


def test_tampered_payload(client: TestClient, token: TokenFactory) -> None:
    head, _, sig = token(DISCOVERY_URL).split(".")
    forged = f"{head}.{b64(claims(iss=ISS, jti='other'))}.{sig}"
    rejected(client, forged, "bad_signature")


def test_key_of_wrong_type_for_alg(client: TestClient, token: TokenFactory, ec_key: Any) -> None:
    # ES384 header naming the RSA key's kid
    rejected(client, token(DISCOVERY_URL, key=ec_key, headers={"kid": "rsa-1"}), "key_mismatch")


def test_wrong_audience(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(SERVICE_URL), "wrong_audience")  # a token for the service, used on discovery


def test_audience_of_another_host(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token("https://other.example.org/cds-services"), "wrong_audience")


def test_audience_array_containing_endpoint(client: TestClient, token: TokenFactory) -> None:
    tok = token(["https://x.example/cds-services", DISCOVERY_URL])
    assert client.get("/cds-services", headers=bearer(tok)).status_code == 200


def test_audience_array_without_endpoint(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(["https://x.example/cds-services"]), "wrong_audience")


def test_missing_aud(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(None), "missing_aud")


def test_expired(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(DISCOVERY_URL, iat=int(NOW) - 400, exp=int(NOW) - 61), "expired")


def test_expired_within_skew_is_accepted(client: TestClient, token: TokenFactory) -> None:
    tok = token(DISCOVERY_URL, iat=int(NOW) - 300, exp=int(NOW) - 59)
    assert client.get("/cds-services", headers=bearer(tok)).status_code == 200


def test_missing_exp(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(DISCOVERY_URL, exp=None), "missing_exp")


def test_non_numeric_exp(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(DISCOVERY_URL, exp="1800000300"), "missing_exp")


def test_missing_iat(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(DISCOVERY_URL, iat=None), "missing_iat")


def test_iat_in_future_beyond_skew(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(DISCOVERY_URL, iat=int(NOW) + 61, exp=int(NOW) + 361), "issued_in_future")


def test_iat_in_future_within_skew_is_accepted(client: TestClient, token: TokenFactory) -> None:
    tok = token(DISCOVERY_URL, iat=int(NOW) + 59, exp=int(NOW) + 359)
    assert client.get("/cds-services", headers=bearer(tok)).status_code == 200


def test_nbf_in_future(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(DISCOVERY_URL, nbf=int(NOW) + 120), "not_yet_valid")


def test_lifetime_too_long(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(DISCOVERY_URL, exp=int(NOW) + 3600), "lifetime_too_long")


def test_missing_jti(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(DISCOVERY_URL, jti=None), "missing_jti")


def test_empty_jti(client: TestClient, token: TokenFactory) -> None:
    rejected(client, token(DISCOVERY_URL, jti=""), "missing_jti")


def test_replayed_jti(client: TestClient, token: TokenFactory) -> None:
    tok = token(DISCOVERY_URL)
    assert client.get("/cds-services", headers=bearer(tok)).status_code == 200
    rejected(client, tok, "replayed_jti")


def test_rejected_token_does_not_consume_its_jti(
    client: TestClient, token: TokenFactory, other_ec_key: Any
) -> None:
    # A forged token must not poison the replay cache: the genuine token with the same jti still passes.
    rejected(client, token(DISCOVERY_URL, key=other_ec_key, jti="shared"), "bad_signature")
    assert client.get("/cds-services", headers=bearer(token(DISCOVERY_URL, jti="shared"))).status_code == 200


def test_every_reason_has_a_test() -> None:
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    untested = [r for r in REASONS if f'"{r}"' not in source.replace(f'"{r}"' + " in source", "")]
    assert untested == []


# ---- verifier units --------------------------------------------------------------------------------------------
def test_replay_cache_is_thread_safe() -> None:
    cache = ReplayCache(1000)
    wins: list[bool] = []
    lock = threading.Lock()

    def attempt() -> None:
        ok = cache.add(ISS, "same", NOW + 300, NOW)
        with lock:
            wins.append(ok)

    threads = [threading.Thread(target=attempt) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1


def test_replay_cache_forgets_expired_entries_and_refuses_when_full() -> None:
    cache = ReplayCache(2)
    assert cache.add(ISS, "a", NOW + 10, NOW)
    assert cache.add(ISS, "b", NOW + 20, NOW)
    with pytest.raises(ReplayCacheFull):
        cache.add(ISS, "c", NOW + 30, NOW)
    assert cache.add(ISS, "c", NOW + 30, NOW + 15)  # "a" expired and was purged
    assert len(cache) == 2


def test_replay_cache_full_answers_503(jwks: dict[str, Any], token: TokenFactory) -> None:
    app, state = make_app(make_config(jwks, replay_cache_size=100))
    with TestClient(app) as c:
        for _ in range(100):
            assert c.get("/cds-services", headers=bearer(token(DISCOVERY_URL))).status_code == 200
        resp = c.get("/cds-services", headers=bearer(token(DISCOVERY_URL)))
    assert resp.status_code == 503
    assert resp.headers["retry-after"] == "5"
    assert state.verifier is not None and len(state.verifier.replay_cache) == 100


def test_verifier_direct_reason(jwks: dict[str, Any], token: TokenFactory) -> None:
    verifier = JwtVerifier(make_config(jwks).cds_hooks, clock=lambda: NOW)
    verified = verifier.verify(token(SERVICE_URL, tenant="t-1"), SERVICE_URL)
    assert (verified.iss, verified.kid, verified.alg, verified.tenant) == (ISS, "ec-1", "ES384", "t-1")
    with pytest.raises(JwtRejected) as err:
        verifier.verify(token(SERVICE_URL), DISCOVERY_URL)
    assert err.value.reason == "wrong_audience"


def test_config_refuses_symmetric_and_none_algorithms() -> None:
    for alg in ("HS256", "none"):
        with pytest.raises(ValidationError):
            CdsHooksConfig(algorithms=[alg])


def test_config_allows_other_asymmetric_algorithms(jwks: dict[str, Any], token: TokenFactory) -> None:
    unpinned = {"keys": [{k: v for k, v in key.items() if k != "alg"} for key in jwks["keys"]]}
    app, _ = make_app(make_config(unpinned, algorithms=["ES384", "RS384", "RS256"]))
    with TestClient(app) as c:
        assert c.get("/cds-services", headers=bearer(token(DISCOVERY_URL, alg="RS256"))).status_code == 200
    # with the JWK's own "alg" pinned to RS384 the same token is refused
    app, _ = make_app(make_config(jwks, algorithms=["ES384", "RS384", "RS256"]))
    with TestClient(app) as c:
        resp = c.get("/cds-services", headers=bearer(token(DISCOVERY_URL, alg="RS256")))
    assert resp.status_code == 401 and resp.json()["reason"] == "key_mismatch"


def test_key_set_refuses_symmetric_private_and_duplicate_keys(jwks: dict[str, Any]) -> None:
    bad_sets = [
        {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]},
        {"keys": [{**jwks["keys"][0], "d": "cHJpdmF0ZQ"}]},
        {"keys": [jwks["keys"][0], jwks["keys"][0]]},
        {"keys": [{k: v for k, v in jwks["keys"][0].items() if k != "kid"}]},
        {"keys": []},
    ]
    for key_set in bad_sets:
        with pytest.raises(ValueError):
            JwtVerifier(CdsHooksConfig(issuers=[TrustedIssuer(iss=ISS, jwks=key_set)]))


def test_jwks_file(tmp_path: Any, jwks: dict[str, Any], token: TokenFactory) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    cfg = CdsHooksConfig(issuers=[TrustedIssuer(iss=ISS, jwks_file=str(path))])
    assert JwtVerifier(cfg, clock=lambda: NOW).verify(token(SERVICE_URL), SERVICE_URL).kid == "ec-1"


def test_no_issuers_configured_rejects_everything(token: TokenFactory) -> None:
    from mmemd.service._config import ServiceConfig

    app, _ = make_app(ServiceConfig())
    with TestClient(app) as c:
        resp = c.get("/cds-services", headers=bearer(token(DISCOVERY_URL)))
    assert resp.status_code == 401 and resp.json()["reason"] == "unknown_issuer"


def test_public_base_url_defines_the_audience(jwks: dict[str, Any], token: TokenFactory) -> None:
    cfg = make_config(jwks).model_copy(update={"public_base_url": "https://cds.example.org/"})
    app, _ = make_app(cfg)
    with TestClient(app) as c:
        ok = c.get("/cds-services", headers=bearer(token("https://cds.example.org/cds-services")))
        internal = c.get("/cds-services", headers=bearer(token(DISCOVERY_URL)))
    assert ok.status_code == 200
    assert internal.status_code == 401 and internal.json()["reason"] == "wrong_audience"


# ---- hostile time claims and headers (never a 500, never a replay-cache entry that cannot expire) ------------------
def signed_raw(payload: bytes, key: Any, headers: dict[str, Any] | None = None) -> str:
    """A token whose payload is these exact bytes (to write JSON literals json.dumps cannot produce)."""
    return jwt.PyJWS().encode(
        payload, key, algorithm="ES384", headers={"kid": "ec-1", "typ": "JWT", **(headers or {})}
    )


def raw_claims(**literals: str) -> bytes:
    base = {"iss": json.dumps(ISS), "aud": json.dumps(DISCOVERY_URL), "iat": str(int(NOW))}
    base |= {"exp": str(int(NOW) + 300), "jti": '"j-raw"'}
    base |= literals
    return ("{" + ", ".join(f'"{k}": {v}' for k, v in base.items()) + "}").encode()


@pytest.mark.parametrize(
    ("claim", "literal"),
    [
        ("exp", "1e400"),  # parses to an infinite float
        ("exp", str(10**20)),  # an integer far beyond year 9999
        ("exp", f"{int(NOW) + 300}.5"),  # not a whole second
        ("iat", "-1"),  # before the epoch
        ("nbf", "1e400"),
    ],
)
def test_time_claim_out_of_range(client: TestClient, ec_key: Any, claim: str, literal: str) -> None:
    rejected(client, signed_raw(raw_claims(**{claim: literal}), ec_key), "invalid_numeric_date")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1" * 4301])
def test_time_claim_that_is_not_json_or_too_long_is_malformed(
    client: TestClient, ec_key: Any, literal: str
) -> None:
    rejected(client, signed_raw(raw_claims(exp=literal), ec_key), "malformed_token")


def test_refused_time_claims_never_enter_the_replay_cache(config: ServiceConfig, ec_key: Any) -> None:
    # A NaN exp used to be remembered forever (NaN <= now is false), filling the cache until every call got 503.
    app, state = make_app(config)
    with TestClient(app) as c:
        for literal in ("NaN", "1e400", str(10**20)):
            resp = c.get("/cds-services", headers=bearer(signed_raw(raw_claims(exp=literal), ec_key)))
            assert resp.status_code == 401
        assert state.verifier is not None
        assert len(state.verifier.replay_cache) == 0


@pytest.mark.parametrize("jku", [["https://ehr.example.org/jwks.json"], {"url": "x"}, 1, True])
def test_jku_that_is_not_a_string(client: TestClient, token: TokenFactory, jku: Any) -> None:
    rejected(client, token(DISCOVERY_URL, headers={"jku": jku}), "jku_not_allowed")


@pytest.mark.parametrize("part", ["header", "payload"])
def test_deeply_nested_header_or_payload(client: TestClient, part: str) -> None:
    deep = "[" * 5000 + "]" * 5000
    header = b64({"alg": "ES384", "typ": "JWT", "kid": "ec-1"})
    payload = b64(claims())
    raw = base64.urlsafe_b64encode(('{"x": ' + deep + "}").encode()).rstrip(b"=").decode()
    tok = f"{raw}.{payload}.c2ln" if part == "header" else f"{header}.{raw}.c2ln"
    rejected(client, tok, "malformed_token")
