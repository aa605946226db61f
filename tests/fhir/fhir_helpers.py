"""Helpers for the FHIR adapter tests (a uniquely named module: `conftest` is taken by tests/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
EXAMPLE_RECORDS = sorted((ROOT / "examples").glob("*.json"))


def obs(
    code: str, day: str, value: dict[str, Any], system: str = "http://loinc.org", **extra: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": day,
        **value,
        **extra,
    }


def qty(value: Any, unit: str) -> dict[str, Any]:
    return {
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
    }


def load_ehr_bundle() -> dict[str, Any]:
    """The EHR-style searchset fixture (tests/fhir/data)."""
    data: dict[str, Any] = json.loads((DATA / "ehr-searchset-ndmm-emd.json").read_text(encoding="utf-8"))
    return data


def make_bundle(*resources: dict[str, Any], onset: str = "2025-01-10", icd: str = "C90.00") -> dict[str, Any]:
    """A minimal bundle: a patient p1, a myeloma Condition (onset 2025-01-10) and the given resources."""
    base: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1960-03-01"},
        {
            "resourceType": "Condition",
            "id": "dx",
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": icd}]},
            "subject": {"reference": "Patient/p1"},
            "onsetDateTime": onset,
        },
    ]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in [*base, *resources]],
    }
