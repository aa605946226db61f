"""Fixtures for the service tests: one app with a known API key, a client for it, and a valid record."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from _service_support import REPO_EXAMPLES, make_app
from fastapi import FastAPI
from fastapi.testclient import TestClient


@pytest.fixture(scope="session")
def app() -> FastAPI:
    return make_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def record() -> dict[str, Any]:
    """A valid record (a fresh copy per test: tests mutate it)."""
    return copy.deepcopy(json.loads((REPO_EXAMPLES / "emd-liver-rrmm-pr.json").read_text(encoding="utf-8")))
