"""`mmemd serve`: the REST API, CDS Hooks and web page on uvicorn (docs/service.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from mmemd.service import ServiceConfig

EXIT_INVALID = 2


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(EXIT_INVALID)


def _config(config_file: Path | None, host: str | None, port: int | None) -> ServiceConfig:
    import tomllib

    from pydantic import ValidationError

    from mmemd.service._config import ServiceConfig, load_config

    try:
        cfg = load_config(config_file)
        over: dict[str, Any] = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
        if over:
            # Re-validate: local mode on a non-loopback --host must be refused, not slipped past the check.
            cfg = ServiceConfig.model_validate({**cfg.model_dump(), **over})
    except OSError as exc:
        raise _fail(f"cannot read config {config_file}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise _fail(f"config {config_file} is not valid TOML: {exc}") from None
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            # Never print the offending input: it could be an API key pasted into the wrong place.
            lines = [
                f"{'.'.join(str(p) for p in e['loc']) or '(config)'}: {e['msg']}"
                for e in exc.errors(include_input=False, include_url=False)
            ]
            raise _fail("invalid service configuration\n  " + "\n  ".join(lines)) from None
        raise _fail(str(exc)) from None
    return cfg


def _log_config(level: str) -> dict[str, Any]:
    """mmemd's own loggers write bare JSON lines (access, errors); uvicorn's lifecycle messages stay readable."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"format": "%(message)s"},
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            "json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
            "plain": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"},
        },
        "loggers": {
            "mmemd.access": {"handlers": ["json"], "level": level, "propagate": False},
            "mmemd.error": {"handlers": ["json"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["plain"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            # uvicorn's access log prints the full path with its query string: off (ours has the route template).
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            # httpx logs every URL it requests at INFO; a FHIR server URL can name the patient (CDS Hooks fetches).
            "httpx": {"handlers": ["plain"], "level": "WARNING", "propagate": False},
        },
    }


def serve_command(
    host: Annotated[str | None, typer.Option("--host", help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", min=1, max=65535, help="Port (default 8000).")] = None,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config", metavar="FILE", help="TOML config; MMEMD_* environment variables override it."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Worker processes. More than 1 needs shared_state_url (Redis/Valkey): the JWT replay cache, "
            "card registry and report links must be shared (docs/deploy.md).",
        ),
    ] = 1,
) -> None:
    """Serve the REST API (/v1), CDS Hooks (/cds-services) and the web page (/); OpenAPI at /docs.

    SIGTERM or SIGINT stops accepting connections and lets in-flight requests finish (up to
    shutdown_timeout_seconds) before exiting.
    """
    level = log_level.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise _fail(f"--log-level must be debug, info, warning or error, not {log_level!r}")
    cfg = _config(config_file, host, port)
    if workers > 1 and cfg.shared_state_url is None:
        raise _fail(
            f"--workers {workers} needs a shared state store: set shared_state_url (or MMEMD_SHARED_STATE_URL) to a "
            "redis:// URL, otherwise a JWT replayed on another worker would be accepted (docs/deploy.md)"
        )

    import logging.config

    import uvicorn

    logging.config.dictConfig(_log_config(level))
    log = logging.getLogger("uvicorn.error")
    if not cfg.key_required:
        log.warning("local single-user mode: /v1 needs no API key (bound to loopback %s only)", cfg.host)
    elif not cfg.api_key_hashes:
        log.warning(
            "no API keys configured (api_key_hashes / MMEMD_API_KEYS): every /v1 request will get 401"
        )

    from mmemd.service._malloc import limit_malloc_arenas
    from mmemd.service._protocol import protocol_with_read_timeout

    limit_malloc_arenas()  # before any thread starts: arenas once made are kept (docs/deploy.md, "Memory")
    _raise_open_file_limit()
    limits: dict[str, Any] = {
        "host": cfg.host,
        "port": cfg.port,
        "log_config": None,
        "access_log": False,
        "server_header": False,
        "timeout_graceful_shutdown": max(1, round(cfg.shutdown_timeout_seconds)),
        # Close idle keep-alive connections quickly so a graceful shutdown is not held up by them.
        "timeout_keep_alive": cfg.keep_alive_timeout_seconds,
        "http": protocol_with_read_timeout(cfg.request_read_timeout_seconds),
        "limit_concurrency": cfg.max_connections,
        "h11_max_incomplete_event_size": cfg.max_header_bytes,
    }
    if workers > 1:
        import os

        from mmemd.service._app import CONFIG_ENV

        # Each worker is a fresh process: it gets the validated configuration, not the file and flags again.
        os.environ[CONFIG_ENV] = cfg.model_dump_json()
        limits["http"] = "mmemd.service._protocol:WorkerH11Protocol"
        limits["log_config"] = _log_config(level)  # applied in each worker
        from mmemd.service._workers import run_workers

        try:
            run_workers(workers, limits)
        except OSError as exc:
            raise _fail(
                f"could not start the server on {cfg.host}:{cfg.port}: {exc.strerror or exc}"
            ) from None
        return

    from mmemd.service import create_app
    from mmemd.service._app import freeze_heap

    app = create_app(cfg)
    freeze_heap()
    server = uvicorn.Server(uvicorn.Config(app, **limits))
    # uvicorn installs SIGTERM/SIGINT handlers: stop accepting, drain in-flight requests up to the timeout, exit 0.
    server.run()
    if not server.started:
        raise _fail(f"could not start the server on {cfg.host}:{cfg.port} (see the log above)")


def _raise_open_file_limit() -> None:
    """Raise the soft open-file limit to the hard one: every connection is a descriptor, and at the usual 1,024 a
    burst of idle clients would starve the health check."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):  # pragma: no cover - not POSIX, or not allowed
        pass


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
