"""PDF through WeasyPrint, from the same HTML as the HTML report (charts as JPEG: see :mod:`._charts`).

Chinese needs a CJK font known to fontconfig (Debian/Ubuntu ``fonts-noto-cjk``); the CSS font stack names Noto Sans
CJK SC first. WeasyPrint embeds a subset of each font used, so the PDF shows the same glyphs everywhere.

Speed (docs/performance.md): WeasyPrint's time goes into the cascade, table layout, line breaking and painting, in
proportion to the elements and text laid out. What is the same for every report is prepared once per process: the
report's stylesheet is parsed once (the HTML handed to WeasyPrint carries no ``<style>`` to parse again), the font
configuration is reused, and the user-agent stylesheet is cut down to the rules that can match the elements the
report's templates write (:data:`REPORT_TAGS`): WeasyPrint tests every element against each user-agent rule it cannot
index by tag (``[dir=rtl] …``, form fields), which cost about a sixth of the report; and it computes a style for
every element a bare pseudo-element rule (``::marker``, ``::footnote-call`` …) matches, which is every element, so
the list marker is narrowed to list items and the footnote and note pseudo-elements dropped (about a tenth). A test
renders the report with the full and the cut user-agent stylesheet and compares the pages. The charts are handed
to WeasyPrint as bytes through a URL fetcher that serves them alone, not as base64 data URIs (~360 KB of HTML to
encode, parse and decode again). Writing the PDF, pydyf compresses at zlib level 6 instead of 9 and WeasyPrint's copy
of each whole font file (~20 MB a CJK face) is made once per process (:func:`_tune_pdf_writer`; the same pages). The
report's HTML is parsed by the standard library's tokenizer into the tree WeasyPrint's pure-Python HTML5 parser
would build (:func:`parse_report_html`, ~7 instead of ~40 ms).
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import Any, Final

from mmemd.report._html import render_html, report_css
from mmemd.report._i18n import Lang
from mmemd.report._model import Report

#: Every element the report's templates write (a test checks the rendered reports against it).
REPORT_TAGS: Final = frozenset(
    [
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "header",
        "main",
        "section",
        "footer",
        "h1",
        "h2",
        "h3",
        "p",
        "ul",
        "li",
        "span",
        "a",
        "strong",
        "br",
        "table",
        "caption",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "div",
        "figure",
        "figcaption",
        "img",
    ]
)
#: Pseudo-elements of footnotes and notes (``float: footnote``, ``position: note()``), which the report's stylesheet
#: never makes. Their user-agent rules name no element, so they match every element, and WeasyPrint computes a style
#: for every element and pseudo-element a rule matched: five unused styles per element, about a tenth of the report.
_UNUSED_PSEUDO_ELEMENTS: Final = frozenset(
    ["footnote-call", "footnote-marker", "note-call", "note-marker", "note-callback"]
)
_LOCAL = threading.local()


def render_pdf(report: Report, lang: Lang, *, full_user_agent_css: bool = False) -> bytes:
    """The report as PDF bytes; ``full_user_agent_css`` uses WeasyPrint's whole user-agent stylesheet (tests)."""
    import weasyprint

    charts: dict[str, tuple[bytes, str]] = {}
    html = render_html(report, lang, chart_format="jpeg", inline_css=False, chart_store=charts)
    # WeasyPrint logs every CSS property it does not support at WARNING; the report's CSS is fixed and known.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    cls = weasyprint.HTML if full_user_agent_css else _report_html_class()
    _tune_pdf_writer()
    page = cls(string=html, base_url=None, url_fetcher=_chart_fetcher(charts))
    doc = page.render(stylesheets=[_stylesheet()], font_config=_font_config())
    out = doc.write_pdf()
    assert isinstance(out, bytes)
    return out


def _chart_fetcher(charts: dict[str, tuple[bytes, str]]) -> Any:
    """A WeasyPrint URL fetcher that serves this report's charts and nothing else (the report names no other URL)."""
    return _chart_fetcher_class()(charts)


