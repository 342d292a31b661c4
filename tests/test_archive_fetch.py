"""Archive fetch: the news spider reads archive candidates (spiders.cdx) from the loopback Wayback fixture,
in raw `id_` form, politely, into WARC records that keep the original URL and say where they came from."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from warcio.archiveiterator import ArchiveIterator

from spiders.cdx import CdxClient, UrlRules, capture_window, write_candidates
from spiders.crawl import run_crawl
from spiders.warc import ARCHIVE_CAPTURE_HEADER, ARCHIVE_HEADER, ARCHIVE_URL_HEADER
from tests.archive_site import BANNER, ArchiveSite, demo_captures, origin

ANCHOR, START, END = date(2023, 3, 15), date(2023, 3, 13), date(2023, 3, 15)  # a two-day window
PATTERN = r"^http://millbrook\.example/\d{4}/\d{2}/\d{2}/"
FAST = {"NEWS_POLITE": False, "NEWS_ARCHIVE_DELAY": 0, "DOWNLOAD_TIMEOUT": 10}
pytestmark = pytest.mark.timeout(300)


def write_sources(path: Path) -> Path:
    source = {
        "name": "millbrook", "feeds": [origin("millbrook") + "/feed/"], "allowed_domains": ["millbrook.example"],
        "article_url_patterns": [PATTERN], "language": "en",
        "politeness": {"download_delay": 0, "autothrottle": False},
    }  # fmt: skip
    path.write_text(yaml.safe_dump({"sources": [source]}))
    return path


def crawl(archive: ArchiveSite, tmp: Path, settings: dict | None = None, tamper=None) -> tuple[dict, list, dict]:
    begin, end = capture_window(START, END, 7, now=datetime(2026, 1, 1, tzinfo=UTC))
    found = CdxClient(archive.cdx_url, archive.web_url, delay=0).discover(
        UrlRules(("millbrook.example",), (re.compile(PATTERN),)), begin, end
    )
    candidates = tamper(found.candidates) if tamper else found.candidates
    path = write_candidates(candidates, tmp / "candidates.jsonl")
    sources = write_sources(tmp / "sources.yaml")
    settings = {**FAST, "NEWS_DISCOVER": "archives", "NEWS_ARCHIVE_CANDIDATES": str(path), **(settings or {})}
    out = tmp / "out"
    summary = run_crawl("millbrook", START, END, out, str(sources), settings, timeout=120)
    with gzip.open(out / "index.jsonl.gz", "rt") as fh:
        index = {e["url"]: e for e in map(json.loads, fh)}
    records = {}
    for part in sorted(out.glob("part-*.warc.gz")):
        with open(part, "rb") as fh:
            for record in ArchiveIterator(fh, check_digests="raise"):
                if record.rec_type == "response":
                    records[record.rec_headers.get_header("WARC-Target-URI")] = (
                        record.rec_headers, record.content_stream().read()
                    )  # fmt: skip
    return summary, candidates, {"index": index, "records": records}


def published_in_window(articles: dict) -> set[str]:
    return {u for u, a in articles["millbrook"].items() if START <= a.published.date() < END}


def test_archived_pages_are_fetched_raw_and_recorded_with_their_provenance(tmp_path):
    caps, articles = demo_captures(ANCHOR)
    wanted = sorted(published_in_window(articles))
    assert len(wanted) >= 3
    failing, redirected, moved = wanted[0], wanted[1], wanted[2]

    def tamper(candidates):  # one candidate asks for a capture time the archive does not hold
        return [c if c.url != moved else replace(c, archive_url=c.archive_url.replace("/2023", "/2022", 1))
                for c in candidates]  # fmt: skip

    other = next(u for u in articles["eastmere"])
    with ArchiveSite(caps, errors={failing}, redirects={redirected: other}) as archive:
        summary, candidates, got = crawl(archive, tmp_path, tamper=tamper)
    index, records = got["index"], got["records"]
    stored = {u for u, e in index.items() if e["warc_file"]}
    assert stored == set(wanted) - {failing, redirected}
    # the window is decided on the page's own date: candidates captured in the window but published later are not
    later = {c.url for c in candidates} - set(wanted)
    assert later and all(index[u]["reason"] == "out_of_window_page" for u in later)
    assert index[failing]["reason"] == "archive_http_404" and index[redirected]["reason"] == "archive_redirect"
    assert summary["failed_fetches"] == {"archive_http_404": 1}  # a redirect to another page is no fetch failure
    assert summary["archive"]["candidates"] == len(candidates) and summary["archive"]["redirects"] == 1
    assert summary["archive"]["other_capture_time"] == 1 and summary["archive"]["errors"] == 1
    # only raw captures were asked for, and only of the archive: the live site's host never resolves anyway
    assert all("id_/" in p for p, _ in archive.raw_log if p != "/robots.txt")
    for url in stored:
        headers, body = records[url]
        entry = index[url]
        assert headers.get_header("WARC-Target-URI") == url
        assert headers.get_header(ARCHIVE_HEADER) == "wayback" == entry["archive"]
        assert headers.get_header(ARCHIVE_URL_HEADER) == entry["archive_url"] and "id_/" in entry["archive_url"]
        assert headers.get_header(ARCHIVE_CAPTURE_HEADER) == entry["captured_at"]
        assert BANNER not in body and b"wm-ipp" not in body
        page = next(c for c in caps if c.original == url)
        assert body == page.body
    assert index[moved]["captured_at"].startswith("2023-") and "/2023" in index[moved]["archive_url"]


def test_archive_politeness_one_request_at_a_time_and_retry_after(tmp_path):
    caps, articles = demo_captures(ANCHOR)
    # a delay, however short: Scrapy 2.19's downloader hands a slot's whole queue over at once when its delay is 0
    settings = {"NEWS_ARCHIVE_CONCURRENCY": 1, "NEWS_ARCHIVE_DELAY": 0.05, "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
                "RETRY_TIMES": 3}  # fmt: skip
    with ArchiveSite(caps, throttle_captures=2, retry_after=1, capture_delay=0.1) as archive:
        summary, _, got = crawl(archive, tmp_path, settings)
    assert archive.max_in_flight == 1, "the archive got overlapping requests"
    assert summary["retries"] >= 2 and not summary["failed_fetches"]
    assert {u for u, e in got["index"].items() if e["warc_file"]} == published_in_window(articles)


def test_clean_rows_say_which_archive_and_capture_they_came_from(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from cleaners import BoilerplateState
    from ingest.pipeline import _clean_to_parquet

    caps, articles = demo_captures(ANCHOR)
    with ArchiveSite(caps) as archive:
        _, _, got = crawl(archive, tmp_path)
    monkeypatch.setenv("NEWS_SOURCES", str(tmp_path / "sources.yaml"))
    out = tmp_path / "out"
    local = {f"raw/{p.name}": p for p in [*out.glob("part-*.warc.gz"), out / "index.jsonl.gz"]}
    stats = _clean_to_parquet("millbrook", START, local, tmp_path / "rows.parquet", BoilerplateState("millbrook"))
    rows = pq.read_table(tmp_path / "rows.parquet").to_pylist()
    assert stats["articles"] == len(rows) and {r["url"] for r in rows} == published_in_window(articles)
    for row in rows:
        entry = got["index"][row["url"]]
        assert row["provenance"] == "wayback"
        assert row["capture"]["archive"] == "wayback" and row["capture"]["archive_url"] == entry["archive_url"]
        assert row["capture"]["captured_at"].strftime("%Y-%m-%dT%H:%M:%SZ") == entry["captured_at"]
        assert row["text"] and "Wayback" not in row["text"]


def test_both_never_asks_the_live_site_for_what_the_archive_provides(tmp_path):
    from demo_site import DemoSite
    from localrun.demo import write_demo_sources

    with DemoSite(ANCHOR) as live:
        captures, articles = demo_captures(ANCHOR, bases=live.base_urls)
        wanted = sorted(published_in_window(articles))
        archived = set(wanted[: len(wanted) // 2 + 1])  # the archive holds some of the window's articles
        captures = [c for c in captures if c.original in archived]
        sources = tmp_path / "sources.yaml"
        write_demo_sources(live, sources)
        doc = yaml.safe_load(sources.read_text())
        doc["sources"] = [dict(s, archives=["wayback"]) for s in doc["sources"] if s["name"] == "millbrook"]
        sources.write_text(yaml.safe_dump(doc))
        with ArchiveSite(captures) as archive:
            host = live.hosts["millbrook"]
            begin, end = capture_window(START, END, 7, now=datetime(2026, 1, 1, tzinfo=UTC))
            found = CdxClient(archive.cdx_url, archive.web_url, delay=0).discover(UrlRules((host,)), begin, end)
            assert {c.url for c in found.candidates} == archived
            listed = write_candidates(found.candidates, tmp_path / "c.jsonl")
            settings = {**FAST, "NEWS_DISCOVER": "both", "NEWS_ARCHIVE_CANDIDATES": str(listed)}
            summary = run_crawl("millbrook", START, END, tmp_path / "out", str(sources), settings, timeout=120)
        with gzip.open(tmp_path / "out" / "index.jsonl.gz", "rt") as fh:
            index = {e["url"]: e for e in map(json.loads, fh)}
    stored = {u for u, e in index.items() if e["warc_file"]}
    assert stored == set(wanted)
    assert {u for u in stored if index[u].get("archive") == "wayback"} == archived
    asked = {path for pub, _, path, _ in live.request_log if pub == "millbrook"}
    base = live.base_urls["millbrook"]
    assert not {u.removeprefix(base) for u in archived} & asked, "the live site was asked for an archived page"
    assert {u.removeprefix(base) for u in set(wanted) - archived} <= asked
    assert summary["archive"]["live_skipped"] >= 1 and summary["documents"] >= 1


def test_sources_opt_in_to_known_archives_only(tmp_path):
    from ingest.archives import check_discover
    from newsconfig.sources import SourceConfigError, load_sources

    path = write_sources(tmp_path / "s.yaml")
    doc = yaml.safe_load(path.read_text())
    assert load_sources(path)[0].archives == ()
    with pytest.raises(ValueError, match=r"\['millbrook'\] opt in to no archive"):
        check_discover("archives", load_sources(path))
    check_discover("both", load_sources(path))  # the live site alone, then
    doc["sources"][0]["archives"] = ["wayback", "commoncrawl"]
    path.write_text(yaml.safe_dump(doc))
    assert load_sources(path)[0].archives == ("wayback", "commoncrawl")
    check_discover("archives", load_sources(path))
    with pytest.raises(ValueError, match="discover must be one of"):
        check_discover("sometimes", load_sources(path))
    for bad, message in ((["archive.today"], "unknown archive 'archive.today'"), ("wayback wayback", "unknown"),
                         (["wayback", "wayback"], "named twice")):  # fmt: skip
        doc["sources"][0]["archives"] = bad
        path.write_text(yaml.safe_dump(doc))
        with pytest.raises(SourceConfigError, match=f"field `archives`: .*{message}"):
            load_sources(path)


def test_the_report_says_what_the_archive_offered_fetched_stored_and_rejected():
    from ingest import report

    crawl = {
        "stored": 2, "finish_reason": "finished", "rejected": {"out_of_window_page": 3, "archive_http_404": 1},
        "failed_fetches": {"archive_http_404": 1},
        "archive": {"candidates": 6, "fetched": 5, "stored": 2, "rejected/out_of_window_page": 3,
                    "rejected/archive_http_404": 1, "live_skipped": 0},
        "archive_discovery": {"wayback": {"offered": 9, "candidates": 6, "errors": {"resume_loop": 1},
                                          "complete": False}},
    }  # fmt: skip
    summary = report.summarise(START, "run", {"millbrook": {"crawl": {"summary": crawl}, "error": None}})
    archive = summary["sources"]["millbrook"]["archive"]
    assert archive["offered"] == {"wayback": 9} and archive["candidates"] == {"wayback": 6}
    assert archive["fetched"] == 5 and archive["stored"] == 2
    assert archive["rejected"] == {"out_of_window_page": 3, "archive_http_404": 1}
    assert archive["index_incomplete"] == {"wayback/resume_loop": 1}
    line = report.archive_line(archive)
    assert "wayback offered 9 captures, 6 candidates" in line and "index incomplete: wayback/resume_loop 1" in line
    assert "millbrook: archives: wayback offered 9" in report.to_text(summary)
    assert "<th>web archives</th><td>wayback offered 9 captures" in report.to_html(summary)
    clean = {**crawl, "failed_fetches": {}, "archive_discovery": {"wayback": {"offered": 9, "complete": True}}}
    done = {"crawl": {"summary": clean}, "clean": {"stats": {}}, "validate": {}, "publish": {}, "error": None}
    assert report.summarise(START, "run", {"millbrook": done})["sources"]["millbrook"]["status"] == "published"
    assert summary["sources"]["millbrook"]["status"] == "failed"  # stages missing: not published at all


def test_the_archive_fixture_injects_its_banner_unless_asked_for_raw():
    import urllib.request

    caps, articles = demo_captures(ANCHOR)
    page = next(c for c in caps if c.original in articles["millbrook"])
    with ArchiveSite(caps) as archive:
        banner = urllib.request.urlopen(f"{archive.web_url}/{page.timestamp}/{page.original}").read()
        raw = urllib.request.urlopen(f"{archive.web_url}/{page.timestamp}id_/{page.original}").read()
    assert BANNER in banner and raw == page.body
