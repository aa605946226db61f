"""The service's outer ASGI layer: request id, body size limit, access log, and the last-resort 500.

One pure ASGI middleware (no ``BaseHTTPMiddleware``: it would buffer streaming bodies and cost a task per request):

* **Request id** — ``X-Request-ID`` from the caller when it is a short token (``[A-Za-z0-9._-]{1,64}``), else a new
  UUID4; echoed in the response header and in every problem's ``instance``.
* **Body limit** — a ``Content-Length`` above ``max_body_bytes`` is refused before the app runs; a chunked body is
  counted as it is read and cut off at the limit. Either way the answer is 413 problem+json (with
  ``Connection: close``: the rest of the body is not read).
* **Access log** — one JSON line per request on the ``mmemd.access`` logger: request id, method, *route template*
  (``/v1/evidence/{claim_id}``, never the concrete path), status, duration in ms, response bytes. No bodies, no
  query strings, no headers, no client address: nothing that could carry patient data.
* **Unhandled exceptions** — answered with a 500 problem+json that discloses nothing; logged on ``mmemd.error`` with
  the exception *type* and the stack frames (file, line, function) but not the message, which could quote input.
  The exception is not re-raised, so the server process never sees it and stays up.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
import uuid
from typing import Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mmemd.service._problem import (
    BODY_TOO_LARGE,
    INTERNAL_ERROR,
    PROBLEM_MEDIA_TYPE,
    problem_body,
    request_instance,
)

access_log: Final = logging.getLogger("mmemd.access")
error_log: Final = logging.getLogger("mmemd.error")

REQUEST_ID_HEADER: Final = "x-request-id"
_REQUEST_ID: Final = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_METHOD: Final = re.compile(r"^[A-Z]{1,16}$")


class BodyTooLarge(Exception):
    """The request body grew past the configured limit while being read."""


def _header(scope: Scope, name: bytes) -> bytes | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return bytes(v)
    return None


def _route_template(scope: Scope) -> str | None:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


def _frames(exc: BaseException) -> list[str]:
    out = []
    for fr in traceback.extract_tb(exc.__traceback__):
        name = fr.filename
        i = name.rfind("site-packages/")
        j = name.rfind("/mmemd/")
        name = name[i + 14 :] if i >= 0 else name[j + 1 :] if j >= 0 else name.rsplit("/", 1)[-1]
        out.append(f"{name}:{fr.lineno} in {fr.name}")
    return out[-15:]


class ServiceMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        incoming = _header(scope, b"x-request-id")
        rid = incoming.decode("ascii", "replace") if incoming else ""
        if not _REQUEST_ID.match(rid):
            rid = uuid.uuid4().hex
        scope["mmemd.request_id"] = rid
        limit = self.max_body_bytes
        rid_header = (REQUEST_ID_HEADER.encode(), rid.encode())

        status = 0
        started = False
        suppressed = False  # the app's own answer to a cut-off body, replaced by our 413
        too_large = False
        sent_bytes = 0
        received = 0

        async def send_problem(
            code: int, extra_headers: list[tuple[bytes, bytes]] | None = None, **fields: Any
        ) -> None:
            nonlocal status, started, sent_bytes
            body = json.dumps(
                problem_body(code, instance=request_instance(rid), **fields), ensure_ascii=False
            ).encode()
            headers = [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                rid_header,
                (b"x-content-type-options", b"nosniff"),
                (b"cache-control", b"no-store"),
                *(extra_headers or []),
            ]
            status, started, sent_bytes = code, True, len(body)
            await send({"type": "http.response.start", "status": code, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        async def send_413() -> None:
            await send_problem(
                413,
                extra_headers=[(b"connection", b"close")],
                type=BODY_TOO_LARGE,
                title="Request body too large",
                detail=f"the request body exceeds the limit of {limit} bytes",
            )

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise BodyTooLarge
            return message

        async def wrapped_send(message: Message) -> None:
            nonlocal status, started, suppressed, sent_bytes
            if suppressed:
                return
            if message["type"] == "http.response.start":
                if too_large:
                    # The app (or a framework layer) answered a body we cut off, e.g. FastAPI's generic 400 for a
                    # body it could not read; the caller must learn the real reason.
                    suppressed = True
                    return
                headers = list(message.get("headers", ()))
                names = {k.lower() for k, _ in headers}
                headers.append(rid_header)
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if b"cache-control" not in names:
                    # Responses carry patient-derived data: no shared or browser cache may keep them.
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
                status, started = int(message["status"]), True
            elif message["type"] == "http.response.body":
                sent_bytes += len(message.get("body", b""))
            await send(message)

        try:
            declared = _header(scope, b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                too_large = True
                await send_413()
                return
            try:
                await self.app(scope, limited_receive, wrapped_send)
            except Exception as exc:
                if too_large and not started:
                    await send_413()
                elif not started:
                    self._log_error(exc, rid, scope)
                    await send_problem(
                        500,
                        type=INTERNAL_ERROR,
                        title="Internal server error",
                        detail="the request could not be completed; quote the instance id to the operator",
                    )
                else:
                    self._log_error(exc, rid, scope)
            else:
                # The app swallowed the cut-off (or answered it, and we held that answer back): the caller learns
                # the real reason.
                if too_large and not started:
                    await send_413()
        finally:
            if access_log.isEnabledFor(logging.INFO):
                method = scope.get("method", "")
                access_log.info(
                    json.dumps(
                        {
                            "event": "access",
                            "request_id": rid,
                            "method": method if _METHOD.match(method) else "?",
                            "route": _route_template(scope),
                            "status": status,
                            "duration_ms": round((time.perf_counter() - t0) * 1000, 3),
                            "response_bytes": sent_bytes,
                            "auth": scope.get("mmemd.auth"),
                        }
                    )
                )

    @staticmethod
    def _log_error(exc: BaseException, rid: str, scope: Scope) -> None:
        error_log.error(
            json.dumps(
                {
                    "event": "unhandled_exception",
                    "request_id": rid,
                    "route": _route_template(scope),
                    "exception": type(exc).__name__,
                    "frames": _frames(exc),
                }
            )
        )
