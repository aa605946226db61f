"""The patient facts the decision-support rules match on, derived from a record and its assessment.

Every fact is three-valued where the data can be missing: ``None`` means unknown, and a rule condition on an
unknown fact is *undecided* (reported by ``mmemd explain``), never silently true or false.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mmemd.knowledge import Vocabulary, load_glossary


@dataclass(frozen=True)
class TherapyExposure:
    line: int | None
    agent: str
    refractory: bool | None


@dataclass(frozen=True)
class PatientContext:
    patient_id: str
    phase: str
    age: int | None
    transplant_eligible: bool | None
    emd_category: str | None
    emd_timing: str | None
    cns: bool | None
    sites: tuple[str, ...]
    high_risk: bool | None
    high_risk_features: tuple[str, ...]
    t_11_14: bool | None
    del_17p: bool | None
    t_4_14: bool | None
    t_14_16: bool | None
    iss: str | None
    r_iss: str | None
    r2_iss: str | None
    response_current: str | None
    progressive_disease: bool | None
    lesions: tuple[dict[str, Any], ...]
    exposures: tuple[TherapyExposure, ...]
    labs_missing: tuple[str, ...]
    #: agents and procedures ever given, and the classes they belong to
    exposed: frozenset[str] = field(default=frozenset())
    #: agents (and their classes) the disease was refractory to
    refractory: frozenset[str] = field(default=frozenset())
    #: where each refractory id comes from, for the caution's ``because``
    refractory_because: dict[str, str] = field(default_factory=dict)
    #: the same, in Chinese
    refractory_because_zh: dict[str, str] = field(default_factory=dict)

    @property
    def emd_present(self) -> bool | None:
        if self.emd_category in ("extramedullary", "paraskeletal"):
            return True
        if self.emd_category in (None, "indeterminate"):
            return None
        return False

    @property
    def multiple_sites(self) -> bool | None:
        if self.emd_present is False:
            return False
        return len(set(self.sites)) > 1 if self.sites else None


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if obj is None:
            return None
        obj = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
    return obj


def _value(x: Any) -> Any:
    """Enum members and pydantic values to plain values."""
    return getattr(x, "value", x)


def build_context(record: Any, assessment: Any, vocab: Vocabulary) -> PatientContext:
    """Facts from a ``mmemd.patient/1`` record and its ``mmemd.assessment/1`` (models or plain dicts)."""
    exposures: list[TherapyExposure] = []
    exposed: set[str] = set()
    refractory: set[str] = set()
    because: dict[str, str] = {}
    because_zh: dict[str, str] = {}
    glossary = load_glossary()
    for line in _get(record, "therapy_history") or []:
        number = _get(line, "line")
        agents = [str(a) for a in (_get(line, "agents") or [])]
        line_refractory = _get(line, "refractory")
        refractory_agents = set(_get(line, "refractory_agents") or [])
        for agent in agents:
            is_ref = agent in refractory_agents or (line_refractory is True and not refractory_agents)
            exposures.append(TherapyExposure(number, agent, True if is_ref else line_refractory))
            ids = _with_class(agent, vocab)
            exposed.update(ids)
            if is_ref:
                refractory.update(ids)
                for ident in ids:
                    because.setdefault(
                        ident, glossary.render("fact.refractory_to", "en", agent=agent, line=number)
                    )
                    because_zh.setdefault(
                        ident,
                        glossary.render(
                            "fact.refractory_to", "zh", agent=vocab.label(agent, "zh"), line=number
                        ),
                    )
    cyto = _get(record, "cytogenetics")
    labs = _get(record, "labs")
    missing = [
        name
        for name in ("beta2_microglobulin", "albumin", "ldh")
        if _get(labs, name) is None or (name == "ldh" and _get(labs, "ldh", "upper_limit_normal") is None)
    ]
    return PatientContext(
        patient_id=str(_get(record, "id")),
        phase=str(_value(_get(record, "phase"))),
        age=_get(record, "age"),
        transplant_eligible=_get(record, "transplant_eligible"),
        emd_category=_value(_get(assessment, "emd", "category")),
        emd_timing=_value(_get(assessment, "emd", "timing")),
        cns=_get(assessment, "emd", "cns"),
        sites=tuple(_get(assessment, "emd", "sites") or ()),
        high_risk=_get(assessment, "staging", "high_risk"),
        high_risk_features=tuple(_get(assessment, "staging", "high_risk_features") or ()),
        t_11_14=_get(cyto, "t_11_14"),
        del_17p=_get(cyto, "del_17p"),
        t_4_14=_get(cyto, "t_4_14"),
        t_14_16=_get(cyto, "t_14_16"),
        iss=_value(_get(assessment, "staging", "iss")),
        r_iss=_value(_get(assessment, "staging", "r_iss")),
        r2_iss=_value(_get(assessment, "staging", "r2_iss", "group")),
        response_current=_value(_get(assessment, "response", "current")),
        progressive_disease=_get(assessment, "response", "progressive_disease"),
        lesions=tuple(_lesion_dict(x) for x in (_get(record, "lesions") or [])),
        exposures=tuple(exposures),
        labs_missing=tuple(missing),
        exposed=frozenset(exposed),
        refractory=frozenset(refractory),
        refractory_because=because,
        refractory_because_zh=because_zh,
    )


def _with_class(agent: str, vocab: Vocabulary) -> Iterable[str]:
    cls = vocab.agent_class(agent)
    return (agent, cls) if cls else (agent,)


def _lesion_dict(lesion: Any) -> dict[str, Any]:
    if isinstance(lesion, dict):
        return lesion
    dump = getattr(lesion, "model_dump", None)
    return dict(dump(mode="json")) if dump else dict(vars(lesion))
