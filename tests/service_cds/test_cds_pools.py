"""patient-view imports its prefetch in the import pool, and a card's report link renders in the report pool like
the REST reports: a full pool is 503 problem+json with Retry-After, nothing done."""

from __future__ import annotations

from typing import Any

from cds_support import (
    SERVICE_URL,
    TokenFactory,
    bearer,
    example,
    hook_body,
    make_app,
    make_config,
    prefetch_for,
)
from fastapi.testclient import TestClient

from mmemd.service._cds_models import CdsResponse
from mmemd.service._import_pool import ImportPool
from mmemd.service._problem import BUSY
from mmemd.service._report_pool import ReportPool

SERVICE = "/cds-services/mmemd-patient-view"


class _Recorder:
    """Wraps a pool's ``run`` to record which functions went through it."""

    def __init__(self, pool: Any) -> None:
        self.calls: list[str] = []
        run = pool.run

        async def recording_run(fn: Any, *args: Any) -> Any:
            self.calls.append(getattr(fn, "func", fn).__name__)
            return await run(fn, *args)

        pool.run = recording_run


def _card_link(c: TestClient, token: TokenFactory) -> str:
    body = hook_body(prefetch_for(example("emd-liver-rrmm-pr")))
    r = c.post(SERVICE, json=body, headers=bearer(token(SERVICE_URL)))
    assert r.status_code == 200, r.text
    (card,) = CdsResponse.model_validate(r.json()).cards
    assert card.links
    return str(card.links[0].url).removeprefix("http://testserver")


def test_prefetch_import_and_report_link_go_through_the_pools(
    jwks: dict[str, Any], token: TokenFactory
) -> None:
    app, _ = make_app(make_config(jwks))
    app.state.import_pool = ImportPool(1, 1, "thread")
    app.state.report_pool = ReportPool(1, 1, "thread")
    imports, reports = _Recorder(app.state.import_pool), _Recorder(app.state.report_pool)
    with TestClient(app) as c:
        url = _card_link(c, token)
        assert imports.calls == ["_import"]
        page = c.get(url)
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert reports.calls == ["render_report"]


def test_full_import_pool_is_503_with_retry_after(jwks: dict[str, Any], token: TokenFactory) -> None:
    app, _ = make_app(make_config(jwks))
    pool = app.state.import_pool = ImportPool(1, 0, "thread")
    pool._admitted = pool.capacity  # every slot taken by imports in flight
    with TestClient(app) as c:
        body = hook_body(prefetch_for(example("emd-liver-rrmm-pr")))
        r = c.post(SERVICE, json=body, headers=bearer(token(SERVICE_URL)))
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == BUSY


def test_full_report_pool_is_503_for_the_report_link(jwks: dict[str, Any], token: TokenFactory) -> None:
    app, _ = make_app(make_config(jwks))
    pool = app.state.report_pool = ReportPool(1, 0, "thread")
    with TestClient(app) as c:
        url = _card_link(c, token)
        pool._admitted = pool.capacity
        r = c.get(url)
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert r.json()["type"] == BUSY
        pool._admitted = 0
        assert c.get(url).status_code == 200  # the link still works once a slot is free
