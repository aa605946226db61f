"""Plain-text serializer of the report document (UTF-8; widths count East Asian wide characters as two columns)."""

from __future__ import annotations

import unicodedata

from mmemd.report._document import Block, Bullets, Document, Facts, Figure, Heading, Para, Table
from mmemd.report._i18n import label

#: Tables wider than this are printed as one record per row.
MAX_WIDTH = 110


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, w: int) -> str:
    return text + " " * (w - width(text))


def _underline(text: str, ch: str) -> str:
    return f"{text}\n{ch * width(text)}"


def _table(t: Table, indent: str = "  ") -> list[str]:
    out: list[str] = []
    if t.caption:
        out.append(f"{indent}{t.caption}")
    widths = [max(width(h), *(width(r[i]) for r in t.rows)) for i, h in enumerate(t.header)]
    if not t.wide_cols and sum(widths) + 2 * len(widths) + len(indent) <= MAX_WIDTH:
        out.append(indent + "  ".join(_pad(h, w) for h, w in zip(t.header, widths, strict=True)).rstrip())
        out.append(indent + "  ".join("-" * w for w in widths))
        out.extend(
            indent + "  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip() for r in t.rows
        )
        return out
    # One record per row: the short fields on one line, each long field on its own line.
    for r in t.rows:
        short = [
            f"{h} {c}" if i else c
            for i, (h, c) in enumerate(zip(t.header, r, strict=True))
            if i not in t.wide_cols
        ]
        out.append(f"{indent}- " + " · ".join(short))
        out.extend(f"{indent}  {t.header[i]}: {r[i]}" for i in t.wide_cols)
    return out


def _block(b: Block, lang: str) -> list[str]:
    if isinstance(b, Heading):
        return ["", b.text if b.level > 3 else _underline(b.text, "·" if b.level >= 3 else "-")]
    if isinstance(b, Para):
        prefix = {"warn": "! "}.get(b.style, "  ")
        return [prefix + b.text]
    if isinstance(b, Bullets):
        mark = "! " if b.style == "warn" else "- "
        return [f"  {mark}{x}" for x in b.items]
    if isinstance(b, Facts):
        w = max(width(k) for k, _ in b.rows)
        return [f"  {_pad(k, w)}  {v}" for k, v in b.rows]
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Figure):
        out = ["", _underline(b.title, "·")]
        if b.caption:
            out.append(f"  {b.caption}")
        out.extend(f"  {x}" for x in b.omitted)
        if b.data is not None:
            out.append(f"  ({label('zh' if lang == 'zh' else 'en', 'chart_unavailable')})")
            out.extend(_table(b.data))
        return out
    raise TypeError(type(b))  # pragma: no cover - Block is closed


def render_text(doc: Document) -> str:
    lines = [_underline(doc.title, "="), doc.subtitle, ""]
    w = max(width(k) for k, _ in doc.meta)
    lines.extend(f"{_pad(k, w)}  {v}" for k, v in doc.meta)
    for n, sec in enumerate(doc.sections, 1):
        lines.extend(["", "", _underline(f"{n}. {sec.title}", "=" if sec.id == "summary" else "-")])
        for b in sec.blocks:
            lines.extend(_block(b, doc.lang))
    lines.extend(["", "-" * 40])
    lines.extend(doc.footer)
    return "\n".join(line.rstrip() for line in lines) + "\n"