@lru_cache(maxsize=1)
def _chart_fetcher_class() -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ChartFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint is untyped
        def __init__(self, charts: dict[str, tuple[bytes, str]]) -> None:
            super().__init__()
            self._charts = charts

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url not in self._charts:
                raise ValueError(f"not a chart of this report: {url[:60]}")
            data, mime = self._charts[url]
            return URLFetcherResponse(url, body=data, headers={"Content-Type": mime})

    return ChartFetcher


@lru_cache(maxsize=1)
def _stylesheet() -> Any:
    """report.css parsed once. Handed to WeasyPrint as a user stylesheet: with no author stylesheet in the document
    and no ``!important`` in the user-agent one, that cascades exactly as the ``<style>`` of the HTML report."""
    import weasyprint

    return weasyprint.CSS(string=report_css())


def _font_config() -> Any:
    """One font configuration per thread (fontconfig set up once; WeasyPrint does not share it across threads)."""
    fc = getattr(_LOCAL, "font_config", None)
    if fc is None:
        from weasyprint.text.fonts import FontConfiguration

        fc = _LOCAL.font_config = FontConfiguration()
    return fc


#: zlib level of the PDF's streams. pydyf compresses every stream at level 9; level 6 (zlib's default) writes the
#: report's page, font and object streams ~25 ms faster, ~0.3 % larger (the same pages: only the Flate data differ).
PDF_ZLIB_LEVEL: Final = 6
#: Whole font files WeasyPrint has copied, by (address, length, first and last bytes) of the font file in memory.
_FONT_FILES: dict[tuple[int, int, bytes, bytes], bytes] = {}
_FONT_FILES_MAX: Final = 8


@lru_cache(maxsize=1)
def _tune_pdf_writer() -> bool:
    """Two process-wide changes to how WeasyPrint writes a PDF, neither changing a page (tests compare the pixels):

    - its PDF library, pydyf, compresses streams at :data:`PDF_ZLIB_LEVEL` instead of 9;
    - WeasyPrint copies each font's whole file into a Python ``bytes`` for every PDF, before subsetting it (the subset
      replaces the copy): ~20 MB for each CJK face (Noto Sans CJK is a collection), ~15 ms each. The copy is kept
      per font file (a few files a process) and handed out again; the file is memory-mapped and never changes while
      fontconfig has it open, and the key includes its first and last bytes besides its address and length.

    False (nothing changed) when WeasyPrint or pydyf no longer have the names patched."""
    import zlib

    import pydyf  # type: ignore[import-untyped]  # a WeasyPrint dependency, untyped
    import weasyprint.pdf.fonts as pdf_fonts
    from weasyprint.text.ffi import ffi, harfbuzz

    if getattr(pydyf, "zlib", None) is not zlib or not callable(
        getattr(pdf_fonts, "get_hb_object_data", None)
    ):
        return False

    class _Zlib:
        """zlib for pydyf, compressing at :data:`PDF_ZLIB_LEVEL`."""

        def __getattr__(self, name: str) -> Any:
            return getattr(zlib, name)

        @staticmethod
        def compressobj(level: int = -1, *args: Any, **kwargs: Any) -> Any:
            return zlib.compressobj(PDF_ZLIB_LEVEL, *args, **kwargs)

    whole_file = pdf_fonts.get_hb_object_data
    lock = threading.Lock()

    def font_file(hb_object: Any, ot_color: Any = None, glyph: Any = None) -> Any:
        if ot_color is not None or glyph is not None:
            return whole_file(hb_object, ot_color, glyph)
        blob = harfbuzz.hb_face_reference_blob(hb_object)
        try:
            length = ffi.new("unsigned int *")
            data = harfbuzz.hb_blob_get_data(blob, length)
            n = length[0]
            if n == 0:
                return whole_file(hb_object)
            edge = min(n, 4096)
            key = (
                int(ffi.cast("uintptr_t", data)),
                n,
                ffi.unpack(data, edge),
                ffi.unpack(data + (n - edge), edge),
            )
        finally:
            harfbuzz.hb_blob_destroy(blob)
        with lock:
            out = _FONT_FILES.get(key)
        if out is None:
            out = whole_file(hb_object)
            with lock:
                if len(_FONT_FILES) >= _FONT_FILES_MAX:
                    _FONT_FILES.clear()
                _FONT_FILES[key] = out
        return out

    font_file.__wrapped__ = whole_file  # type: ignore[attr-defined]  # for the tests: WeasyPrint's own function
    pydyf.zlib = _Zlib()
    pdf_fonts.get_hb_object_data = font_file
    return True


