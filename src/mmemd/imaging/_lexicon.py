"""The lexicons of ``data/*.yaml`` compiled into one matcher per concern and language.

Chinese terms match anywhere (Chinese has no spaces between words), longest first; English terms match whole words,
case-insensitively, with an optional plural "s" or "es". Matches of different concerns never overlap: :func:`tokenize` runs
the concerns in :data:`PRIORITY` order and drops a match that overlaps one already taken, so "无明显变化" (stable) is
not read as the negation "无", nor "no new lesions" as a negated lesion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Final, Literal

import yaml

Lang = Literal["zh", "en"]

# Concern name -> category of the token it yields. Order = priority when matches overlap.
PRIORITY: Final = (
    "no_extramedullary",
    "organs_normal",
    "no_new",
    "lesion_override",
    "morphology",
    "descriptor",
    "uptake",
    "change",
    "distractor",
    "hedge",
    "myeloma",
    "marrow",
    "negation",
    "post_negation",
    "bone_destruction",
    "soft_tissue",
    "site",
    "bone",
    "soft_region",
    "lesion",
    "enlarged",
    "diffuse",
    "side",
    "region",
)


@dataclass(frozen=True, slots=True)
class Token:
    """One matched cue: its concern, its value (site id, change kind, side; else the concern) and its span."""

    kind: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class Lexicon:
    sites_paired: dict[str, bool]
    matchers: dict[Lang, list[tuple[str, re.Pattern[str], dict[str, str]]]]
    prior: dict[Lang, re.Pattern[str]]
    sections: dict[Lang, list[tuple[str, str]]]
    modality: list[tuple[str, re.Pattern[str]]]


def _data(name: str) -> Any:
    return yaml.safe_load(resources.files("mmemd.imaging").joinpath("data", name).read_text(encoding="utf-8"))


def _alternation(terms: list[str], lang: Lang) -> str:
    bad = [t for t in terms if not isinstance(t, str)]
    if bad:  # YAML reads an unquoted no/yes/on/off as a boolean
        raise ValueError(f"imaging lexicon terms must be strings, got {bad!r} (quote them in the YAML)")
    ordered = sorted({t.lower() if lang == "en" else t for t in terms}, key=len, reverse=True)
    body = "|".join(re.escape(t).replace(r"\ ", r"\s*" if lang == "zh" else r"[\s-]+") for t in ordered)
    if lang == "en":
        return rf"(?<![a-z0-9])(?:{body})(?:s|es)?(?![a-z0-9])"
    return f"(?:{body})"


# The side words a `zh_after_side` site term must follow (左乳, 右乳, 双乳, 两乳, 左侧乳…).
_ZH_SIDE_CHARS: Final = "左右双两侧"


def _matcher(
    groups: dict[str, list[str]], lang: Lang, after_side: dict[str, list[str]] | None = None
) -> tuple[re.Pattern[str], dict[str, str]]:
    """One regex over every term of a concern, longest term first (so at any position the longest term wins), and
    the value (site id, change kind, side) of each term. ``after_side`` terms match only right after a side word."""
    values: dict[str, str] = {}
    for value, terms in groups.items():
        for term in terms or []:
            values.setdefault(_key(term, lang), value)
    pattern = _alternation(list(values), lang)
    sided = {t: value for value, terms in (after_side or {}).items() for t in terms}
    if sided:
        for term, value in sided.items():
            values.setdefault(_key(term, lang), value)
        pattern = f"{pattern}|(?<=[{_ZH_SIDE_CHARS}]){_alternation(list(sided), lang)}"
    return re.compile(pattern, re.IGNORECASE), values


def _key(term: str, lang: Lang) -> str:
    """How a matched term is looked up: English lower-case with single spaces and no plural "s"."""
    return re.sub(r"[\s-]+", " ", term.lower()) if lang == "en" else term


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    sites = _data("sites.yaml")["sites"]
    cues = _data("cues.yaml")
    matchers: dict[Lang, list[tuple[str, re.Pattern[str], dict[str, str]]]] = {"zh": [], "en": []}
    for lang in ("zh", "en"):
        for concern in PRIORITY:
            if concern == "site":
                groups = {sid: list(entry.get(lang) or []) for sid, entry in sites.items()}
            elif concern in ("change", "side"):
                groups = {value: list(entry.get(lang) or []) for value, entry in cues[concern].items()}
            else:
                groups = {concern: list(cues[concern].get(lang) or [])}
            if not any(groups.values()):
                continue
            after_side = (
                {sid: list(entry.get("zh_after_side") or []) for sid, entry in sites.items()}
                if concern == "site" and lang == "zh"
                else None
            )
            pattern, values = _matcher(groups, lang, after_side)
            matchers[lang].append((concern, pattern, values))
    prior = {
        lang: re.compile(_alternation(list(cues["prior"][lang]), lang), re.IGNORECASE)
        for lang in ("zh", "en")
    }
    sections = {
        lang: [(kind, term) for kind, by_lang in cues["sections"].items() for term in by_lang[lang]]
        for lang in ("zh", "en")
    }
    # Chinese text loses its spaces, so a tracer glued to its modality ("18F-FDG PET/CT" → "18F-FDGPET/CT") must
    # still read as one name: words of a modality name may be written without a space between them.
    modality = [
        (
            name,
            re.compile(
                _alternation(terms, "en")
                .replace("(?<![a-z0-9])", "(?<![A-Za-z])")
                .replace(r"[\s-]+", r"[\s-]*"),
                re.IGNORECASE,
            ),
        )
        for name, terms in cues["modality"].items()
    ]
    return Lexicon(
        sites_paired={sid: bool(entry.get("paired")) for sid, entry in sites.items()},
        matchers=matchers,
        prior=prior,  # type: ignore[arg-type]
        sections=sections,  # type: ignore[arg-type]
        modality=modality,
    )


def tokenize(text: str, lang: Lang) -> list[Token]:
    """Every cue in ``text``, non-overlapping (earlier concerns in :data:`PRIORITY` win), sorted by position."""
    lex = lexicon()
    taken = bytearray(len(text) + 1)
    out: list[Token] = []
    by_concern: dict[str, list[Token]] = {}
    for concern, pattern, values in lex.matchers[lang]:
        found = by_concern.setdefault(concern, [])
        for m in pattern.finditer(text):
            key = _key(m.group(), lang)
            # an English plural: "nodes" -> "node", "masses" -> "mass"
            value = values.get(key) or values.get(key[:-1]) or values.get(key[:-2]) or concern
            found.append(Token(concern, value, m.start(), m.end()))
    for concern in PRIORITY:
        # Within a concern the longest match wins, then the earliest.
        for tok in sorted(by_concern.get(concern, ()), key=lambda t: (t.start - t.end, t.start)):
            if any(taken[tok.start : tok.end]):
                continue
            taken[tok.start : tok.end] = b"\x01" * (tok.end - tok.start)
            out.append(tok)
    out.sort(key=lambda t: t.start)
    return out
