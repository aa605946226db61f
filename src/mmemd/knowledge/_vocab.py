"""Controlled vocabularies: agent classes, agents, procedures, regimens, biomarkers, modalities, sites, endpoints.

Every vocabulary file in ``data/vocab/`` may hold any of the top-level keys below; entries are merged across files
(so a curator can add a small file without editing a shared one) and an id may be defined only once.
"""

# Models: no `from __future__ import annotations`: pydantic need not compile each annotation (performance.md).

import marshal
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import msgspec
from pydantic import VERSION as PYDANTIC_VERSION
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mmemd import _validated
from mmemd._validated import plain, rebuilder
from mmemd.knowledge._data import VOCAB_DIR, kept_validated, read_yaml, stamp_name


class Term(BaseModel):
    """A bilingual vocabulary entry."""

    # defer_build: the packaged vocabulary is validated once and then read back from the cache as validated values
    # (:func:`vocabulary`), so a process that only reads it never builds these nine validators (~4 ms).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    en: str
    zh: str
    aliases: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        """Every name a reader might search for: id, English, Chinese and aliases."""
        return (self.id, self.en, self.zh, *self.aliases)


class AgentClass(Term):
    pass


class Agent(Term):
    cls: str = Field(alias="class")
    atc: str | None = Field(default=None, pattern=r"^[A-Z]\d{2}[A-Z]{2}\d{2}$")
    atc_legacy: str | None = None
    atc_provenance: str | None = None
    mechanism_en: str = ""
    mechanism_zh: str = ""


class Procedure(Term):
    cls: str = Field(alias="class")


class Regimen(Term):
    components: tuple[str, ...]


class Biomarker(Term):
    kind: str


class Modality(Term):
    pass


class Site(Term):
    cns: bool = False


class Endpoint(Term):
    kind: str


_SECTIONS: dict[str, type[Term]] = {
    "classes": AgentClass,
    "agents": Agent,
    "procedures": Procedure,
    "regimens": Regimen,
    "biomarkers": Biomarker,
    "modalities": Modality,
    "sites": Site,
    "endpoints": Endpoint,
}


class VocabularyError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid vocabulary:\n" + "\n".join(problems))


class Vocabulary(msgspec.Struct, frozen=True):
    """The terms by section and id, with the id sets records and claims are checked against (made from the terms
    by :meth:`of`)."""

    classes: Mapping[str, AgentClass]
    agents: Mapping[str, Agent]
    procedures: Mapping[str, Procedure]
    regimens: Mapping[str, Regimen]
    biomarkers: Mapping[str, Biomarker]
    modalities: Mapping[str, Modality]
    sites: Mapping[str, Site]
    endpoints: Mapping[str, Endpoint]
    therapy_ids: frozenset[str]
    intervention_ids: frozenset[str]
    subject_ids: frozenset[str]
    site_ids: frozenset[str]
    cns_site_ids: frozenset[str]

    @classmethod
    def of(cls, **tables: Mapping[str, Any]) -> "Vocabulary":
        """The vocabulary of these sections (``classes=..., agents=..., ...``), with its id sets."""
        # A therapy line in a patient record names agents and procedures (asct, bcma_car_t, ...).
        therapy_ids = frozenset(tables["agents"]) | frozenset(tables["procedures"])
        return cls(
            **tables,
            therapy_ids=therapy_ids,
            # A claim's interventions may also name a whole class ("IMIDs had a higher ORR than PIs").
            intervention_ids=therapy_ids | frozenset(tables["classes"]),
            subject_ids=frozenset(tables["biomarkers"])
            | frozenset(tables["sites"])
            | frozenset(tables["modalities"]),
            site_ids=frozenset(tables["sites"]),
            cns_site_ids=frozenset(k for k, s in tables["sites"].items() if s.cns),
        )

    def agent_class(self, agent_id: str) -> str | None:
        """The class id of an agent or procedure (``pomalidomide`` -> ``imid``, ``asct`` -> ``transplant``)."""
        if agent_id in self.agents:
            return self.agents[agent_id].cls
        if agent_id in self.procedures:
            return self.procedures[agent_id].cls
        return None

    def members(self, class_id: str) -> tuple[str, ...]:
        """Agent and procedure ids of a class, sorted."""
        found = [a.id for a in self.agents.values() if a.cls == class_id]
        found += [p.id for p in self.procedures.values() if p.cls == class_id]
        return tuple(sorted(found))

    def term(self, term_id: str) -> Term | None:
        for table in self._tables():
            if term_id in table:
                return table[term_id]
        return None

    def _tables(self) -> Iterator[Mapping[str, Term]]:
        yield self.classes
        yield self.agents
        yield self.procedures
        yield self.regimens
        yield self.biomarkers
        yield self.modalities
        yield self.sites
        yield self.endpoints

    def label(self, term_id: str, lang: str = "en") -> str:
        t = self.term(term_id)
        if t is None:
            return term_id
        return t.zh if lang == "zh" else t.en


