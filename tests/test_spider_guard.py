"""The address guard against a listening internal service: refused requests never reach it.

An "internal" server listens on 127.0.0.9 (standing in for a private or metadata address); the source's
own host is 127.0.0.1, the only host it names (named hosts are trusted even when private). A redirect to the
internal server and a sitemap link to it are refused and counted with their reason, and the internal server
sees no request at all — not even for robots.txt.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta

import pytest
import yaml

from spiders.crawl import run_crawl
from tests.spider_site import ALLOW_ALL, Resp, SpiderSite, html, page, sitemap

DAY = date(2025, 6, 2)
FAST = {"NEWS_POLITE": False, "DOWNLOAD_TIMEOUT": 10, "RETRY_TIMES": 0}  # a budget: nothing here is slow
pytestmark = pytest.mark.timeout(120)


def test_internal_service_is_never_contacted(tmp_path):
    at = datetime(DAY.year, DAY.month, DAY.day, 9, tzinfo=UTC)
    with SpiderSite(DAY) as site, SpiderSite(DAY, host="127.0.0.9") as internal:
        internal.routes.clear()
        internal.routes["/latest/meta-data/"] = html(page("Secret", at))
        site.routes.clear()
        site.routes["/robots.txt"] = ALLOW_ALL
        site.routes["/a/ok"] = html(page("Fine", at))
        site.routes["/a/hop"] = Resp(302, headers={"Location": f"{internal.base}/latest/meta-data/"})
        links = [f"{site.base}/a/ok", f"{site.base}/a/hop", f"{internal.base}/latest/meta-data/"]
        site.routes["/sitemap.xml"] = sitemap([(u, at) for u in links])
        entry = {"name": "guarded", "sitemaps": [f"{site.base}/sitemap.xml"], "allowed_domains": ["127.0.0.1"]}
        sources = tmp_path / "sources.yaml"
        sources.write_text(yaml.safe_dump({"sources": [entry]}))
        summary = run_crawl("guarded", DAY, DAY + timedelta(days=1), tmp_path / "out", str(sources), FAST, 90)
        with gzip.open(tmp_path / "out" / "index.jsonl.gz", "rt") as fh:
            index = {e["url"]: e for e in map(json.loads, fh)}

        assert internal.requests == [], "the internal service was contacted"
        assert site.requested("/a/hop"), "the redirecting page itself was fetched"
    assert index[f"{site.base}/a/ok"]["warc_file"] and summary["stored"] == 1
    assert index[f"{site.base}/a/hop"]["reason"] == "blocked_address"
    assert index[links[2]]["reason"] == "offsite"  # refused at discovery, before any request
    assert summary["rejected"] == {"blocked_address": 1, "offsite": 1}
    assert summary["refused"] == {"blocked_address": 1}  # the redirect hop, refused by the middleware


def test_a_gzip_bomb_sitemap_is_cut_at_the_shipped_size_limit(tmp_path):
    """A 64 KiB .xml.gz that inflates to 64 MiB, served over loopback, crawled with the shipped limits: the
    sitemap is cut at DOWNLOAD_MAXSIZE (10 MiB) and counted as truncated; the entry before the cut is fetched,
    the one after it is never known."""
    at = datetime(DAY.year, DAY.month, DAY.day, 9, tzinfo=UTC)
    with SpiderSite(DAY) as site:
        site.routes.clear()
        site.routes["/robots.txt"] = ALLOW_ALL
        for name in ("early", "late"):
            site.routes[f"/a/{name}"] = html(page(name.title(), at))

        def url(name: str) -> bytes:
            return f"<url><loc>{site.base}/a/{name}</loc><lastmod>{at.isoformat()}</lastmod></url>".encode()

        xml = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + url("early")
               + b" " * (64 << 20) + url("late") + b"</urlset>")  # fmt: skip
        bomb = gzip.compress(xml, 9)
        assert len(bomb) < 128 << 10
        site.routes["/sitemap.xml.gz"] = Resp(body=bomb, headers={"Content-Type": "application/x-gzip"})
        entry = {"name": "bomb", "sitemaps": [f"{site.base}/sitemap.xml.gz"], "allowed_domains": ["127.0.0.1"]}
        sources = tmp_path / "sources.yaml"
        sources.write_text(yaml.safe_dump({"sources": [entry]}))
        summary = run_crawl("bomb", DAY, DAY + timedelta(days=1), tmp_path / "out", str(sources), FAST, 90)
        with gzip.open(tmp_path / "out" / "index.jsonl.gz", "rt") as fh:
            index = {e["url"]: e for e in map(json.loads, fh)}
        assert not site.requested("/a/late")
    assert summary["discovery_errors"].get("truncated") == 1, summary["discovery_errors"]
    assert index[f"{site.base}/a/early"]["warc_file"] and summary["stored"] == 1
    assert f"{site.base}/a/late" not in index
