"""The web page cites the evidence of a summary by number and lists each number's publication; the page's vocabulary
carries those publications (as the report words them), the reviews by title and the rule citations by author and
year, so that no knowledge-base key is shown in their place (the page itself: tests/web/test_web_browser.py)."""

from __future__ import annotations

import re
from typing import Any

CLAIM_ID = re.compile(r"emd(?:tx|rev)-")


def test_vocabulary_names_the_publication_of_every_claim(web_client: Any, kb: Any) -> None:
    v = web_client.get("/ui/vocabulary").json()
    pubs = v["publications"]
    assert set(pubs) == {c.id for c in kb.claims()}
    for words in pubs.values():
        assert re.match(r"Review [12]\b", words["en"]) and re.match(r"综述[一二]", words["zh"])
        assert not CLAIM_ID.search(words["en"] + words["zh"])
    assert v["reviews"]["emdtx"]["zh"].startswith("综述一：《") and v["reviews"]["emdrev"]["en"].startswith(
        "Review 2: "
    )
    assert v["references"]["GREIPP05"] == {"en": "Greipp 2005", "zh": "Greipp等，2005"}
