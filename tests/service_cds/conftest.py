"""Fixtures for the CDS Hooks tests (helpers in ``cds_support``; a uniquely named module, because ``conftest`` is
also the root conftest's module name)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cds_support import ISS, NOW, SERVICE_URL, TokenFactory, make_app, make_config, public_jwk
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from mmemd.service._config import ServiceConfig


@pytest.fixture(scope="session")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="session")
def jwks(ec_key: Any, rsa_key: Any) -> dict[str, Any]:
    return {"keys": [public_jwk(ec_key, "ec-1", "ES384"), public_jwk(rsa_key, "rsa-1", "RS384")]}


@pytest.fixture
def config(jwks: dict[str, Any]) -> ServiceConfig:
    return make_config(jwks)


@pytest.fixture
def token(ec_key: Any, rsa_key: Any) -> TokenFactory:
    """``token(aud=..., **claim_overrides, headers=..., key=..., alg=...)``; a claim set to ``None`` is left out."""

    def make(
        aud: Any = SERVICE_URL,
        *,
        alg: str = "ES384",
        key: Any = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        payload: dict[str, Any] = {
            "iss": ISS,
            "aud": aud,
            "iat": int(NOW),
            "exp": int(NOW) + 300,
            "jti": str(uuid.uuid4()),
        }
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        hdr = {"kid": "ec-1" if alg.startswith("ES") else "rsa-1", "typ": "JWT"}
        hdr.update(headers or {})
        # a None kid is left out; a None typ is passed on (PyJWT then omits the typ it would otherwise add)
        hdr = {k: v for k, v in hdr.items() if v is not None or k == "typ"}
        if key is None:
            key = ec_key if alg.startswith("ES") else rsa_key
        return jwt.encode(payload, key, algorithm=alg, headers=hdr)

    return make


@pytest.fixture
def client(config: ServiceConfig) -> Iterator[TestClient]:
    app, _ = make_app(config)
    with TestClient(app) as c:
        yield c
