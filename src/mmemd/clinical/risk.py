"""IMS/IMWG 2025 definition of high-risk myeloma — docs/criteria.md §2.4 (IMS25).

High risk if at least one of:

1. del(17p) in ≥20% of clonal cells (cancer clonal fraction; the ≥ vs > reading is a setting, ⚠ in the spec)
   and/or a TP53 mutation;
2. t(4;14), t(14;16) or t(14;20) together with 1q+ and/or del(1p32);
3. monoallelic del(1p32) with 1q+, or biallelic del(1p32);
4. β2-microglobulin ≥5.5 mg/L with normal creatinine (<1.2 mg/dL).

Three-valued: ``True`` with the features that decided it; ``False`` when every criterion is known false; ``None`` when
nothing known makes it true and an unknown datum could (the reasons name the missing data). Computed from the
record's ``labs`` and ``cytogenetics``, i.e. at diagnosis (docs/record.md). The criteria live in
:mod:`mmemd.clinical._high_risk_rules` (plain functions that the compiled build compiles); this module holds the
settings, the results, the feature texts and the entry point.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Final, Literal

import msgspec

# The package, not its function: its exports load on first use (mmemd._lazy), and a module attribute is read
# faster than a `from … import` inside the function runs (that goes through the import system at every call).
from mmemd import knowledge
from mmemd.clinical._high_risk_rules import decide
from mmemd.clinical.record import Cytogenetics, Labs

if TYPE_CHECKING:
    from mmemd.knowledge import Glossary

HIGH_RISK_DEFINITION: Final = "IMS-IMWG-2025"


# gc=False: holds numbers, strings, dates and tuples of them only, so never part of a reference cycle
class HighRiskSettings(msgspec.Struct, frozen=True, gc=False):
    """Readings of the IMS/IMWG 2025 high-risk definition (docs/criteria.md §2.4)."""

    # del(17p) cancer clonal fraction threshold — docs/criteria.md §2.4 and §7 item 2 [I/⚠]: HealthTree and the
    # calculators say "≥20%", some summaries ">20%"; the spec's default is ≥20%.
    del17p_clonal_fraction_threshold_pct: Decimal = Decimal(20)
    # True: a fraction equal to the threshold counts (≥20%); False: strictly above (>20%). §2.4 [I/⚠].
    del17p_threshold_inclusive: bool = True
    # β2-microglobulin ≥5.5 mg/L (inclusive) — docs/criteria.md §2.4 criterion 4 [V-secondary].
    b2m_min_mg_l: Decimal = Decimal("5.5")
    # "normal creatinine (<1.2 mg/dL)", strict — docs/criteria.md §2.4 criterion 4 [V-secondary].
    creatinine_normal_below_mg_dl: Decimal = Decimal("1.2")


DEFAULT_HIGH_RISK_SETTINGS: Final = HighRiskSettings()


# gc=False: holds numbers, strings, dates and tuples of them only, so never part of a reference cycle
class HighRiskFeature(msgspec.Struct, frozen=True, gc=False):
    """A deciding feature as a structured fact: a glossary template id and its values (rendered in either language
    by :func:`feature_text`)."""

    template: str
    facts: tuple[tuple[str, str], ...] = ()


class HighRiskResult(msgspec.Struct, frozen=True):
    high_risk: bool | None
    features: tuple[str, ...]
    reasons: tuple[str, ...]
    #: the same features as structured facts, in the same order as ``features``
    feature_facts: tuple[HighRiskFeature, ...] = ()


#: Feature texts already rendered, by (template, facts, language), each with the glossary it was rendered from; the
#: features take few distinct values over a batch (a template and a handful of lab values). Emptied when full.
_TEXTS: dict[tuple[str, tuple[tuple[str, str], ...], str], tuple[object, str]] = {}
_TEXTS_KEPT: Final = 1024


def feature_text(feature: HighRiskFeature, lang: Literal["en", "zh"] = "en") -> str:
    """A high-risk feature in English or Chinese, from its facts (the English text is the engine's own wording)."""
    return _text(knowledge.load_glossary(), feature, lang)


def _text(glossary: Glossary, feature: HighRiskFeature, lang: Literal["en", "zh"]) -> str:
    key = (feature.template, feature.facts, lang)
    hit = _TEXTS.get(key)
    if hit is not None and hit[0] is glossary:
        return hit[1]
    text = _render(glossary, feature, lang)
    if len(_TEXTS) >= _TEXTS_KEPT:
        _TEXTS.clear()
    _TEXTS[key] = (glossary, text)
    return text


def _render(glossary: Glossary, feature: HighRiskFeature, lang: Literal["en", "zh"]) -> str:
    facts = dict(feature.facts)
    if feature.template == "hr.translocation_with_1q_or_1p":
        partners = []
        for p in facts["partners"].split(","):
            if p == "gain_1q":
                partners.append(glossary.render("hr.gain_1q", lang))
            else:
                allele = glossary.render(f"allele.{p}", lang) if lang == "zh" else p
                partners.append(glossary.render("hr.del1p32", lang, allele=allele))
        sep = glossary.term("and", lang)
        facts = {
            "translocations": sep.join(facts["translocations"].split(",")),
            "partners": sep.join(partners),
        }
    return glossary.render(feature.template, lang, **facts)


def high_risk(
    cytogenetics: Cytogenetics | None,
    labs: Labs | None,
    settings: HighRiskSettings = DEFAULT_HIGH_RISK_SETTINGS,
) -> HighRiskResult:
    """IMS/IMWG 2025 high-risk status (docs/criteria.md §2.4), with the deciding features."""
    facts, undecided = decide(cytogenetics, labs, settings)
    if facts:
        glossary = knowledge.load_glossary()
        features = tuple([HighRiskFeature(template, values) for template, values in facts])
        return HighRiskResult(True, tuple([_text(glossary, f, "en") for f in features]), (), features)
    if undecided:
        return HighRiskResult(None, (), undecided)
    return HighRiskResult(False, (), ())
