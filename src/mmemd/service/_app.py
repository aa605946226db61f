"""The FastAPI application: routers for REST (``/v1``), CDS Hooks (``/cds-services``) and the web page (``/``)."""

from __future__ import annotations

from fastapi import FastAPI

from mmemd._version import __version__
from mmemd.service._config import ServiceConfig


def create_app(config: ServiceConfig | None = None) -> FastAPI:
    config = config or ServiceConfig()
    app = FastAPI(title="mmemd", version=__version__, docs_url="/docs", openapi_url="/openapi.json")
    app.state.config = config

    from mmemd.service import _cds_hooks, _rest, _web

    app.include_router(_rest.build_router(config))
    app.include_router(_cds_hooks.build_router(config))
    app.include_router(_web.build_router(config))
    return app
