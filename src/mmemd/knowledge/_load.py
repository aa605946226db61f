"""Read and validate the curated files, listing every problem at once.

Each problem names the file, the claim id, the field and the reason, so a curator can fix a whole batch in one pass.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mmemd.knowledge._data import CLAIMS_DIR, SOURCE_TEXT_DIR, SOURCES_FILE, VOCAB_DIR, read_yaml
from mmemd.knowledge._grade import grade_claim
from mmemd.knowledge._models import Category, Claim, CuratedClaim, Flag, Section, Source
from mmemd.knowledge._vocab import Vocabulary, VocabularyError, parse_vocabulary

#: Numeric fields whose value must be printed in the quote (or explained in ``number_sources``).
QUOTED_NUMBER_FIELDS = ("value", "value_max", "comparator_value", "n_total", "n_emd")


@dataclass(frozen=True)
class Problem:
    file: str
    claim: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.claim}: {self.field}: {self.reason}"


class CurationError(ValueError):
    """The curated data are invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        head = f"{len(problems)} problem(s) in the curated knowledge base:"
        super().__init__("\n".join([head, *(str(p) for p in problems)]))


@dataclass(frozen=True)
class Curated:
    sources: Mapping[str, Source]
    texts: Mapping[str, str]
    vocabulary: Vocabulary
    claims: tuple[Claim, ...]


_PRINTED_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?")


def number_in_text(number: Decimal | int, text: str) -> bool:
    """Whether ``number`` is printed in ``text`` as digits, compared by value (47 matches "47.0"; 26 does not
    match "126" or "2.6"; full-width digits count)."""
    wanted = Decimal(number)
    return any(Decimal(m) == wanted for m in _PRINTED_NUMBER.findall(unicodedata.normalize("NFKC", text)))


def _locate(quote: str, text: str, offset: int | None) -> tuple[int | None, str | None]:
    if offset is not None:
        if text[offset : offset + len(quote)] == quote:
            return offset, None
        found = _occurrences(quote, text)
        hint = f" (it occurs at {found})" if found else ""
        return None, f"quote not found at offset {offset}{hint}"
    found = _occurrences(quote, text)
    if not found:
        squeezed = re.sub(r"\s+", "", quote)
        if squeezed and squeezed in re.sub(r"\s+", "", text):
            return (
                None,
                "quote not in source verbatim (it matches only when white space is ignored: copy it exactly)",
            )
        return None, "quote not in source"
    if len(found) > 1:
        return None, f"quote occurs {len(found)} times (offsets {found}): give `offset`"
    return found[0], None


def _occurrences(quote: str, text: str) -> list[int]:
    found, start = [], 0
    while (i := text.find(quote, start)) != -1:
        found.append(i)
        start = i + 1
    return found


def load_sources(sources_doc: Any, texts: Mapping[str, str], problems: list[Problem]) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    fname = SOURCES_FILE.name
    for raw in sources_doc.get("sources", []):
        try:
            src = Source.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                problems.append(Problem(fname, str(raw.get("id", "?")), loc, err["msg"]))
            continue
        text = texts.get(src.id)
        if text is None:
            problems.append(Problem(fname, src.id, "id", f"no text file sources/{src.id}.txt"))
            continue
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if digest != src.sha256:
            problems.append(Problem(fname, src.id, "sha256", f"text has sha256 {digest}: the source changed"))
        sections, last = [], -1
        for sec in src.sections:
            at = _occurrences(sec.anchor, text)
            if len(at) != 1:
                problems.append(
                    Problem(fname, src.id, f"sections.{sec.number}", f"anchor found {len(at)} times")
                )
                continue
            if at[0] <= last:
                problems.append(Problem(fname, src.id, f"sections.{sec.number}", "anchor out of order"))
            last = at[0]
            sections.append(Section.model_validate({**sec.model_dump(), "offset": at[0]}))
        sources[src.id] = src.model_copy(update={"sections": tuple(sections)})
    return sources


