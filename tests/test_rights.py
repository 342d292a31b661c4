"""Rights and AI/TDM reservations (issue #15 item 2): X-Robots-Tag and meta robots, TDMRep (headers, meta and
/.well-known/tdmrep.json fetched once per site), robots.txt rules for AI user agents; the `rights` column and
the per-source policy `rights: record | skip_reserved`. The spider's part against a loopback site."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ingest import rawio
from ingest.rights import load_sites, rights, tdmrep_rule
from newsconfig.sources import SourceConfigError, load_sources
from tests.raw_pages import STORY, clean_and_publish, page, published_rows, sources_file, write_raw
from tests.spider_site import Resp, SpiderSite, html
from tests.spider_site import page as spider_page

DAY = date(2026, 11, 20)
ROBOTS = "User-agent: *\nAllow: /\n\nUser-agent: GPTBot\nUser-agent: CCBot\nDisallow: /premium/\n"
TDMREP = [
    {"location": "/reserved/*", "tdm-reservation": 1, "tdm-policy": "https://norvale.example/tdm-policy.json"},
    {"location": "/reserved/open-*", "tdm-reservation": 0},
]
SITES = [{"origin": "https://norvale.example", "robots": {"status": "fetched", "text": ROBOTS},
          "tdmrep": {"status": "fetched", "text": json.dumps(TDMREP)}}]  # fmt: skip
# path -> (HTTP headers, <head> extra, expected reserved_by)
PAGES = {
    "/plain": ([], "", []),
    "/noai-header": ([("X-Robots-Tag", "noai, noimageai")], "", ["noai"]),
    "/scoped-header": ([("X-Robots-Tag", "otherbot: noai")], "", ["noai"]),
    "/noimageai-meta": ([], '<meta name="robots" content="noimageai, noarchive">', []),
    "/tdm-header": ([("tdm-reservation", "1"), ("tdm-policy", "https://norvale.example/p")], "", ["tdm-reservation"]),
    "/tdm-meta": ([], '<meta name="tdm-reservation" content="1">', ["tdm-reservation"]),
    "/reserved/story": ([], "", ["tdm-reservation"]),
    "/reserved/open-story": ([], "", []),
    "/premium/story": ([], "", ["robots.txt:GPTBot", "robots.txt:CCBot"]),
}  # fmt: skip


def raw_pages() -> list:
    return [(f"https://norvale.example{p}", page([f"{p}. {s}" for s in STORY], f"Story {p}", head), headers)
            for p, (headers, head, _) in PAGES.items()]  # fmt: skip


def test_rights_from_headers_meta_tdmrep_and_robots(tmp_path: Path) -> None:
    path = tmp_path / "sites.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.writelines(json.dumps(f) + "\n" for f in [*SITES, {"bad": 1}])
    sites = load_sites(path)
    noai = rights("https://norvale.example/a", {"x-robots-tag": "noai, noimageai"}, {}, sites)
    assert (noai["noai"], noai["noimageai"], noai["noindex"], noai["reserved_by"]) == (True, True, False, ["noai"])
    only_images = rights("https://norvale.example/a", {}, {"robots": "noimageai"}, sites)
    assert only_images["noimageai"] and not only_images["reserved"]  # images only: the text is not reserved
    file = rights("https://norvale.example/reserved/x", {}, {}, sites)
    assert (file["tdm_reservation"], file["tdm_from"], file["tdm_policy"]) == (
        True, "tdmrep.json", "https://norvale.example/tdm-policy.json")  # fmt: skip
    header_wins = rights("https://norvale.example/reserved/x", {"tdm-reservation": "0"}, {}, sites)
    assert (header_wins["tdm_reservation"], header_wins["tdm_from"]) == (False, "header")
    assert tdmrep_rule(TDMREP, "/reserved/open-x")["tdm-reservation"] == 0  # the most specific location
    assert rights("https://other.example/premium/x", {}, {}, sites)["ai_agents_disallowed"] == []  # another site


def test_sources_rights_policy_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("sources:\n  - name: a\n    feeds: [https://a.example/f]\n    rights: skip_reserved\n")
    assert load_sources(path)[0].rights == "skip_reserved"
    path.write_text("sources:\n  - name: a\n    feeds: [https://a.example/f]\n    rights: ignore\n")
    with pytest.raises(SourceConfigError, match="field `rights`: expected one of record, skip_reserved"):
        load_sources(path)


@pytest.mark.parametrize("policy", ["record", "skip_reserved"])
def test_the_clean_stage_records_or_skips_reserved_articles(policy, bucket, tmp_path, monkeypatch) -> None:
    sources_file(tmp_path, monkeypatch,
                 f"  - name: ledger\n    feeds: [https://norvale.example/feed]\n    rights: {policy}\n")  # fmt: skip
    write_raw(bucket, tmp_path, "ledger", DAY, raw_pages(), sites=SITES)
    stats = clean_and_publish("ledger", DAY)  # validates: skipped articles do not fail the day
    rows = published_rows(bucket, "ledger")
    reserved = {p for p, (_, _, by) in PAGES.items() if by}
    if policy == "record":
        assert {p: rows[f"https://norvale.example{p}"]["rights"]["reserved_by"] for p in PAGES} == {
            p: by for p, (_, _, by) in PAGES.items()
        }
        assert rows["https://norvale.example/noai-header"]["rights"]["x_robots_tag"] == "noai, noimageai"
        assert rows["https://norvale.example/noimageai-meta"]["rights"]["noarchive"] is True
        assert stats["flags"]["rights_reserved"] == len(reserved)
    else:
        assert set(rows) == {f"https://norvale.example{p}" for p in PAGES if p not in reserved}
        assert stats["rejected"] == {"rights_reserved": len(reserved)}
        assert {d["url"] for d in stats["rejected_documents"]} == {f"https://norvale.example{p}" for p in reserved}


def test_the_spider_fetches_tdmrep_once_and_keeps_what_the_site_said(tmp_path: Path) -> None:
    from spiders.crawl import run_crawl

    with SpiderSite(DAY) as site:
        at = datetime(DAY.year, DAY.month, DAY.day, 9, tzinfo=UTC)
        site.routes.clear()
        site.routes["/robots.txt"] = Resp(body=ROBOTS.encode(), headers={"Content-Type": "text/plain"})
        site.routes["/.well-known/tdmrep.json"] = Resp(body=json.dumps(TDMREP).encode(),
                                                       headers={"Content-Type": "application/json"})  # fmt: skip
        paths = [f"/a/{i}" for i in range(4)]
        for path in paths:
            site.routes[path] = html(spider_page(path, at))
        site.routes["/a/0"].headers = {**site.routes["/a/0"].headers, "X-Robots-Tag": "noai"}
        rows = "".join(f"<url><loc>{site.base}{p}</loc><lastmod>{at.isoformat()}</lastmod></url>" for p in paths)
        site.routes["/sitemap.xml"] = Resp(body=f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                                           f"{rows}</urlset>".encode(), headers={"Content-Type": "application/xml"})
        sources = tmp_path / "sources.yaml"
        sources.write_text(f"sources:\n  - name: rights\n    sitemaps: [{site.base}/sitemap.xml]\n")
        out = tmp_path / "out"
        summary = run_crawl("rights", DAY, DAY + timedelta(days=1), out, str(sources), {"NEWS_POLITE": False},
                            timeout=120)  # fmt: skip
        assert len(site.requested("/.well-known/tdmrep.json")) == 1 and len(site.requested("/robots.txt")) == 1
    assert summary["stored"] == len(paths)
    sites = load_sites(out / "sites.jsonl.gz")
    assert set(sites) == {site.base.lower()}
    assert [r["location"] for r in sites[site.base.lower()].tdmrep] == ["/reserved/*", "/reserved/open-*"]
    headers = {r.url.removeprefix(site.base): r.rights_headers
               for p in out.glob("part-*.warc.gz") for r in rawio.iter_responses(p, p.name)}  # fmt: skip
    assert headers["/a/0"] == {"x-robots-tag": "noai"} and headers["/a/1"] == {}
