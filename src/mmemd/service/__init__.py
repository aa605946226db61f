"""The mmemd service: REST API, CDS Hooks 2.0 and the clinician web page, on FastAPI.

Public surface::

    from mmemd.service import ServiceConfig, create_app, load_config
    app = create_app(load_config("mmemd.toml"))
"""

from __future__ import annotations

from mmemd.service._app import create_app
from mmemd.service._config import ServiceConfig, load_config

__all__ = ["ServiceConfig", "create_app", "load_config"]
