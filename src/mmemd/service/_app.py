"""The FastAPI application: routers for REST (``/v1``), CDS Hooks (``/cds-services``) and the web page (``/``).

``create_app`` loads the knowledge base once (``app.state.kb``; routers read it from ``request.app.state.kb``) and
runs one assessment so the first real request does not pay for imports and caches. Layers, outermost first:
Starlette's error guard, :class:`~._middleware.ServiceMiddleware` (request id, body limit, access log, 500), CORS
(only when origins are configured), exception handlers turning every error into problem+json, the routers.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from mmemd._version import __version__
from mmemd.service._config import ServiceConfig

#: the validated configuration, as JSON, handed to the worker processes of ``mmemd serve --workers N``
CONFIG_ENV = "MMEMD_SERVE_CONFIG_JSON"

_DESCRIPTION = """\
Decision support for multiple myeloma with extramedullary disease (MM-EMD): patient record in, assessment with
evidence-graded options out. **Decision support, never a prescription.**

Authentication: `Authorization: Bearer <API key>` or `X-API-Key: <API key>` on `/v1` (not on `/healthz`).
Errors: RFC 9457 `application/problem+json`, with the JSON path of every bad field in `errors`.
"""


def create_app(config: ServiceConfig | None = None) -> FastAPI:
    config = config or ServiceConfig()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import asyncio

        from mmemd.service._malloc import trim_periodically

        # keeps the resident size of a long-running server flat (docs/deploy.md, "Memory")
        trimmer = asyncio.create_task(trim_periodically())
        yield
        trimmer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await trimmer
        # shutdown: stop the report and import processes (waiting jobs are cancelled, running ones finish)
        for name in ("report_pool", "import_pool"):
            pool = getattr(app.state, name, None)
            if pool is not None:
                pool.close()

    app = FastAPI(
        lifespan=lifespan,
        title="mmemd",
        version=__version__,
        description=_DESCRIPTION,
        docs_url=None,  # our own /docs: Swagger UI from the package, under the CSP (mmemd.service._docs)
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    app.state.config = config

    from mmemd import knowledge

    app.state.kb = knowledge.load()
    from mmemd.service._report_pool import ReportPool

    app.state.report_pool = ReportPool(config.report_workers, config.report_queue, config.report_isolation)
    from mmemd.service._import_pool import ImportPool

    app.state.import_pool = ImportPool(config.import_workers, config.import_queue, config.import_isolation)
    _warm_up(app)

    from mmemd.service import _cds_hooks, _imaging, _rest, _web
    from mmemd.service._middleware import ServiceMiddleware
    from mmemd.service._openapi import install_openapi
    from mmemd.service._problem import install_problem_handlers

    install_problem_handlers(app)
    app.include_router(_rest.build_router(config))
    app.include_router(_cds_hooks.build_router(config))
    app.include_router(_web.build_router(config))
    app.include_router(_imaging.build_router(config))
    from mmemd.service import _registry_routes, _registry_web

    app.include_router(_registry_routes.build_router(config))
    app.include_router(_registry_routes.build_session_router(config))
    app.include_router(_registry_web.build_router(config))
    install_openapi(app)
    from mmemd.service._docs import install_docs

    install_docs(app)

    if config.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
            allow_credentials=False,
            max_age=600,
        )
    # Added last = outermost of the user middleware: it must see (and time, and log) everything, CORS included.
    app.add_middleware(ServiceMiddleware, max_body_bytes=config.max_body_bytes)
    return app


def _warm_up(app: FastAPI) -> None:
    from mmemd.advice import assess_with_advice
    from mmemd.service._openapi import EXAMPLE_RECORD

    doc, _ = assess_with_advice(EXAMPLE_RECORD, app.state.kb)
    doc.model_dump_json(by_alias=True)


def freeze_heap() -> None:
    """Move everything alive now (the knowledge base, rules, models, imported modules: ~120,000 objects) out of the
    cyclic garbage collector's reach, once the server is ready to serve.

    Requests create new objects all the time, so the collector runs its full (oldest-generation) pass every few
    hundred requests, and that pass walked the whole long-lived state: 44 ms on a quiet machine, up to 560 ms under
    load — the worst assessment latencies of the mixed soak (docs/performance.md). That state lives as long as the
    process, so scanning it can never free anything. Reference counting still frees every request's objects.
    """
    import gc

    gc.collect()
    gc.freeze()


def create_app_from_environment() -> FastAPI:
    """The app of one worker process of ``mmemd serve --workers N`` (uvicorn's factory; the parent validated the
    configuration and passed it in :data:`CONFIG_ENV`)."""
    import os

    app = create_app(ServiceConfig.model_validate_json(os.environ[CONFIG_ENV]))
    freeze_heap()
    return app
