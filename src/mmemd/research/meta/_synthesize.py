"""Pooling the knowledge base's claims (``mmemd synthesize``): which claims can be pooled, with which counts.

Rules (docs/meta-analysis.md, "Synthesis"):

1. **Only exact percentages of a known n.** A claim enters when its value is a percentage without qualifier or range,
   and the size of the group the value describes is known: ``n_emd`` for an EMD population or the EMD arm of a
   mixed one, ``n_total - n_emd`` for the non-EMD arm, else ``n_total``. Meta-analyses are excluded (pooling a
   pooled value with its own studies counts patients twice).
2. **Events from a rounded percentage only when unambiguous.** With the value printed to d decimals, the events are
   the counts e in 0..n with ``|100·e/n - value| <= 0.5·10^-d``; exactly one such e is used, none (an inconsistent
   figure) or several (ambiguous) exclude the claim, with the candidates listed.
3. **Never across endpoints or populations.** Claims are pooled only within one stratum: the same endpoint, disease
   setting (``MM``, ``NDMM``, ``RRMM`` as curated) and EMD status of the group the value describes (``emd``,
   ``non_emd``, ``mixed``, ``unspecified``). Strata are reported side by side, never combined.
4. **No double counting.** A second claim with the same study (or, without a study name, the same interventions)
   and the same events and n is excluded as a duplicate of the first.
5. **Heterogeneity warning** when I² >= :data:`HETEROGENEITY_I2` percent or the Q test's p < :data:`HETEROGENEITY_Q_P`
   (the conventional 0.10 for a test known to have low power with few studies; Cochrane Handbook §10.10.2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from mmemd.research.meta._effect import SINGLE_GROUP, Measure, proportions
from mmemd.research.meta._errors import MetaInputError
from mmemd.research.meta._pool import MetaResult, rma
from mmemd.research.meta._subgroup import SubgroupResult, subgroups
from mmemd.research.meta._tau2 import Method

if TYPE_CHECKING:
    from mmemd.knowledge import Claim, KnowledgeBase, Vocabulary

#: I² (percent) at or above which the pooled value comes with a heterogeneity warning.
HETEROGENEITY_I2 = 50.0
#: p value of Cochran's Q below which the pooled value comes with a heterogeneity warning.
HETEROGENEITY_Q_P = 0.10

SYNTHESIS_SCHEMA = "mmemd.synthesis/1"


class GroupBy(StrEnum):
    agent_class = "agent_class"
    agent = "agent"
    design = "design"
    source = "source"


@dataclass(frozen=True)
class Included:
    claim_id: str
    study: str | None
    arm: str | None
    events: int
    n: int
    value: Decimal
    group: str | None = None

    @property
    def label(self) -> str:
        arm = f" ({self.arm})" if self.arm else ""
        return f"{self.study or 'unnamed study'}{arm} · {self.claim_id}"


@dataclass(frozen=True)
class Excluded:
    claim_id: str
    reason: str
    arm: str | None = None


@dataclass(frozen=True)
class Stratum:
    endpoint: str
    disease: str
    emd: str
    included: tuple[Included, ...]
    result: MetaResult
    subgroups: SubgroupResult | None
    warnings: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.endpoint} · {self.disease} · {self.emd}"


@dataclass(frozen=True)
class Synthesis:
    endpoint: str
    measure: Measure
    method: Method
    knha: bool
    emd_only: bool
    group_by: GroupBy | None
    kb_version: str
    strata: tuple[Stratum, ...]
    excluded: tuple[Excluded, ...]
    considered: int
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SYNTHESIS_SCHEMA,
            "endpoint": self.endpoint,
            "measure": self.measure.value,
            "method": self.method.value,
            "knha": self.knha,
            "emd_only": self.emd_only,
            "group_by": None if self.group_by is None else self.group_by.value,
            "kb_version": self.kb_version,
            "thresholds": {"i2_percent": HETEROGENEITY_I2, "q_p": HETEROGENEITY_Q_P},
            "claims_considered": self.considered,
            "strata": [
                {
                    "endpoint": s.endpoint,
                    "disease": s.disease,
                    "emd": s.emd,
                    "claims": [
                        {
                            "claim_id": c.claim_id,
                            "study": c.study,
                            "arm": c.arm,
                            "events": c.events,
                            "n": c.n,
                            "value_percent": float(c.value),
                            "group": c.group,
                        }
                        for c in s.included
                    ],
                    **s.result.to_dict(),
                    "subgroups": None if s.subgroups is None else s.subgroups.to_dict(),
                    "warnings": list(s.warnings),
                }
                for s in self.strata
            ],
            "excluded": [{"claim_id": e.claim_id, "arm": e.arm, "reason": e.reason} for e in self.excluded],
            "warnings": list(self.warnings),
        }


def derive_events(value: Decimal, n: int) -> list[int]:
    """Every event count e of n whose percentage rounds to ``value`` at the decimals it is printed with."""
    exponent = value.as_tuple().exponent
    decimals = max(0, -exponent) if isinstance(exponent, int) else 0
    half = Decimal(5) * Decimal(10) ** (-decimals - 1)
    return [e for e in range(n + 1) if abs(Decimal(100 * e) / Decimal(n) - value) <= half]


def _arm_status(arm: str | None) -> str | None:
    if arm is None:
        return None
    a = arm.casefold().replace("_", "-").replace(" ", "-")
    if "non-emd" in a or "without-emd" in a or "non-extramedullary" in a:
        return "non_emd"
    if "emd" in a or "extramedullary" in a:
        return "emd"
    return None


def _candidate_groups(claim: Claim) -> list[tuple[str | None, Decimal | None, str, int | None, str | None]]:
    """(arm, value, EMD status, n, why n is unknown) for the claim's value and, for two arms, its comparator."""
    pop = claim.population
    out: list[tuple[str | None, Decimal | None, str, int | None, str | None]] = []
    if pop.emd == "mixed" and (claim.arm or claim.comparator_arm):
        for arm, value in ((claim.arm, claim.value), (claim.comparator_arm, claim.comparator_value)):
            if value is None and arm == claim.comparator_arm:
                continue
            status = _arm_status(arm)
            n: int | None = None
            why = None
            if status == "emd":
                n = claim.n_emd
                why = None if n is not None else f"size of the arm {arm!r} unknown (n_emd not given)"
            elif status == "non_emd":
                if claim.n_total is not None and claim.n_emd is not None:
                    n = claim.n_total - claim.n_emd
                else:
                    why = f"size of the arm {arm!r} unknown (needs n_total and n_emd)"
            else:
                why = f"arm {arm!r} of a mixed population has no known size"
            out.append((arm, value, status or "mixed", n, why))
        return out
    n = claim.n_emd if pop.emd == "emd" and claim.n_emd is not None else claim.n_total
    why = None if n is not None else "sample size unknown (no n_total or n_emd)"
    out.append((claim.arm, claim.value, pop.emd, n, why))
    return out


