"""Free access and truncation (issue #15 item 1) on pages of our own: a paywalled page whose JSON-LD says it is not
free and holds the whole articleBody while the page shows a teaser (and one whose teaser is so short that the
extractor reads the articleBody: whole, not truncated), Google's hasPart markup, a metered prompt,
a teaser ending in an ellipsis, a free page, and a newsletter box (not a paywall)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from cleaners import clean_html
from cleaners.access import judge
from tests.raw_pages import clean_and_publish, page, published_rows, sources_file, write_raw

FULL = [
    "The Norvale city council voted seven to two on Tuesday to build a second bridge across the Alder River.",
    "The new crossing is expected to cost about 48 million dollars and to open to traffic in 2027.",
    "Council member Ruth Abara said the vote would relieve traffic on the Main Street bridge every morning.",
    "Engineers will begin soil surveys in June, and the city expects to choose a construction firm soon.",
    "Opponents of the plan argued that the money should go to repairing the roads the town already has.",
    "The mayor promised a public meeting on the design before any contract is signed later this year.",
    "Residents of the east bank, who now drive twenty minutes to reach the hospital, welcomed the decision.",
    "The state has agreed to pay a third of the cost, the council's finance officer told the meeting.",
]


def ld(**fields) -> str:
    doc = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Bridge vote", **fields}
    return f'<script type="application/ld+json">{json.dumps(doc)}</script>'


PAYWALL_BOX = (
    '<div class="paywall"><p>This article is for subscribers.</p>'
    '<a href="https://buy.tinypass.com/checkout">Subscribe</a></div>'
)
PAGES = {
    # (paragraphs shown, head, extra body html) -> (free_access, truncated)
    "paywalled": (FULL[:3], ld(isAccessibleForFree=False, articleBody=" ".join(FULL)), PAYWALL_BOX, (False, True)),
    # a teaser so short that the extractor takes the JSON-LD articleBody: the stored text is whole
    "body_in_ld": (FULL[:2], ld(isAccessibleForFree=False, articleBody=" ".join(FULL)), PAYWALL_BOX, (False, False)),
    "free": (FULL, ld(isAccessibleForFree=True, articleBody=" ".join(FULL), wordCount=140), "", (True, False)),
    "has_part": (FULL, ld(hasPart={"@type": "WebPageElement", "isAccessibleForFree": "False",
                                   "cssSelector": ".locked"}), "", (False, False)),  # fmt: skip
    "metered": ([*FULL, "You have read 3 of 5 free articles this month."], "", "", (False, False)),
    "word_count": (FULL[:3], ld(wordCount="1,200"), "", (False, True)),
    "teaser": ([FULL[0], FULL[1] + " Read the full story…"], "", "", (False, True)),
    "newsletter": (FULL, "", '<div class="newsletter-signup"><p>Get our newsletter.</p><form action="/newsletter">'
                   '<input type="email"><button>Sign up</button></form></div>', (True, False)),
}  # fmt: skip


def html(name: str) -> bytes:
    shown, head, box, _ = PAGES[name]
    return page(shown, "Bridge vote", head).replace(b"</article>", box.encode() + b"</article>")


@pytest.mark.parametrize("name", sorted(PAGES))
def test_access_of_each_page(name: str) -> None:
    art = clean_html(html(name), url=f"https://norvale.example/{name}")
    assert art.error is None, art.error
    assert (art.free_access, art.truncated) == PAGES[name][3], art.access_signals


def test_the_signals_say_why() -> None:
    art = clean_html(html("paywalled"), url="https://norvale.example/p")
    assert "ld:not-free" in art.access_signals and "short-of:articleBody" in art.access_signals
    assert any(s.startswith("rule:") and "paywall" in s for s in art.access_signals)
    assert judge("word " * 100, [], None, 40, None).truncated is False  # a declared count too small to compare


def test_the_clean_stage_publishes_and_counts_access(bucket, tmp_path, monkeypatch) -> None:
    day = date(2026, 11, 20)
    sources_file(tmp_path, monkeypatch, "  - name: ledger\n    feeds: [https://norvale.example/feed]\n")
    write_raw(bucket, tmp_path, "ledger", day, [(f"https://norvale.example/{n}", html(n), []) for n in PAGES])
    stats = clean_and_publish("ledger", day)
    rows = published_rows(bucket, "ledger")
    assert {n: (rows[f"https://norvale.example/{n}"]["free_access"], rows[f"https://norvale.example/{n}"]["truncated"])
            for n in PAGES} == {n: p[3] for n, p in PAGES.items()}  # fmt: skip
    # (the pages are variants of one text: their near-duplicates are counted too, see tests/test_near_duplicates.py)
    assert {k: stats["flags"][k] for k in ("not_free", "truncated")} == {"not_free": 6, "truncated": 3}
