"""Helpers for the CDS Hooks tests: test signing keys (generated with ``cryptography``), a token factory, an app
with an injectable clock and FHIR transport, and FHIR prefetch data built from the example patient records."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
from fastapi import FastAPI

from mmemd.service._cds_config import CdsHooksConfig, TrustedIssuer
from mmemd.service._cds_hooks import CdsState, build_router, new_state
from mmemd.service._config import ServiceConfig
from mmemd.service._problem import install_problem_handlers

NOW = 1_800_000_000.0
ISS = "https://ehr.example.org"
BASE = "http://testserver"
SERVICE_URL = f"{BASE}/cds-services/mmemd-patient-view"
DISCOVERY_URL = f"{BASE}/cds-services"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def public_jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    algo = jwt.get_algorithm_by_name(alg)
    jwk = json.loads(algo.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return jwk


def make_config(jwks: dict[str, Any], **cds: Any) -> ServiceConfig:
    issuer = TrustedIssuer(
        iss=ISS,
        jwks=jwks,
        jku=["https://ehr.example.org/jwks.json"],
        fhir_servers=["https://ehr.example.org/fhir"],
    )
    return ServiceConfig(cds_hooks=CdsHooksConfig(issuers=[issuer], **cds))


TokenFactory = Callable[..., str]


def make_app(config: ServiceConfig, **state_kwargs: Any) -> tuple[FastAPI, CdsState]:
    state = new_state(config, clock=lambda: NOW, **state_kwargs)
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(build_router(config, state))
    return app, state


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


PREFETCH_KEY_OF: dict[str, str] = {
    "Patient": "patient",
    "Condition": "conditions",
    "Observation": "observations",
    "MedicationStatement": "medications",
    "Procedure": "procedures",
    "BodyStructure": "bodyStructures",
}


def searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(resources)}
    if resources:
        bundle["entry"] = [{"resource": r, "search": {"mode": "match"}} for r in resources]
    return bundle


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def prefetch_for(record: dict[str, Any]) -> dict[str, Any]:
    """The prefetch an EHR would send for this patient: the record as FHIR (mmemd.fhir.record_to_bundle), one
    searchset per discovery key (the Patient as a single resource)."""
    from mmemd.fhir import record_to_bundle

    by_key: dict[str, list[dict[str, Any]]] = {k: [] for k in PREFETCH_KEY_OF.values()}
    for entry in record_to_bundle(record).get("entry", []):
        res = entry["resource"]
        by_key[PREFETCH_KEY_OF[res["resourceType"]]].append(res)
    out: dict[str, Any] = {"patient": by_key.pop("patient")[0]}
    for key, resources in by_key.items():
        out[key] = searchset(resources) if resources else None
    return out


def hook_body(prefetch: dict[str, Any] | None, patient_id: str = "p-1", **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/dr-1", "patientId": patient_id},
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    body.update(over)
    return body
