"""The synthetic site of bench/dag_scale.py serves what the benchmark counts on, and the cleaner finds its articles.

Small (2 publishers x 12 articles) and fast: the benchmark itself runs 8 x 250.
"""

from __future__ import annotations

import sys
import urllib.request
from datetime import UTC, date
from pathlib import Path

import pytest
import yaml
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from scale_site import ScaleSite  # noqa: E402

DAY = date(2026, 2, 10)
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(scope="module")
def site():
    with ScaleSite(DAY, sources=2, articles=12, older=3, seed=7) as running:
        yield running


def get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.headers["Content-Type"], resp.read()


def test_each_publisher_lists_its_day_and_older_articles_on_its_own_loopback_address(site):
    expected = site.expected()
    assert [p.host for p in site.publishers] == ["127.0.1.1", "127.0.1.2"]
    for pub in site.publishers:
        status, _, robots = get(pub.base_url + "/robots.txt")
        assert status == 200 and b"Allow: /" in robots and f"Sitemap: {pub.base_url}/sitemap.xml".encode() in robots
        root = etree.fromstring(get(pub.base_url + "/sitemap.xml")[2])
        listed = [loc.text for loc in root.iter(f"{SM}loc")]
        assert len(listed) == len(set(listed)) == 12 + 3
        assert set(expected[pub.name]) <= set(listed) and len(expected[pub.name]) == 12
        feed = etree.fromstring(get(pub.base_url + "/feed.xml")[2])
        assert {link.text for link in feed.iter("link")} - {pub.base_url + "/"} <= set(listed)
        for article in pub.articles:
            assert article.url.startswith(pub.base_url)
            assert (article.published.astimezone(UTC).date() == DAY) == (article.url in expected[pub.name])


def test_article_pages_are_realistic_and_the_cleaner_keeps_the_article_without_appeals(site):
    from cleaners import clean_html, is_appeal

    seen_paragraphs: set[str] = set()
    for pub in site.publishers:
        appeals = pub.appeals.lines()
        for article in pub.articles:
            status, content_type, body = get(article.url)
            assert status == 200 and content_type.startswith("text/html")
            assert 20_000 <= len(body) <= 62_000, f"{article.url}: {len(body)} bytes"
            assert 6 <= len(article.paragraphs) <= 15
            assert not seen_paragraphs & set(article.paragraphs), "a paragraph repeats across articles"
            seen_paragraphs |= set(article.paragraphs)
            html = body.decode()
            visible = [*pub.appeals.inline, *appeals[1:]]  # the inline appeal is split by <strong> and <a>
            assert all(line in html for line in visible), f"{article.url} lacks an appeal block"
        for article in pub.articles[:4]:
            cleaned = clean_html(pub.files[article.path][1], article.url)
            assert cleaned.error is None
            for paragraph in article.paragraphs:
                assert paragraph in cleaned.text, f"{article.url} lost {paragraph[:60]!r}"
            assert not [line for line in appeals if line in cleaned.text], f"appeal left in {article.url}"
            assert not [p for p in cleaned.paragraphs if is_appeal(p)]
            assert cleaned.published_at and cleaned.published_at.startswith(article.published.date().isoformat())


def test_the_same_arguments_give_the_same_pages():
    first = ScaleSite(DAY, sources=1, articles=5, older=0, seed=3)
    second = ScaleSite(DAY, sources=1, articles=5, older=0, seed=3)
    assert [(a.path, a.title, a.paragraphs) for a in first.publishers[0].articles] == [
        (a.path, a.title, a.paragraphs) for a in second.publishers[0].articles
    ]


def test_the_sources_file_switches_politeness_off(site, tmp_path):
    from newsconfig.sources import load_sources

    path = site.write_sources(tmp_path / "sources.yaml")
    sources = load_sources(path)
    assert [s.name for s in sources] == [p.name for p in site.publishers]
    for source in sources:
        settings = source.scrapy_settings()
        assert settings["DOWNLOAD_DELAY"] == 0 and settings["AUTOTHROTTLE_ENABLED"] is False
        assert settings["CONCURRENT_REQUESTS_PER_DOMAIN"] >= 8
    assert yaml.safe_load(path.read_text())["sources"][0]["allowed_domains"] == ["127.0.1.1"]