@lru_cache(maxsize=1)
def _report_html_class() -> Any:
    import weasyprint

    sheet = weasyprint.CSS(string=user_agent_css(), counter_style=weasyprint.html.UA_COUNTER_STYLE)

    class ReportHTML(weasyprint.HTML):  # type: ignore[misc]  # WeasyPrint is untyped
        def __init__(self, string: str, base_url: None = None, url_fetcher: Any = None) -> None:
            root = parse_report_html(string)
            if root is None:  # not the report's own HTML: WeasyPrint's parser
                super().__init__(string=string, base_url=base_url, url_fetcher=url_fetcher)
                return
            import cssselect2  # type: ignore[import-untyped]  # a WeasyPrint dependency, untyped

            self.base_url = weasyprint._find_base_url(root, base_url)
            self.url_fetcher = url_fetcher if url_fetcher is not None else weasyprint.urls.URLFetcher()
            self.media_type = "print"
            self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
            self.etree_element = self.wrapper_element.etree_element

        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return [sheet]

    return ReportHTML


_VOID: Final = frozenset(
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"]
)
#: Start tags that close an open ``<p>`` in HTML5 (the parser would move them out of it): never inside one here.
_CLOSES_P: Final = frozenset(
    ["div", "p", "ul", "ol", "table", "h1", "h2", "h3", "h4", "section", "header", "main", "footer", "figure"]
)
_TABLE_PARTS: Final = frozenset(["table", "thead", "tbody", "tr"])


class _UnexpectedHTML(Exception):
    pass