def parse_vocabulary(files: Iterable[tuple[str, Any]]) -> Vocabulary:
    """Build a vocabulary from ``(file name, parsed YAML)`` pairs, listing every problem at once."""
    tables: dict[str, dict[str, Any]] = {k: {} for k in _SECTIONS}
    where: dict[str, str] = {}
    problems: list[str] = []
    for fname, doc in files:
        if not isinstance(doc, dict):
            problems.append(f"{fname}: expected a mapping of vocabulary sections")
            continue
        for section, entries in doc.items():
            model = _SECTIONS.get(section)
            if model is None:
                problems.append(f"{fname}: unknown section {section!r} (known: {', '.join(_SECTIONS)})")
                continue
            for i, raw in enumerate(entries or []):
                try:
                    term = model.model_validate(raw)
                except ValidationError as exc:
                    for err in exc.errors():
                        loc = ".".join(str(p) for p in err["loc"])
                        ident = raw.get("id", f"#{i}") if isinstance(raw, dict) else f"#{i}"
                        problems.append(f"{fname}: {section} {ident}: {loc}: {err['msg']}")
                    continue
                if term.id in where:
                    problems.append(f"{fname}: {section} {term.id}: id already defined in {where[term.id]}")
                    continue
                where[term.id] = fname
                tables[section][term.id] = term
    vocab = Vocabulary.of(**tables)
    for agent in vocab.agents.values():
        if agent.cls not in vocab.classes:
            problems.append(f"{where[agent.id]}: agents {agent.id}: class: unknown class {agent.cls!r}")
    for reg in vocab.regimens.values():
        for comp in reg.components:
            if comp not in vocab.therapy_ids:
                problems.append(f"{where[reg.id]}: regimens {reg.id}: components: unknown agent {comp!r}")
    if problems:
        raise VocabularyError(problems)
    return vocab


def _validated_values(vocab: Vocabulary) -> bytes:
    """Every term as validated values (:func:`mmemd._validated.plain`), by section, as marshal."""
    return marshal.dumps(
        {section: [plain(t) for t in getattr(vocab, section).values()] for section in _SECTIONS}
    )


def _from_validated(blob: bytes) -> Vocabulary:
    kept = marshal.loads(blob)
    tables: dict[str, dict[str, Any]] = {}
    for section, model in _SECTIONS.items():
        rebuild = rebuilder(model)
        tables[section] = {term.id: term for term in map(rebuild, kept[section])}
    return Vocabulary.of(**tables)


def _kept_name() -> str:
    """The kept entry's name: one per vocabulary directory (checkouts side by side) and pydantic version."""
    return stamp_name(f"vocabulary-pydantic-{PYDANTIC_VERSION}", VOCAB_DIR)


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The packaged vocabulary (parsed once per process).

    Validating it is a function of the vocabulary files, this module (the models) and pydantic: the result is kept
    by their ``stat`` (:func:`stamped`) as the terms' validated values, and while none of them changed the terms are
    rebuilt from those (:mod:`mmemd._validated`) — equal to validated ones, without validating again or building the
    models' validators. A file written, added or removed means validating (and reporting problems) as before.
    """
    files = sorted(VOCAB_DIR.glob("*.yaml"))
    return kept_validated(
        _kept_name(),
        [*files, Path(__file__), Path(_validated.__file__)],
        lambda: parse_vocabulary((p.name, read_yaml(p)) for p in files),
        _validated_values,
        _from_validated,
    )
