"""The bilingual glossary (``data/glossary.yaml``): one English and one Chinese wording per clinician-facing concept.

Text producers render structured facts through it (``render("hr.del17p", "zh", pct="35")``) instead of translating
English sentences, so a Chinese report, card or explanation carries no English prose and a concept reads the same in
every section.

>>> from mmemd.knowledge import load_glossary
>>> load_glossary().term("refractory", "zh")
'难治'
>>> load_glossary().timepoint("12 months", "zh")
'12个月'
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Final, Literal

import msgspec

from mmemd.knowledge._data import DATA_DIR, read_yaml

GlossaryLang = Literal["en", "zh"]
_N_UNIT: Final = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")


class Glossary(msgspec.Struct, frozen=True):
    """The clinician wording of terms, templates, time points, units, populations and phrases, in both languages."""

    terms: dict[str, dict[str, str]]
    templates: dict[str, dict[str, str]]
    timepoints: dict[str, dict[str, str]]
    units: dict[str, dict[str, str]]
    populations: dict[str, dict[str, str]]
    phrases: dict[str, dict[str, str]]

    def term(self, key: str, lang: GlossaryLang) -> str:
        """The wording of a term; KeyError for an unknown key (a missing entry is a bug, not a fallback)."""
        return self.terms[key][lang]

    def render(self, template: str, lang: GlossaryLang, **facts: Any) -> str:
        return self.templates[template][lang].format(**facts)

    def join(self, items: list[str], lang: GlossaryLang) -> str:
        return self.terms["list_sep"][lang].join(items)

    def timepoint(self, text: str, lang: GlossaryLang) -> str:
        """'12 months' -> '12个月'; a phrase from ``timepoints``; unknown wording is returned as it is."""
        if lang == "en":
            return text
        t = text.strip()
        if t in self.timepoints:
            return self.timepoints[t][lang]
        m = _N_UNIT.fullmatch(t)
        if m and m.group(2) in self.units:
            return self.units[m.group(2)][lang].format(n=m.group(1))
        return text

    def phrase(self, text: str, lang: GlossaryLang) -> str:
        """A study arm or subgroup as the claims word it; unknown wording is returned as it is."""
        if lang == "en":
            return text
        return self.phrases.get(text.strip(), {}).get(lang, text)

    def population(self, text: str, lang: GlossaryLang) -> str:
        if lang == "en":
            return text
        return self.populations.get(text.strip(), {}).get(lang, text)


@lru_cache(maxsize=1)
def load_glossary() -> Glossary:
    raw = read_yaml(DATA_DIR / "glossary.yaml")
    return Glossary(
        terms=raw.get("terms", {}),
        templates=raw.get("templates", {}),
        timepoints=raw.get("timepoints", {}),
        units=raw.get("units", {}),
        populations=raw.get("populations", {}),
        phrases=raw.get("phrases", {}),
    )