def _check_claim(
    claim: CuratedClaim, source: Source, text: str, vocab: Vocabulary, fname: str, problems: list[Problem]
) -> Claim | None:
    def bad(field: str, reason: str) -> None:
        problems.append(Problem(fname, claim.id, field, reason))

    offset, why = _locate(claim.quote, text, claim.offset)
    if why is not None:
        bad("quote", why)
    section = source.section_at(offset).number if offset is not None else "?"
    prefix = f"{source.alias}-{section}-"
    if offset is not None and not claim.id.startswith(prefix):
        bad(
            "id",
            f"the quote lies in section {section!r} of {source.alias}: the id must start with {prefix!r}",
        )
    for number in claim.references:
        if source.reference(number) is None:
            bad("references", f"[{number}] is not a reference of {source.alias}")
    for fld in ("interventions", "comparator"):
        for ident in getattr(claim, fld):
            if ident not in vocab.intervention_ids:
                bad(fld, f"unknown agent, procedure or class id {ident!r}")
    for fld in ("regimen", "comparator_regimen"):
        ident = getattr(claim, fld)
        if ident is not None and ident not in vocab.regimens:
            bad(fld, f"unknown regimen id {ident!r} (known: {', '.join(sorted(vocab.regimens))})")
    for ident in claim.subjects:
        if ident not in vocab.subject_ids:
            bad("subjects", f"unknown biomarker, site or modality id {ident!r}")
    if claim.endpoint not in vocab.endpoints:
        bad("endpoint", f"unknown endpoint {claim.endpoint!r} (known: {', '.join(sorted(vocab.endpoints))})")
    for fld in claim.number_sources:
        if fld not in QUOTED_NUMBER_FIELDS:
            bad("number_sources", f"{fld!r} is not a numeric field ({', '.join(QUOTED_NUMBER_FIELDS)})")
    for fld in QUOTED_NUMBER_FIELDS:
        number = getattr(claim, fld)
        if number is not None and fld not in claim.number_sources and not number_in_text(number, claim.quote):
            bad(fld, f"{number} is not printed in the quote (explain it in number_sources if it is derived)")
    if claim.value is None and (claim.value_max is not None or claim.comparator_value is not None):
        bad("value", "value_max or comparator_value given without value")
    if claim.value is not None and claim.unit is None:
        bad("unit", "a value needs a unit")
    if claim.value is not None and claim.value_max is not None and claim.value_max < claim.value:
        bad("value_max", f"{claim.value_max} is below value {claim.value}")
    if claim.value is None and claim.direction is None and claim.category is not Category.definition:
        bad("direction", "a qualitative claim (no value) needs a direction (definitions excepted)")
    if claim.n_total is not None and claim.n_emd is not None and claim.n_emd > claim.n_total:
        bad("n_emd", f"{claim.n_emd} exceeds n_total {claim.n_total}")
    if claim.flags and not claim.notes:
        bad("notes", f"flags {[f.value for f in claim.flags]} need a note saying what and why")
    if Flag.conflicting in claim.flags and not claim.conflicts_with and not claim.notes:
        bad("conflicts_with", "a conflicting claim names what it conflicts with")
    if offset is None:
        return None
    return Claim.model_validate(
        {
            **claim.model_dump(),
            "offset": offset,
            "source": source.id,
            "section": section,
            "grade": grade_claim(claim),
            "file": fname,
        }
    )


def load_claim_files(
    files: Iterable[tuple[str, Any]],
    sources: Mapping[str, Source],
    texts: Mapping[str, str],
    vocab: Vocabulary,
    problems: list[Problem],
) -> list[Claim]:
    claims: list[Claim] = []
    seen: dict[str, str] = {}
    for fname, doc in files:
        if not isinstance(doc, dict) or "claims" not in doc:
            problems.append(Problem(fname, "-", "-", "expected a mapping with `source` and `claims`"))
            continue
        source = sources.get(str(doc.get("source")))
        if source is None:
            problems.append(Problem(fname, "-", "source", f"unknown source {doc.get('source')!r}"))
            continue
        for i, raw in enumerate(doc["claims"] or []):
            ident = str(raw.get("id", f"#{i + 1}")) if isinstance(raw, dict) else f"#{i + 1}"
            if ident in seen:
                problems.append(Problem(fname, ident, "id", f"duplicate id (also in {seen[ident]})"))
            seen[ident] = fname
            try:
                curated = CuratedClaim.model_validate(raw)
            except ValidationError as exc:
                for err in exc.errors():
                    loc = ".".join(str(p) for p in err["loc"]) or "-"
                    problems.append(Problem(fname, ident, loc, err["msg"]))
                continue
            checked = _check_claim(curated, source, texts[source.id], vocab, fname, problems)
            if checked is not None:
                claims.append(checked)
    ids = {c.id for c in claims}
    for c in claims:
        for other in c.conflicts_with:
            if other not in ids and other not in seen:
                problems.append(Problem(c.file, c.id, "conflicts_with", f"unknown claim id {other!r}"))
    return claims


def check_coverage(sources: Mapping[str, Source], claims: Iterable[Claim], problems: list[Problem]) -> None:
    """Every numbered section of every source has at least one claim.

    A parent section that is only a heading (emdtx "1 蛋白酶抑制剂（PI）" is followed at once by 1.1) is covered by
    the claims of its subsections.
    """
    covered = {(c.source, c.section) for c in claims}
    for src in sources.values():
        for sec in src.sections:
            if not sec.numbered:
                continue
            if not any(
                s == src.id and (n == sec.number or n.startswith(sec.number + ".")) for s, n in covered
            ):
                problems.append(Problem(SOURCES_FILE.name, src.alias, f"section {sec.number}", "no claim"))


def load_curated(
    sources_file: Path = SOURCES_FILE,
    text_dir: Path = SOURCE_TEXT_DIR,
    vocab_dir: Path = VOCAB_DIR,
    claims_dir: Path = CLAIMS_DIR,
    *,
    require_coverage: bool = True,
) -> Curated:
    """Read every curated file and validate it; raise :class:`CurationError` listing all problems."""
    problems: list[Problem] = []
    texts = {p.stem: p.read_text(encoding="utf-8") for p in sorted(text_dir.glob("*.txt"))}
    sources = load_sources(read_yaml(sources_file), texts, problems)
    try:
        vocab = parse_vocabulary((p.name, read_yaml(p)) for p in sorted(vocab_dir.glob("*.yaml")))
    except VocabularyError as exc:
        problems += [Problem("vocab", "-", "-", p) for p in exc.problems]
        raise CurationError(problems) from None
    files = [(p.name, read_yaml(p)) for p in sorted(claims_dir.glob("*.yaml"))]
    claims = load_claim_files(files, sources, texts, vocab, problems)
    if require_coverage:
        check_coverage(sources, claims, problems)
    if problems:
        raise CurationError(problems)
    claims.sort(key=lambda c: (c.source, c.offset, c.id))
    return Curated(sources=sources, texts=texts, vocabulary=vocab, claims=tuple(claims))
