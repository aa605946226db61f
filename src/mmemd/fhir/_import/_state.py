"""The import's working state: facts collected per record field, the reasons given, lesion ids by reference."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mmemd.fhir._models import Reason
from mmemd.fhir._reasons import reason


@dataclass(slots=True)
class Fact:
    field: str
    day: date | None
    value: Any
    path: str
    used: bool = False
    at_dx: bool = False  # chosen as the value at diagnosis


@dataclass
class ImportState:
    reasons: list[Reason] = field(default_factory=list)
    facts: dict[str, list[Fact]] = field(default_factory=lambda: defaultdict(list))
    lesion_ids: dict[str, str] = field(default_factory=dict)  # reference -> lesion id
    consumed: set[str] = field(default_factory=set)  # paths of resources already mapped by another family
    # Imaging reports whose text says explicitly that there is no extramedullary lesion (paths, bundle order).
    no_emd_reports: list[str] = field(default_factory=list)

    def why(self, rcode: str, path: str, /, **kw: object) -> None:
        self.reasons.append(reason(rcode, path, **kw))

    def add(self, fld: str, day: date | None, value: Any, path: str) -> None:
        self.facts[fld].append(Fact(fld, day, value, path))
