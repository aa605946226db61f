"""Result and error types of the FHIR adapter: :class:`Reason`, :class:`ImportResult`, :class:`BundleError`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Reason(BaseModel):
    """Why one FHIR element was not mapped as it stands (or was mapped by a documented rule worth knowing).

    ``path`` is a FHIRPath-like location, e.g. ``Bundle.entry[3].resource.valueQuantity.unit``. ``code`` is one of
    the reason codes listed in docs/fhir.md ("Reasons"); messages never contain patient values other than codes and
    units, so a reason may be logged.
    """

    model_config = ConfigDict(frozen=True)

    code: str
    path: str
    message_en: str
    message_zh: str


class ImportResult(BaseModel):
    """A Bundle mapped to ``mmemd.patient/1``.

    ``record`` is the patient record as a JSON-ready dict (numbers are :class:`decimal.Decimal`, exact); it may still
    be invalid when data are missing (e.g. no myeloma diagnosis, so no ``phase``) — ``mmemd.clinical.parse_record``
    says why. ``reasons`` lists every element that was not mapped, and every documented inference.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    record: dict[str, Any]
    reasons: list[Reason] = Field(default_factory=list)
    patient_id: str | None = None
    #: ids of the lesions read from an imaging report's text (reason ``lesion_from_text``): proposals a clinician
    #: confirms, which a card or report names as such
    lesions_from_text: list[str] = Field(default_factory=list)


class BundleProblem(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str
    message: str


class BundleError(ValueError):
    """The input is not a well-formed FHIR R4 Bundle (or resource); each problem names its path."""

    def __init__(self, problems: list[BundleProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))

    def report(self) -> dict[str, Any]:
        """``mmemd.errors/1``-shaped report (the CLI's and the REST API's error body)."""
        return {
            "schema": "mmemd.errors/1",
            "valid": False,
            "problem_count": len(self.problems),
            "problems": [
                {"path": p.path, "code": "fhir_invalid", "message": p.message} for p in self.problems
            ],
        }
