"""More article fields (issue #15 item 8): site name, lead image, section, keywords/tags, modification date; from
the page's head meta tags first, then its JSON-LD; derived in the clean stage from the stored raw page."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from cleaners import clean_html
from tests.raw_pages import STORY, clean_and_publish, page, published_rows, sources_file, write_raw

HEAD = """
<meta property="og:site_name" content="The Norvale Ledger">
<meta property="og:image" content="/img/bridge.jpg">
<meta property="article:section" content="Local politics">
<meta property="article:tag" content="Bridges"><meta property="article:tag" content="Norvale council">
<meta name="keywords" content="bridges, budget">
<meta property="article:modified_time" content="2026-11-20T15:30:00+01:00">
"""
LD = {
    "@context": "https://schema.org", "@type": "NewsArticle", "headline": "Bridge vote",
    "image": {"@type": "ImageObject", "url": "https://cdn.norvale.example/ld.jpg"},
    "articleSection": ["City", "Transport"], "keywords": "river, bridges,  River ",
    "dateModified": "2026-11-21T08:00:00Z", "publisher": {"@type": "Organization", "name": "Ledger LD"},
}  # fmt: skip
LD_ONLY = f'<script type="application/ld+json">{json.dumps(LD)}</script>'


def test_head_meta_fields_first() -> None:
    art = clean_html(page(STORY, "Bridge vote", HEAD + LD_ONLY), url="https://norvale.example/news/bridge")
    assert art.site_name == "The Norvale Ledger"
    assert art.image_url == "https://norvale.example/img/bridge.jpg"  # relative: resolved against the page
    assert art.section == "Local politics"
    assert art.keywords == ["Bridges", "Norvale council", "budget"]  # article:tag, then keywords; each once
    assert art.modified_at == "2026-11-20T15:30:00+01:00"


def test_json_ld_fields_when_the_head_has_none() -> None:
    art = clean_html(page(STORY, "Bridge vote", LD_ONLY), url="https://norvale.example/news/bridge")
    assert art.site_name == "Ledger LD"
    assert art.image_url == "https://cdn.norvale.example/ld.jpg"
    assert art.section == "City"
    assert art.keywords == ["river", "bridges"]  # a case-insensitive duplicate is dropped
    assert art.modified_at == "2026-11-21T08:00:00Z"


def test_bad_values_are_absent_not_errors() -> None:
    bad = (
        '<meta property="og:image" content="javascript:alert(1)"><meta property="article:tag" content="'
        + "x" * 500 + '"><script type="application/ld+json">{"@type": "NewsArticle", "keywords": 7, "image": []}'
        "</script>"
    )  # fmt: skip
    art = clean_html(page(STORY, "Bridge vote", bad), url="https://norvale.example/a")
    assert art.error is None
    assert (art.image_url, art.section, art.keywords, art.modified_at) == (None, None, [], None)


def test_the_clean_stage_publishes_the_fields(bucket, tmp_path, monkeypatch) -> None:
    day = date(2026, 11, 20)
    sources_file(tmp_path, monkeypatch, "  - name: ledger\n    feeds: [https://norvale.example/feed]\n")
    write_raw(bucket, tmp_path, "ledger", day, [
        ("https://norvale.example/a", page(STORY, "Bridge vote", HEAD), []),
        ("https://norvale.example/b", page([f"Other. {p}" for p in STORY], "Bare page"), []),
    ])  # fmt: skip
    clean_and_publish("ledger", day)
    rows = published_rows(bucket, "ledger")
    a, b = rows["https://norvale.example/a"], rows["https://norvale.example/b"]
    assert (a["site_name"], a["image_url"], a["section"]) == (
        "The Norvale Ledger",
        "https://norvale.example/img/bridge.jpg",
        "Local politics",
    )
    assert a["keywords"] == ["Bridges", "Norvale council", "budget"]
    assert a["modified_at"] == datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
    assert (b["site_name"], b["image_url"], b["section"], b["keywords"], b["modified_at"]) == (
        "norvale.example",
        None,
        None,
        [],
        None,
    )
