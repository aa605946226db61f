"""Markdown output escapes free text: a record whose id, lesion id and site carry link, image, autolink or HTML
syntax renders as that text, never as an image, a link or a tag (checked by rendering with markdown-it, CommonMark
plus GitHub's tables and strikethrough; GitHub's bare-URL autolinks are checked on the Markdown text itself)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from _report_helpers import GENERATED, example
from markdown_it import MarkdownIt

from mmemd.report import render_report
from mmemd.report._markdown import esc

HOSTILE = "![x](https://evil.example/p.png)<img src=x>[y](http://evil.example)www.evil.example"


def _html(md: str) -> str:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(md)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_record_text_cannot_inject_images_or_links(kb: Any, lang: str) -> None:
    record = copy.deepcopy(example("emd-liver-rrmm-pr"))
    record["id"] = "p1" + HOSTILE
    record["lesions"][0]["site"] = "site" + HOSTILE
    out = render_report(record, lang=lang, fmt="md", kb=kb, generated=GENERATED)
    assert isinstance(out, str)
    html = _html(out)
    assert "<img" not in html
    assert "evil.example" in html  # the text is still there, as text
    assert "<a " not in html
    # GitHub autolinks bare URLs and www. names: none may survive unescaped in the Markdown text.
    assert "://evil" not in out and "www.evil" not in out


def test_escaped_text_reads_the_same() -> None:
    text = "del(17p) 35% [emdtx-7-05] a_b *c* <tag> 1 > 0 #3 ~x~"
    rendered = _html(esc(text))
    assert rendered.strip() == "<p>del(17p) 35% [emdtx-7-05] a_b *c* &lt;tag&gt; 1 &gt; 0 #3 ~x~</p>"
