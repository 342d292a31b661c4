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
from tests.spider_site import HTML, XML, Resp, SpiderSite, page

DAY = date(2025, 6, 2)
FAST = {"NEWS_POLITE": False, "DOWNLOAD_TIMEOUT": 2, "RETRY_TIMES": 0}
pytestmark = pytest.mark.timeout(120)


def test_internal_service_is_never_contacted(tmp_path):
    at = datetime(DAY.year, DAY.month, DAY.day, 9, tzinfo=UTC)
    with SpiderSite(DAY) as site, SpiderSite(DAY, host="127.0.0.9") as internal:
        internal.routes.clear()
        internal.routes["/latest/meta-data/"] = Resp(body=page("Secret", at), headers={"Content-Type": HTML})
        site.routes.clear()
        site.routes["/robots.txt"] = Resp(body=b"User-agent: *\n", headers={"Content-Type": "text/plain"})
        site.routes["/a/ok"] = Resp(body=page("Fine", at), headers={"Content-Type": HTML})
        site.routes["/a/hop"] = Resp(302, headers={"Location": f"{internal.base}/latest/meta-data/"})
        links = [f"{site.base}/a/ok", f"{site.base}/a/hop", f"{internal.base}/latest/meta-data/"]
        rows = "".join(f"<url><loc>{u}</loc><lastmod>{at.isoformat()}</lastmod></url>" for u in links)
        site.routes["/sitemap.xml"] = Resp(
            body=f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'.encode(),
            headers={"Content-Type": XML},
        )
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
