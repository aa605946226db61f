"""OpenAPI extras: the request-body schemas the routes validate themselves, the problem schema, and examples.

The REST routes read their JSON bodies themselves (so that every problem of a record is reported with its JSON path,
repeated keys are caught, and nothing is validated twice); FastAPI therefore does not see the body models. Their
schemas are added to ``components.schemas`` here, generated from the same pydantic models that validate.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from fastapi import FastAPI
from pydantic import BaseModel

PATIENT_RECORD_REF: Final = "#/components/schemas/PatientRecord"
FHIR_BUNDLE_REF: Final = "#/components/schemas/FhirBundle"
_REF_TEMPLATE: Final = "#/components/schemas/{model}"

#: A realistic ``mmemd.patient/1`` record (the repository's examples/emd-liver-rrmm-pr.json, trimmed): secondary
#: extramedullary disease in the liver at second relapse, partial response.
EXAMPLE_RECORD: Final[dict[str, Any]] = {
    "schema": "mmemd.patient/1",
    "id": "emd-liver-rrmm-pr",
    "age": 58,
    "sex": "male",
    "phase": "relapsed_refractory",
    "transplant_eligible": False,
    "ecog": 1,
    "therapy_history": [
        {"line": 1, "agents": ["bortezomib", "lenalidomide", "dexamethasone", "asct"], "start": "2023-02-01"},
        {
            "line": 2,
            "agents": ["daratumumab", "pomalidomide", "dexamethasone"],
            "start": "2025-01-10",
            "refractory": True,
        },
    ],
    "diagnosis": {"date": "2023-01-15", "clonal_bone_marrow_plasma_cells_pct": 40},
    "labs": {
        "beta2_microglobulin": {"value": 6.1, "unit": "mg/L"},
        "albumin": {"value": 32, "unit": "g/L"},
        "ldh": {"value": 310, "unit": "U/L", "upper_limit_normal": 250},
        "creatinine": {"value": 1.0, "unit": "mg/dL"},
    },
    "cytogenetics": {"del_17p": True, "del_17p_clonal_fraction_pct": 35, "t_4_14": False, "gain_1q": True},
    "lesions": [
        {
            "id": "L1",
            "site": "liver",
            "relation_to_bone": "none",
            "biopsy_proven": True,
            "detected_at": "relapse",
            "detected_on": "2025-06-01",
        }
    ],
    "assessments": [
        {
            "date": "2025-06-01",
            "serum_m_protein": {"value": 3.0, "unit": "g/dL"},
            "plasmacytomas": [{"lesion": "L1", "longest_cm": 4.0, "perpendicular_cm": 3.0}],
        },
        {
            "date": "2025-08-01",
            "serum_m_protein": {"value": 1.2, "unit": "g/dL"},
            "plasmacytomas": [{"lesion": "L1", "longest_cm": 2.5, "perpendicular_cm": 2.0}],
            "new_lesion": False,
        },
    ],
}

#: The smallest useful FHIR R4 bundle: a patient and the myeloma diagnosis (ICD-10 C90.0).
EXAMPLE_BUNDLE: Final[dict[str, Any]] = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1961-04-02"}},
        {
            "resource": {
                "resourceType": "Condition",
                "id": "c1",
                "subject": {"reference": "Patient/p1"},
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "C90.0"}]},
                "onsetDateTime": "2024-03-01",
            }
        },
    ],
}

_FHIR_BUNDLE_SCHEMA: Final[dict[str, Any]] = {
    "title": "FHIR R4 Bundle",
    "description": "A FHIR R4 Bundle (collection, searchset, transaction or document) with the patient's resources; "
    "see docs/fhir.md for the mapping.",
    "type": "object",
    "required": ["resourceType"],
    "properties": {
        "resourceType": {"const": "Bundle"},
        "type": {"type": "string"},
        "entry": {"type": "array", "items": {"type": "object"}},
    },
}


def model_components(model: type[BaseModel], mode: str = "validation") -> dict[str, Any]:
    """``{name: schema}`` for a model and every model it uses, with refs into ``components.schemas``."""
    schema = model.model_json_schema(by_alias=True, ref_template=_REF_TEMPLATE, mode=mode)  # type: ignore[arg-type]
    defs = schema.pop("$defs", {})
    schema.pop("$schema", None)
    return {**defs, model.__name__: schema}


def extra_components() -> dict[str, Any]:
    from mmemd.clinical.record import PatientRecord
    from mmemd.service._problem import Problem

    return {
        **model_components(PatientRecord),
        **model_components(Problem, "serialization"),
        "FhirBundle": _FHIR_BUNDLE_SCHEMA,
    }


def json_body(ref: str, example: dict[str, Any], *media_types: str) -> dict[str, Any]:
    """``openapi_extra`` declaring a required JSON request body."""
    content = {m: {"schema": {"$ref": ref}, "example": example} for m in media_types}
    return {"requestBody": {"required": True, "content": content}}


def install_openapi(app: FastAPI) -> None:
    """Wrap ``app.openapi`` so the generated document also holds :func:`extra_components`."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = generate()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in extra_components().items():
            if name in schemas and schemas[name] != schema:
                # Two different models with one name would silently document the wrong one.
                raise RuntimeError(f"OpenAPI component name clash: {name}")
            schemas[name] = copy.deepcopy(schema)
        _document_validation_problems(doc)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


_FASTAPI_422: Final = "#/components/schemas/HTTPValidationError"


def _document_validation_problems(doc: dict[str, Any]) -> None:
    """Replace FastAPI's default 422 (``HTTPValidationError``) with what the service really answers.

    The problem handlers turn a request-validation error into 422 problem+json when only the body is wrong and into
    400 problem+json when a query, path or header parameter is (``_problem._validation_problem``), for every router.
    """
    from mmemd.service._problem import problem_responses

    for item in doc.get("paths", {}).values():
        for op in item.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses = op["responses"]
            auto = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if auto.get("$ref") != _FASTAPI_422:
                continue
            del responses["422"]
            if op.get("requestBody"):
                responses["422"] = problem_responses(422)[422]
            if op.get("parameters"):
                responses.setdefault("400", problem_responses(400)[400])
    schemas = doc.get("components", {}).get("schemas", {})
    text = repr(doc.get("paths", {}))
    for name in ("HTTPValidationError", "ValidationError"):
        if name in schemas and f"#/components/schemas/{name}'" not in text:
            del schemas[name]