def _principal(claim: Claim, vocab: Vocabulary) -> str | None:
    """The claim's principal intervention: the first that is not a corticosteroid (dexamethasone is a partner)."""
    for ident in claim.interventions:
        agent = vocab.agents.get(ident)
        if agent is not None and agent.cls == "corticosteroid":
            continue
        return ident
    return claim.interventions[0] if claim.interventions else None


def agent_class(claim: Claim, vocab: Vocabulary) -> str:
    ident = _principal(claim, vocab)
    if ident is None:
        return "unspecified"
    if ident in vocab.classes:
        return ident
    for table in (vocab.agents, vocab.procedures):
        term = table.get(ident)
        if term is not None:
            return str(term.cls)
    regimen = vocab.regimens.get(ident)
    if regimen is not None:
        for comp in regimen.components:
            agent = vocab.agents.get(comp)
            if agent is not None and agent.cls != "corticosteroid":
                return str(agent.cls)
    return "other"


def _group_of(claim: Claim, group_by: GroupBy | None, vocab: Vocabulary) -> str | None:
    if group_by is None:
        return None
    if group_by is GroupBy.agent_class:
        return agent_class(claim, vocab)
    if group_by is GroupBy.agent:
        return _principal(claim, vocab) or "unspecified"
    if group_by is GroupBy.design:
        return claim.design.value
    return claim.source


