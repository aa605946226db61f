"""REST API-key authentication, as a FastAPI dependency any router can use.

Usage (REST, CDS Hooks or web routers)::

    from fastapi import APIRouter, Depends
    from mmemd.service._auth import require_api_key

    def build_router(config: ServiceConfig) -> APIRouter:
        router = APIRouter(dependencies=[Depends(require_api_key(config))])

``require_api_key(config)`` returns a dependency that accepts the key from ``Authorization: Bearer <key>`` or
``X-API-Key: <key>``, hashes it with SHA-256 and compares the digest with every configured digest in constant time
(``hmac.compare_digest``; every digest is compared, so the time taken does not reveal which one matched or how many
there are). A missing or wrong key raises a 401 problem+json with ``WWW-Authenticate: Bearer``. The dependency also
declares both schemes in OpenAPI, so ``/docs`` shows an "Authorize" button.

No key is needed only in the explicit single-user local mode (``local_mode = true``), which the configuration accepts
only for a loopback bind (``ServiceConfig`` refuses it otherwise). Keys are never logged; the access log records only
whether the request was authenticated.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated, Final

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from mmemd.service._config import ServiceConfig
from mmemd.service._problem import UNAUTHORIZED, ApiProblem

API_KEY_HEADER: Final = "X-API-Key"

# auto_error=False: the dependency decides (and answers in problem+json), these only document the schemes.
_bearer = HTTPBearer(auto_error=False, scheme_name="bearer", description="`Authorization: Bearer <API key>`")
_header = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False, scheme_name="apiKey", description="`X-API-Key: <API key>`"
)


def key_matches(key: str, digests: list[bytes]) -> bool:
    """Constant-time check of a presented key against the stored SHA-256 digests."""
    presented = hashlib.sha256(key.encode("utf-8")).digest()
    ok = False
    for d in digests:
        ok |= hmac.compare_digest(presented, d)
    return ok


def require_api_key(config: ServiceConfig) -> Callable[..., Awaitable[None]]:
    """A FastAPI dependency enforcing the API key on the routes it guards (see the module docstring)."""
    digests = [bytes.fromhex(h) for h in config.api_key_hashes]
    needed = config.key_required

    async def check_api_key(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
        header_key: Annotated[str | None, Security(_header)],
    ) -> None:
        if not needed:
            request.scope["mmemd.auth"] = "local"
            return
        # Every credential presented must be valid: a wrong Authorization is not excused by a good X-API-Key (a
        # client must not learn that a stolen or malformed token is simply ignored), nor is a non-Bearer scheme.
        presented: list[str] = []
        if header_key:
            presented.append(header_key)
        raw_authorization = request.headers.get("authorization")
        if raw_authorization is not None:
            if bearer is None or not bearer.credentials:
                raise ApiProblem(
                    401,
                    type=UNAUTHORIZED,
                    title="Invalid API key",
                    detail="the Authorization header must be 'Bearer <key>'",
                    headers={"WWW-Authenticate": 'Bearer realm="mmemd", error="invalid_token"'},
                )
            presented.append(bearer.credentials)
        key = presented[0] if presented else None
        if not key:
            raise ApiProblem(
                401,
                type=UNAUTHORIZED,
                title="Authentication required",
                detail=f"send an API key as 'Authorization: Bearer <key>' or '{API_KEY_HEADER}: <key>'",
                headers={"WWW-Authenticate": 'Bearer realm="mmemd"'},
            )
        if not all(key_matches(k, digests) for k in presented):
            raise ApiProblem(
                401,
                type=UNAUTHORIZED,
                title="Invalid API key",
                detail="the API key is not valid",
                headers={"WWW-Authenticate": 'Bearer realm="mmemd", error="invalid_token"'},
            )
        request.scope["mmemd.auth"] = "api_key"

    return check_api_key
