"""Lesions from a FHIR R4 ``DiagnosticReport``: its ``conclusion`` and ``presentedForm`` (text/plain, base64) text."""

from __future__ import annotations

from typing import Any


def lesions_from_diagnostic_report(
    resource: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    raise NotImplementedError