def parse_report_html(html: str) -> Any:
    """The report's HTML as the ElementTree WeasyPrint's parser (tinyhtml5, HTML5 tree construction in pure Python,
    ~40 ms a report) builds from it, built by the standard library's tokenizer (~7 ms). The report's templates write
    every element open and closed (``<html>``, ``<head>``, ``<body>``, ``<tbody>`` explicit, no block in a
    paragraph, no text between table rows), so the HTML5 tree is the tags as written, apart from where whitespace
    outside ``<body>`` goes (dropped before ``<head>``, into ``<body>`` after it). None, for WeasyPrint's parser, on
    anything else (a test compares both trees on every example)."""
    from html.parser import HTMLParser
    from xml.etree import ElementTree

    class Builder(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.root: Any = None
            self.stack: list[Any] = []
            self.last: Any = None  # the element whose tail the next text extends, if any

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            open_tags = [e.tag for e in self.stack]
            if (tag in _CLOSES_P and "p" in open_tags) or (tag == "li" and open_tags[-1:] == ["li"]):
                raise _UnexpectedHTML(tag)
            if self.root is not None and not self.stack:
                raise _UnexpectedHTML(tag)
            element = ElementTree.Element(tag, {k: "" if v is None else v for k, v in attrs})
            if self.stack:
                self.stack[-1].append(element)
            elif tag == "html":
                self.root = element
            else:
                raise _UnexpectedHTML(tag)
            if tag in _VOID:
                self.last = element
            else:
                self.stack.append(element)
                self.last = None

        def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag not in _VOID:
                raise _UnexpectedHTML(tag)
            self.handle_starttag(tag, attrs)

        def handle_endtag(self, tag: str) -> None:
            if not self.stack or self.stack[-1].tag != tag:
                raise _UnexpectedHTML(tag)
            self.last = self.stack.pop()

        def handle_data(self, data: str) -> None:
            if not self.stack:
                if self.root is None and not data.strip():
                    return
                self._after_body(data)
                return
            top = self.stack[-1]
            if top.tag in _TABLE_PARTS or top.tag == "html":
                if data.strip():
                    raise _UnexpectedHTML(data[:20])
                if top.tag == "html":
                    if len(top) == 0:
                        return  # before <head>: dropped
                    if top[-1].tag == "body":
                        self._after_body(data)
                        return
            if self.last is not None:
                self.last.tail = (self.last.tail or "") + data
            else:
                top.text = (top.text or "") + data

        def _after_body(self, data: str) -> None:
            # HTML5 puts text after </body> (and after </html>) at the end of the body.
            if self.root is None or len(self.root) == 0 or self.root[-1].tag != "body" or data.strip():
                raise _UnexpectedHTML(data[:20])
            body = self.root[-1]
            if len(body):
                body[-1].tail = (body[-1].tail or "") + data
            else:
                body.text = (body.text or "") + data

        def handle_comment(self, data: str) -> None:
            raise _UnexpectedHTML("comment")

        def handle_pi(self, data: str) -> None:
            raise _UnexpectedHTML("processing instruction")

        def unknown_decl(self, data: str) -> None:
            raise _UnexpectedHTML("declaration")

    builder = Builder()
    try:
        builder.feed(html)
        builder.close()
    except _UnexpectedHTML:
        return None
    if builder.stack or builder.root is None or [e.tag for e in builder.root] != ["head", "body"]:
        return None
    return builder.root


@lru_cache(maxsize=1)
def user_agent_css() -> str:
    """WeasyPrint's HTML user-agent stylesheet without the selectors that name an element the report never writes.

    A selector is kept unless one of its type selectors is outside :data:`REPORT_TAGS`; a ``:is()``/``:where()`` is
    kept when any of its alternatives is; one naming a footnote or note pseudo-element (:data:`_UNUSED_PSEUDO_ELEMENTS`)
    is dropped, and ``::marker`` is kept for list items only. At-rules (``@page``, ``@counter-style``) are kept whole.
    """
    import tinycss2  # type: ignore[import-untyped]  # a WeasyPrint dependency, untyped
    import weasyprint

    out: list[str] = []
    for rule in tinycss2.parse_stylesheet(weasyprint.html.UA, skip_comments=True, skip_whitespace=True):
        if rule.type != "qualified-rule":
            out.append(rule.serialize())
            continue
        kept = [
            _narrowed(tinycss2.serialize(sel).strip())
            for sel in _split_commas(rule.prelude)
            if _may_match(sel)
        ]
        if kept:
            selectors = ", ".join(kept)
            out.append(f"{selectors} {{{tinycss2.serialize(rule.content)}}}")
    return "\n".join(out)


def _narrowed(selector: str) -> str:
    """The selector as text; a bare ``::marker`` becomes ``li::marker``: only a list item has a marker, and WeasyPrint
    gives every element a bare pseudo-element selector matches a computed style of its own (each of the ~1,100
    elements a marker style it never uses). Within the user-agent origin the higher specificity changes nothing:
    it is the only ``::marker`` rule there."""
    return "li" + selector if selector == "::marker" else selector


def _split_commas(tokens: list[Any]) -> list[list[Any]]:
    parts: list[list[Any]] = [[]]
    for tok in tokens:
        if tok.type == "literal" and tok.value == ",":
            parts.append([])
        else:
            parts[-1].append(tok)
    return [p for p in parts if any(t.type != "whitespace" for t in p)]


def _may_match(tokens: list[Any]) -> bool:
    previous = None
    for tok in tokens:
        pseudo = previous is not None and previous.type == "literal" and previous.value == ":"
        if tok.type == "ident" and not pseudo and tok.lower_value not in REPORT_TAGS:
            return False
        if tok.type == "ident" and pseudo and tok.lower_value in _UNUSED_PSEUDO_ELEMENTS:
            return False
        if (
            tok.type == "function"
            and tok.lower_name in ("is", "where", "matches")
            and not any(_may_match(alt) for alt in _split_commas(tok.arguments))
        ):
            return False
        previous = tok
    return True


__all__ = ["REPORT_TAGS", "render_pdf", "user_agent_css"]
