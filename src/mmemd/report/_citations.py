"""Publications the decision-support rules cite besides the knowledge base's claims (staging figures, consensus
definitions, the EMD studies behind a caution), and the two seed reviews, as a reference list for clinicians.

Rules name a publication by a short key (``GREIPP05``); a clinician never sees the key: the report shows the
author-year form in the text (:func:`short_cite`) and the full reference (authors, title, journal, year, DOI) in its
reference list (:func:`reference_text`). Where the DOI could not be checked it is left out rather than guessed
(``doi=None``); each checked DOI was compared with the publisher's or PubMed Central's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal


@dataclass(frozen=True, slots=True)
class Reference:
    authors: str
    title: str
    journal: str
    year: int
    volume: str = ""
    doi: str | None = None
    #: the short form used in the text, e.g. "Greipp 2005"
    short: str = ""


REFERENCES: Final[dict[str, Reference]] = {
    "GREIPP05": Reference(
        "Greipp PR, San Miguel J, Durie BGM, et al.",
        "International staging system for multiple myeloma",
        "J Clin Oncol",
        2005,
        "23(15):3412-20",
        "10.1200/JCO.2005.04.242",
        "Greipp 2005",
    ),
    "PALUMBO15": Reference(
        "Palumbo A, Avet-Loiseau H, Oliva S, et al.",
        "Revised International Staging System for multiple myeloma: a report from International Myeloma Working Group",
        "J Clin Oncol",
        2015,
        "33(26):2863-9",
        "10.1200/JCO.2015.61.2267",
        "Palumbo 2015",
    ),
    "DAGOSTINO22": Reference(
        "D'Agostino M, Cairns DA, Lahuerta JJ, et al.",
        "Second Revision of the International Staging System (R2-ISS) for Overall Survival in Multiple Myeloma",
        "J Clin Oncol",
        2022,
        "40(29):3406-18",
        "10.1200/JCO.21.02614",
        "D'Agostino 2022",
    ),
    "IMS25": Reference(
        "Avet-Loiseau H, Davies FE, Samur MK, et al.",
        "International Myeloma Society/International Myeloma Working Group Consensus Recommendations on the Definition "
        "of High-Risk Multiple Myeloma",
        "J Clin Oncol",
        2025,
        "43(24):2739-51",
        "10.1200/JCO-24-01893",
        "Avet-Loiseau 2025",
    ),
    "KUMAR16": Reference(
        "Kumar S, Paiva B, Anderson KC, et al.",
        "International Myeloma Working Group consensus criteria for response and minimal residual disease assessment "
        "in multiple myeloma",
        "Lancet Oncol",
        2016,
        "17(8):e328-46",
        "10.1016/S1470-2045(16)30206-6",
        "Kumar 2016",
    ),
    "BHUTANI20": Reference(
        "Bhutani M, Foureau DM, Atrash S, Voorhees PM, Usmani SZ.",
        "Extramedullary multiple myeloma",
        "Leukemia",
        2020,
        "34(1):1-20",
        "10.1038/s41375-019-0660-0",
        "Bhutani 2020",
    ),
    "ROSINOL21": Reference(
        "Rosiñol L, Beksac M, Zamagni E, et al.",
        "Expert review on soft-tissue plasmacytomas in multiple myeloma: definition, disease assessment and treatment "
        "considerations",
        "Br J Haematol",
        2021,
        "194(3):496-507",
        "10.1111/bjh.17338",
        "Rosiñol 2021",
    ),
    "BLADE22": Reference(
        "Bladé J, Beksac M, Caers J, et al.",
        "Extramedullary disease in multiple myeloma: a systematic literature review",
        "Blood Cancer J",
        2022,
        "12(3):45",
        "10.1038/s41408-022-00643-3",
        "Bladé 2022",
    ),
    "TOUZEAU16": Reference(
        "Touzeau C, Moreau P.",
        "How I treat extramedullary myeloma",
        "Blood",
        2016,
        "127(8):971-6",
        None,
        "Touzeau 2016",
    ),
    "PCL21": Reference(
        "Fernández de Larrea C, Kyle R, Rosiñol L, et al.",
        "Primary plasma cell leukemia: consensus definition by the International Myeloma Working Group according to "
        "peripheral blood plasma cell percentage",
        "Blood Cancer J",
        2021,
        "11(12):192",
        "10.1038/s41408-021-00587-0",
        "Fernández de Larrea 2021",
    ),
    "CAERS18": Reference(
        "Caers J, Paiva B, Zamagni E, et al.",
        "Diagnosis, treatment, and response assessment in solitary plasmacytoma: updated recommendations from a "
        "European Expert Panel",
        "J Hematol Oncol",
        2018,
        "11(1):10",
        "10.1186/s13045-017-0549-1",
        "Caers 2018",
    ),
    "DIMA24": Reference(
        "Dima D, Abdallah AO, Davis JA, et al.",
        "Impact of extraosseous extramedullary disease on outcomes of patients with relapsed-refractory multiple "
        "myeloma receiving standard-of-care chimeric antigen receptor T-cell therapy",
        "Blood Cancer J",
        2024,
        "14(1):90",
        "10.1038/s41408-024-01068-w",
        "Dima 2024",
    ),
    "ZANWAR24": Reference(
        "Zanwar S, Sidana S, Shune L, et al.",
        "Impact of extramedullary multiple myeloma on outcomes with idecabtagene vicleucel",
        "J Hematol Oncol",
        2024,
        "17:42",
        "10.1186/s13045-024-01555-4",
        "Zanwar 2024",
    ),
    "STEINHARDT25": Reference(
        "Steinhardt MJ, et al.", "", "Blood Cancer J", 2025, "15:126", None, "Steinhardt 2025"
    ),
    "GAGELMANN18": Reference(
        "Gagelmann N, Eikema DJ, Iacobelli S, et al.",
        "Impact of extramedullary disease in patients with newly diagnosed multiple myeloma undergoing autologous stem "
        "cell transplantation: a study from the Chronic Malignancies Working Party of the EBMT",
        "Haematologica",
        2018,
        "103(5):890-7",
        "10.3324/haematol.2017.178434",
        "Gagelmann 2018",
    ),
    "BEKSAC20": Reference(
        "Beksac M, Seval GC, Kanellias N, et al.",
        "A real world multicenter retrospective study on extramedullary disease from Balkan Myeloma Study Group and "
        "Barcelona University: analysis of parameters that improve outcome",
        "Haematologica",
        2020,
        "105(1):201-8",
        "10.3324/haematol.2019.219295",
        "Beksac 2020",
    ),
}

#: A rule key that stands for several publications (the EMD studies of 2018-2025 behind one caution).
GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "EMD-Tx": ("DIMA24", "ZANWAR24", "STEINHARDT25", "GAGELMANN18", "BEKSAC20"),
}

#: The two seed reviews, named by title (the shipped texts carry no journal line).
REVIEWS: Final[dict[str, dict[str, str]]] = {
    "emdtx": {
        "zh": "《多发性骨髓瘤髓外疾病的治疗进展》（中文综述）",
        "en": "Progress in the treatment of extramedullary disease in multiple myeloma (review, in Chinese)",
    },
    "emdrev": {
        "zh": "《伴髓外病变的多发性骨髓瘤的研究进展》（中文综述）",
        "en": "Multiple myeloma with extramedullary disease: pathogenesis, clinical features, diagnosis, prognosis and "
        "treatment (review, in Chinese)",
    },
}


def expand(keys: tuple[str, ...] | list[str]) -> list[str]:
    """Rule keys as publication keys (groups expanded), in order, without repeats."""
    out: dict[str, None] = {}
    for k in keys:
        for x in GROUPS.get(k, (k,)):
            out.setdefault(x, None)
    return list(out)


def short_cite(key: str, lang: Literal["en", "zh"] = "en") -> str:
    """'Greipp 2005' (en) / 'Greipp等，2005' (zh); a group as its members; an unknown key as it is (never a guess)."""
    if key in GROUPS:
        return (
            "; ".join(short_cite(k, lang) for k in GROUPS[key])
            if lang == "en"
            else "；".join(short_cite(k, lang) for k in GROUPS[key])
        )
    ref = REFERENCES.get(key)
    if ref is None:
        return key
    if lang == "zh" and ref.short[:1].isupper() and not ref.short.startswith("J "):
        name, _, year = ref.short.rpartition(" ")
        return f"{name}等，{year}"
    return ref.short


def reference_text(key: str) -> str:
    """The full reference: authors. Title. Journal Year;Volume. doi:..."""
    ref = REFERENCES[key]
    vol = f";{ref.volume}" if ref.volume else ""
    doi = f" doi:{ref.doi}" if ref.doi else ""
    title = f" {ref.title}." if ref.title else ""
    return f"{ref.authors}{title} {ref.journal} {ref.year}{vol}.{doi}"


#: Evidence tables name a review by number (its full title is listed once under References): the title repeated on
#: every row of a narrow column ran to nine hyphenated lines a row and half the report's pages.
REVIEW_NUMBERS: Final[dict[str, dict[str, str]]] = {
    "emdtx": {"zh": "综述一", "en": "Review 1"},
    "emdrev": {"zh": "综述二", "en": "Review 2"},
}


def review_title(alias: str, lang: Literal["en", "zh"]) -> str:
    """A seed review by its title, never by the knowledge base's alias."""
    return REVIEWS.get(alias, {}).get(lang, alias)


def review_label(alias: str, lang: Literal["en", "zh"]) -> str:
    """A seed review by its number ("Review 1"), as the References section lists it; else by its title."""
    return REVIEW_NUMBERS.get(alias, {}).get(lang) or review_title(alias, lang)


def review_reference(alias: str, lang: Literal["en", "zh"]) -> str:
    """The References entry of a seed review: its number, then its title."""
    number = REVIEW_NUMBERS.get(alias, {}).get(lang)
    title = review_title(alias, lang)
    if number is None:
        return title
    return f"{number}：{title}" if lang == "zh" else f"{number}: {title}"


def spec_source(key: str) -> str:
    """The full reference of a rule key (a group: its members'); the bare key when unknown (never a guess)."""
    return "; ".join(reference_text(k) if k in REFERENCES else k for k in expand([key]))
