"""Per-route limits (docs/deploy.md): a full pool or route answers 503 problem+json with Retry-After at once and
does nothing; the FHIR import answers the same whether it runs in the import process or in a thread; the server's
long-lived state is out of the cyclic collector's reach once it serves."""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from _service_support import AUTH, REPO_EXAMPLES, assert_problem, make_app
from fastapi import FastAPI
from fastapi.testclient import TestClient

from mmemd.service._problem import BUSY

BUNDLE = json.loads((REPO_EXAMPLES / "fhir" / "emd-liver-rrmm-pr.bundle.json").read_text(encoding="utf-8"))
INVALID_BUNDLE = {"resourceType": "Bundle", "type": "collection", "total": "many", "entry": []}


def _busy(r: Any, retry_after: str) -> None:
    assert_problem(r, 503, BUSY)
    assert r.headers["retry-after"] == retry_after


def test_full_import_pool_is_503_and_imports_nothing(client: TestClient, app: FastAPI) -> None:
    pool = app.state.import_pool
    pool._admitted = pool.capacity  # every slot taken by imports in flight
    try:
        _busy(client.post("/v1/fhir/assessments", json=BUNDLE, headers=AUTH), "1")
    finally:
        pool._admitted = 0
    assert client.post("/v1/fhir/assessments", json=BUNDLE, headers=AUTH).status_code == 200


@pytest.fixture
def one_search_at_a_time() -> Iterator[tuple[TestClient, threading.Event, threading.Event]]:
    """An app admitting one evidence request at a time, whose searches wait for ``release``."""
    app = make_app(evidence_concurrency=1)
    kb = app.state.kb
    entered, release = threading.Event(), threading.Event()
    search = kb.search

    def waiting_search(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(60)
        return search(*args, **kwargs)

    kb.search = waiting_search
    try:
        with TestClient(app) as c:
            yield c, entered, release
    finally:
        release.set()
        del kb.search


def test_evidence_beyond_its_limit_is_503_while_others_are_served(
    one_search_at_a_time: tuple[TestClient, threading.Event, threading.Event],
) -> None:
    c, entered, release = one_search_at_a_time
    first: dict[str, Any] = {}
    t = threading.Thread(target=lambda: first.update(r=c.get("/v1/evidence?q=pomalidomide", headers=AUTH)))
    t.start()
    assert entered.wait(60)  # the first search holds the route's only slot
    _busy(c.get("/v1/evidence?q=carfilzomib", headers=AUTH), "1")
    _busy(c.get("/v1/evidence/emdtx-7-03", headers=AUTH), "1")  # the look-up shares the limit
    assert c.get("/healthz").status_code == 200  # other routes are not limited by it
    release.set()
    t.join(60)
    assert first["r"].status_code == 200
    assert c.get("/v1/evidence/emdtx-7-03", headers=AUTH).status_code == 200  # the slot is free again


def test_import_in_a_process_answers_as_in_a_thread(client: TestClient) -> None:
    pytest.importorskip("mmemd.fhir", reason="the FHIR importer is not installed")
    in_process = make_app(import_isolation="process")
    with TestClient(in_process) as other:
        for body, status in ((BUNDLE, 200), (INVALID_BUNDLE, 422)):
            here = client.post("/v1/fhir/assessments", json=body, headers=AUTH)
            there = other.post("/v1/fhir/assessments", json=body, headers=AUTH)
            assert here.status_code == there.status_code == status, there.text
            a, b = here.json(), there.json()
            for doc in (a, b):
                doc.pop("instance", None)
            assert a == b


def test_serving_freezes_the_long_lived_state() -> None:
    from mmemd.service._app import freeze_heap

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        freeze_heap()
        assert gc.get_freeze_count() > 10_000  # the knowledge base, rules and modules
    finally:
        gc.unfreeze()
