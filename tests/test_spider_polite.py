"""Politeness as configured: the per-source delay and concurrency, the contact in the user agent, and the
development HTTP cache that replays a crawl without touching the site."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import yaml

from spiders.crawl import run_crawl
from tests.spider_site import ALLOW_ALL, SpiderSite, html, page, sitemap

DAY = date(2025, 6, 2)
ARTICLES = [f"/a/story-{i}" for i in range(5)]
pytestmark = pytest.mark.timeout(120)


def _site(site: SpiderSite) -> None:
    at = datetime(DAY.year, DAY.month, DAY.day, 9, tzinfo=UTC)
    site.routes.clear()
    site.routes["/robots.txt"] = ALLOW_ALL
    for path in ARTICLES:
        site.routes[path] = html(page(path, at))
    site.routes["/sitemap.xml"] = sitemap([(site.base + p, at) for p in ARTICLES])


def _sources(tmp_path, site: SpiderSite, **extra) -> str:
    entry = {"name": "polite", "sitemaps": [f"{site.base}/sitemap.xml"], "allowed_domains": ["127.0.0.1"], **extra}
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": [entry]}))
    return str(path)


def test_source_delay_and_contact_are_applied(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWS_CONTACT", "mailto:crawl-desk@example.org")
    politeness = {"download_delay": 0.4, "concurrency": 1, "autothrottle": False, "randomize_download_delay": False}
    with SpiderSite(DAY) as site:
        _site(site)
        sources = _sources(tmp_path, site, politeness=politeness)
        summary = run_crawl("polite", DAY, DAY + timedelta(days=1), tmp_path / "out", sources, timeout=90)
        times = sorted(t for path in ARTICLES for t in site.requested(path))
    assert summary["stored"] == len(ARTICLES)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.35, f"requests closer than the 0.4 s delay: {gaps}"
    assert site.user_agents == {"news-ingest/0.1 (+mailto:crawl-desk@example.org)"}


def test_http_cache_replays_a_crawl_without_the_site(tmp_path):
    cache = {"NEWS_POLITE": False, "HTTPCACHE_ENABLED": True, "HTTPCACHE_DIR": str(tmp_path / "cache")}
    with SpiderSite(DAY) as site:
        _site(site)
        sources = _sources(tmp_path, site)
        first = run_crawl("polite", DAY, DAY + timedelta(days=1), tmp_path / "one", sources, cache, timeout=90)
        served = len(site.requests)
        again = run_crawl("polite", DAY, DAY + timedelta(days=1), tmp_path / "two", sources, cache, timeout=90)
        assert len(site.requests) == served, "the second crawl reached the site"
    assert first["stored"] == again["stored"] == len(ARTICLES)
