"""Fetching prefetch data the CDS client did not send, from its ``fhirServer`` (CDS Hooks 2.0 "FHIR Resource Access").

Only when the request carries both ``fhirServer`` and ``fhirAuthorization``; otherwise the caller answers 412 (§5
"412 Precondition Failed when required FHIR data unobtainable"). The access token goes only into the
``Authorization`` header of requests to that server: it is never logged, echoed in an error, or kept after the call.
Searches follow ``next`` links up to a page limit so the result equals what the prefetch would have held (the spec
forbids next-page links in prefetch data).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx

from mmemd._json import parse_json
from mmemd.service._fhir_egress import within_base

log = logging.getLogger("mmemd.service.cds")


class FetchFailed(Exception):
    """A prefetch key could not be fetched; ``reason`` names the key and the cause, never the token or data."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FhirSource:
    base_url: str
    access_token: str
    timeout_seconds: float
    max_pages: int
    transport: httpx.AsyncBaseTransport | None = None


def render_template(template: str, context: Mapping[str, str]) -> str:
    """Replace ``{{context.x}}`` prefetch tokens (spec "Prefetch tokens"; only root-level primitive context fields)."""
    out = template
    for name, value in context.items():
        out = out.replace("{{context." + name + "}}", value)
    if "{{" in out:
        raise ValueError(f"unresolved prefetch token in {template!r}")
    return out


async def fetch_keys(
    source: FhirSource, queries: Mapping[str, str], *, request_id: str | None = None
) -> dict[str, Any]:
    """GET each relative FHIR query against the server; a search's pages are merged into one searchset Bundle."""
    base = source.base_url.rstrip("/") + "/"
    headers = {"Authorization": f"Bearer {source.access_token}", "Accept": "application/fhir+json"}
    out: dict[str, Any] = {}
    started = time.perf_counter()
    key = ""
    try:
        # One deadline for the whole call: per-read timeouts let a trickling server hold a call for ever.
        async with (
            asyncio.timeout(source.timeout_seconds),
            httpx.AsyncClient(
                timeout=source.timeout_seconds, transport=source.transport, follow_redirects=False
            ) as client,
        ):
            for key, query in queries.items():
                out[key] = await _fetch_one(
                    client, key, urljoin(base, query), base, headers, source.max_pages
                )
    except TimeoutError:
        raise FetchFailed(key, "timed out") from None
    log.info(
        "cds fhir fetch",
        extra={
            "request_id": request_id,
            "keys": sorted(queries),
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return out


async def _fetch_one(
    client: httpx.AsyncClient, key: str, url: str, base: str, headers: Mapping[str, str], max_pages: int
) -> Any:
    entries: list[Any] = []
    first: dict[str, Any] | None = None
    next_url: str | None = url
    pages = 0
    while next_url is not None:
        if not within_base(next_url, base):
            # A URL elsewhere would send the client's token to another host, or reach past the FHIR base.
            raise FetchFailed(key, "a URL points outside fhirServer")
        if pages == max_pages:
            raise FetchFailed(key, f"more than {max_pages} result pages")
        try:
            resp = await client.get(next_url, headers=headers)
        except httpx.TimeoutException as exc:
            raise FetchFailed(key, "timed out") from exc
        except httpx.HTTPError as exc:
            raise FetchFailed(key, f"request failed ({type(exc).__name__})") from exc
        pages += 1
        if resp.status_code != 200:
            raise FetchFailed(key, f"FHIR server answered HTTP {resp.status_code}")
        try:
            # Through the input boundary: a hostile server's deep nesting or huge numbers are a failed fetch.
            body = parse_json(resp.content)
        except ValueError as exc:
            raise FetchFailed(key, "FHIR server answered with a body that is not JSON") from exc
        if not isinstance(body, dict) or "resourceType" not in body:
            raise FetchFailed(key, "FHIR server answered with something that is not a FHIR resource")
        if body["resourceType"] == "OperationOutcome":
            raise FetchFailed(key, "FHIR server answered with an OperationOutcome")
        if body["resourceType"] != "Bundle":
            return body
        if first is None:
            first = body
        entries.extend(body.get("entry") or [])
        next_url = next(
            (
                urljoin(base, link.get("url", ""))
                for link in body.get("link") or []
                if link.get("relation") == "next"
            ),
            None,
        )
    assert first is not None
    merged = {k: v for k, v in first.items() if k not in ("entry", "link", "total")}
    merged["type"] = first.get("type", "searchset")
    if entries:
        merged["entry"] = entries
    return merged


async def fetch_remaining(source: FhirSource, key: str, first: Mapping[str, Any], next_url: str) -> Any:
    """A searchset's remaining pages from its ``next`` link (same origin as fhirServer only), merged after the
    entries of ``first``."""
    base = source.base_url.rstrip("/") + "/"
    headers = {"Authorization": f"Bearer {source.access_token}", "Accept": "application/fhir+json"}
    try:
        # The same single deadline as fetch_keys: a trickling server cannot hold the call past it.
        async with (
            asyncio.timeout(source.timeout_seconds),
            httpx.AsyncClient(
                timeout=source.timeout_seconds, transport=source.transport, follow_redirects=False
            ) as client,
        ):
            rest = await _fetch_one(client, key, urljoin(base, next_url), base, headers, source.max_pages)
    except TimeoutError:
        raise FetchFailed(key, "timed out") from None
    merged = {k: v for k, v in first.items() if k not in ("link", "total", "entry")}
    entries = [*(first.get("entry") or []), *((rest.get("entry") or []) if isinstance(rest, dict) else [])]
    if entries:
        merged["entry"] = entries
    return merged