def select(
    claims: Iterable[Claim], vocab: Vocabulary, group_by: GroupBy | None = None
) -> tuple[dict[tuple[str, str, str], list[Included]], list[Excluded], int]:
    """Apply rules 1, 2 and 4: the poolable values by stratum, the exclusions with reasons, the count considered."""
    strata: dict[tuple[str, str, str], list[Included]] = {}
    excluded: list[Excluded] = []
    seen: dict[tuple[str, int, int], str] = {}
    considered = 0
    for claim in claims:
        considered += 1
        if claim.design.value == "meta_analysis":
            excluded.append(
                Excluded(claim.id, "a meta-analysis: its pooled value would count its studies twice")
            )
            continue
        for arm, value, status, n, why in _candidate_groups(claim):
            if value is None:
                excluded.append(Excluded(claim.id, "no numeric value", arm))
                continue
            if claim.unit != "%":
                excluded.append(Excluded(claim.id, f"value is not a percentage (unit {claim.unit})", arm))
                continue
            if claim.value_qualifier is not None:
                excluded.append(
                    Excluded(claim.id, f"value is bounded ({claim.value_qualifier}{value}), not exact", arm)
                )
                continue
            if claim.value_max is not None:
                excluded.append(Excluded(claim.id, f"value is a range ({value}-{claim.value_max}%)", arm))
                continue
            if n is None:
                excluded.append(Excluded(claim.id, why or "sample size unknown", arm))
                continue
            counts = derive_events(value, n)
            if not counts:
                excluded.append(
                    Excluded(claim.id, f"no count of {n} gives {value}% (inconsistent figure)", arm)
                )
                continue
            if len(counts) > 1:
                listed = ", ".join(f"{e}/{n}" for e in counts)
                excluded.append(Excluded(claim.id, f"ambiguous: {listed} all round to {value}%", arm))
                continue
            events = counts[0]
            who = (claim.study or "").casefold() or "|".join(claim.interventions)
            key = (f"{who}|{arm or ''}", events, n)
            if key in seen:
                excluded.append(Excluded(claim.id, f"duplicate of {seen[key]} (same study and counts)", arm))
                continue
            seen[key] = claim.id
            stratum = (claim.endpoint, claim.population.disease, status)
            strata.setdefault(stratum, []).append(
                Included(claim.id, claim.study, arm, events, n, value, _group_of(claim, group_by, vocab))
            )
    return strata, excluded, considered


def _heterogeneity_warning(result: MetaResult, label: str) -> str | None:
    if result.k < 2:
        return None
    if result.i2 >= HETEROGENEITY_I2 or result.q_p < HETEROGENEITY_Q_P:
        return (
            f"{label}: substantial heterogeneity (I² = {result.i2:.1f}%, Q p = {result.q_p:.3g}; thresholds "
            f"I² >= {HETEROGENEITY_I2:g}% or p < {HETEROGENEITY_Q_P:g}) — read the pooled value with caution"
        )
    return None


def synthesize(
    kb: KnowledgeBase,
    endpoint: str,
    *,
    measure: Measure | str = Measure.PLO,
    method: Method | str = Method.REML,
    knha: bool = False,
    emd_only: bool = False,
    group_by: GroupBy | str | None = None,
) -> Synthesis:
    """Pool the knowledge base's claims on ``endpoint`` (see the module's rules)."""
    m = Measure(measure)
    if m not in SINGLE_GROUP:
        raise MetaInputError("measure", f"claims are single-group rates: use PR, PLO, PFT or PAS, not {m}")
    meth = Method(method)
    gb = None if group_by is None else GroupBy(group_by)
    claims = kb.claims(endpoint=endpoint, emd_only=emd_only)
    by_stratum, excluded, considered = select(claims, kb.vocabulary, gb)
    strata = []
    warnings: list[str] = []
    for (ep, disease, emd), items in by_stratum.items():
        es = proportions(m, [c.events for c in items], [c.n for c in items], [c.label for c in items])
        result = rma(es, meth, knha=knha)
        label = f"{ep} · {disease} · {emd}"
        notes = []
        if result.k == 1:
            notes.append(f"{label}: a single study — nothing is pooled; its own estimate is shown")
        hw = _heterogeneity_warning(result, label)
        if hw:
            notes.append(hw)
        sub = None
        if gb is not None:
            labels = [c.group or "unspecified" for c in items]
            if len(set(labels)) > 1:
                sub = subgroups(es, labels, meth, by=gb.value, knha=knha)
                for g, r in sub.groups:
                    w = _heterogeneity_warning(r, f"{label} · {g}")
                    if w:
                        notes.append(w)
        strata.append(Stratum(ep, disease, emd, tuple(items), result, sub, tuple(notes)))
        warnings.extend(notes)
    if not strata:
        warnings.append(f"no claim on {endpoint} could be pooled (see the exclusions)")
    return Synthesis(
        endpoint=endpoint,
        measure=m,
        method=meth,
        knha=knha,
        emd_only=emd_only,
        group_by=gb,
        kb_version=kb.version,
        strata=tuple(strata),
        excluded=tuple(excluded),
        considered=considered,
        warnings=tuple(warnings),
    )
