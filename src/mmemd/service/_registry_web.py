"""The registry's web page (``/registry``): patient list with search, a patient's timeline with its M-protein and
SPD chart, the add-visit form, the assessment and the report at every visit; English and Chinese.

Like the main page, it holds no patient data itself and needs no key to be served: the browser calls
``/v1/patients`` with the API key the user enters (kept in ``sessionStorage``) or in the config's ``local_mode``.
Same security headers as the main page (``_web.SECURITY_HEADERS``: only this origin, no inline script).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Final

from fastapi import APIRouter
from fastapi.responses import Response

from mmemd.service._config import ServiceConfig
from mmemd.service._problem import NOT_FOUND, ApiProblem
from mmemd.service._web import SECURITY_HEADERS

ASSETS: Final[dict[str, str]] = {
    "registry.js": "text/javascript; charset=utf-8",
}

#: the analytes of the add-visit form and the units each accepts (from the clinical engine's unit table)
FORM_ANALYTES: Final = ("serum_m_protein", "urine_m_protein", "free_light_chain")


@cache
def _read(name: str) -> bytes:
    data: bytes = (resources.files("mmemd.service") / "static" / name).read_bytes()
    return data


@cache
def _vocab() -> bytes:
    from mmemd.clinical.units import accepted_units

    return json.dumps({"units": {a: list(accepted_units(a)) for a in FORM_ANALYTES}}).encode()


def registry_page() -> Response:
    return Response(_read("registry.html"), media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


def registry_asset(name: str) -> Response:
    if name not in ASSETS:
        raise ApiProblem(404, type=NOT_FOUND, detail="no such asset")
    return Response(_read(name), media_type=ASSETS[name], headers=SECURITY_HEADERS)


def registry_vocab() -> Response:
    return Response(_vocab(), media_type="application/json", headers=SECURITY_HEADERS)


def build_router(config: ServiceConfig) -> APIRouter:
    del config
    r = APIRouter(include_in_schema=False)
    r.add_api_route("/registry", registry_page, methods=["GET"])
    r.add_api_route("/registry/assets/{name}", registry_asset, methods=["GET"])
    r.add_api_route("/registry/vocab.json", registry_vocab, methods=["GET"])
    return r
