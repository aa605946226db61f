"""GitHub-flavoured Markdown serializer of the report document."""

from __future__ import annotations

import re

from mmemd.report._document import Block, Bullets, Document, Facts, Figure, Heading, Para, Table
from mmemd.report._i18n import label

#: Markdown syntax characters (CommonMark lets any ASCII punctuation be backslash-escaped). Brackets, parentheses
#: after them, ``!`` and ``<`` are what a link, an image or raw HTML is made of: free text from a record (its id, a
#: lesion id, a site) must never become a remote image or a link in the rendered report.
_SPECIAL = re.compile(r"[\\`*_\[\]!<>#~]")
#: GitHub's extended autolinks (``https://…``, ``www.…``) need no brackets: break them with an escaped character.
_AUTOLINK = re.compile(r"(?i)(?<=[a-z])://|\bwww\.")


def esc(text: str) -> str:
    """Escape what Markdown would read as emphasis, code, a link, an image, an autolink or an HTML tag."""
    text = _SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    return _AUTOLINK.sub(lambda m: ":\\/\\/" if m.group(0) == "://" else m.group(0)[:-1] + "\\.", text)


def _cell(text: str) -> str:
    return esc(text).replace("|", "\\|").replace("\n", " ")


def _table(t: Table) -> list[str]:
    out = [f"**{esc(t.caption)}**", ""] if t.caption else []
    out.append("| " + " | ".join(_cell(h) for h in t.header) + " |")
    out.append("|" + "|".join("---" for _ in t.header) + "|")
    out.extend("| " + " | ".join(_cell(c) for c in r) + " |" for r in t.rows)
    return [*out, ""]


def _block(b: Block, lang: str) -> list[str]:
    if isinstance(b, Heading):
        return ["#" * b.level + " " + esc(b.text), ""]
    if isinstance(b, Para):
        if b.style == "warn":
            return [f"> **{esc(b.text)}**", ""]
        if b.style in ("note", "small"):
            return [f"_{esc(b.text)}_" if not b.text.startswith("*") else esc(b.text), ""]
        return [esc(b.text), ""]
    if isinstance(b, Bullets):
        mark = "- ⚠ " if b.style == "warn" else "- "
        return [*(mark + esc(x) for x in b.items), ""]
    if isinstance(b, Facts):
        return [*(f"- **{esc(k)}:** {esc(v)}" for k, v in b.rows), ""]
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Figure):
        out = [f"### {esc(b.title)}", ""]
        if b.caption:
            out.extend([f"_{esc(b.caption)}_", ""])
        out.extend(f"_{esc(x)}_\n" for x in b.omitted)
        if b.data is not None:
            out.extend([f"_{esc(label('zh' if lang == 'zh' else 'en', 'chart_unavailable'))}_", ""])
            out.extend(_table(b.data))
        return out
    raise TypeError(type(b))  # pragma: no cover - Block is closed


def render_markdown(doc: Document) -> str:
    lines = [f"# {esc(doc.title)}", "", f"_{esc(doc.subtitle)}_", ""]
    lines.extend(f"- **{esc(k)}:** {esc(v)}" for k, v in doc.meta)
    lines.append("")
    for n, sec in enumerate(doc.sections, 1):
        lines.extend([f"## {n}. {esc(sec.title)}", ""])
        for b in sec.blocks:
            lines.extend(_block(b, doc.lang))
    lines.extend(["---", ""])
    lines.extend(f"{esc(x)}  " for x in doc.footer)
    return "\n".join(lines).rstrip() + "\n"
