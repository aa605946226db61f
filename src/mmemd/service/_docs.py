"""``/docs``: Swagger UI for the OpenAPI document, served entirely from this installation.

FastAPI's default page loads Swagger UI from a CDN (unpinned, without integrity) and starts it with an inline
script, which the service's Content-Security-Policy (``script-src 'self'``) forbids. Here the assets come from the
``swagger-ui-bundle`` package (Swagger UI's own release files, vendored there) and the start-up code is a file of its
own, so the page runs under the same policy and headers as the web page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

from mmemd.service._web import SECURITY_HEADERS

ASSETS: Final[dict[str, str]] = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}

_PAGE: Final = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>mmemd API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""

_INIT: Final = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
"""


def _asset_dir() -> Path | None:
    try:
        from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return None
    return Path(swagger_ui_path)


def install_docs(app: FastAPI) -> None:
    """Add ``/docs`` (and its assets) when Swagger UI's files are installed; otherwise ``/docs`` stays a 404."""
    directory = _asset_dir()
    if directory is None:
        return
    headers = dict(SECURITY_HEADERS)

    @app.get("/docs", include_in_schema=False)
    def docs_page() -> HTMLResponse:
        return HTMLResponse(_PAGE, headers=headers)

    @app.get("/docs/init.js", include_in_schema=False)
    def docs_init() -> Response:
        return Response(_INIT, media_type="text/javascript; charset=utf-8", headers=headers)

    @app.get("/docs/assets/{name}", include_in_schema=False)
    def docs_asset(name: str) -> Response:
        media_type = ASSETS.get(name)
        if media_type is None:
            return Response(status_code=404, headers=headers)
        return Response((directory / name).read_bytes(), media_type=media_type, headers=headers)
