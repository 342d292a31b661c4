"""Archive discovery (spiders.cdx) against the loopback CDX server of tests/archive_site.py."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from spiders.cdx import CdxClient, UrlRules, capture_window, read_candidates, write_candidates
from tests.archive_site import ArchiveSite, demo_captures, origin

ANCHOR = date(2023, 3, 15)
DAY = date(2023, 3, 14)
ARTICLE = re.compile(r"^http://millbrook\.example/\d{4}/\d{2}/\d{2}/")
RULES = UrlRules(("millbrook.example",), allow=(ARTICLE,), deny=(re.compile(r"/tag/"),))


def _client(archive: ArchiveSite, **kw) -> CdxClient:
    return CdxClient(archive.cdx_url, archive.web_url, **{"page_size": 2, "delay": 0.0, "retries": 2, **kw})


def _window():
    return capture_window(DAY, DAY + timedelta(days=1), 7, now=datetime(2026, 1, 1, tzinfo=UTC))


def _expected(articles, begin, end) -> set[str]:
    return {u for u, a in articles["millbrook"].items() if begin <= a.published + timedelta(hours=6) < end}


@pytest.fixture
def captures():
    return demo_captures(ANCHOR)


def test_discovery_pages_through_resume_keys_and_keeps_only_article_urls(captures, tmp_path):
    caps, articles = captures
    with ArchiveSite(caps) as archive:
        begin, end = _window()
        found = _client(archive).discover(RULES, begin, end)
    expected = _expected(articles, begin, end)
    assert len(expected) >= 2
    assert {c.url for c in found.candidates} == expected
    assert found.complete and not found.errors
    # one capture per URL, with its time and the raw (`id_`) form of its archive URL
    for c in found.candidates:
        stamp = datetime.fromisoformat(c.captured_at.replace("Z", "+00:00")).strftime("%Y%m%d%H%M%S")
        assert c.archive == "wayback" and c.archive_url == f"{archive.web_url}/{stamp}id_/{c.url}"
    # non-article HTML pages (front page, sections) are offered and rejected by the source's patterns
    assert found.rejected["not_article_pattern"] >= 1
    assert found.offered == len(expected) + sum(found.rejected.values())
    # the query asked what the brief says, and more than one page was read by resume key
    first = archive.cdx_log[0]
    assert first["url"] == "millbrook.example/*" and first["collapse"] == "urlkey"
    assert set(first["filter"]) == {"statuscode:200", "mimetype:text/html"}
    assert first["from"] == "20230314000000" and first["to"] == "20230321235959"
    assert found.pages == len(archive.cdx_log) >= 3 and all("resumeKey" in q for q in archive.cdx_log[1:])
    assert read_candidates(write_candidates(found.candidates, tmp_path / "c.jsonl")) == found.candidates


def test_never_asks_an_archive_for_today():
    begin, end = capture_window(date(2026, 3, 1), date(2026, 3, 2), 7, now=datetime(2026, 3, 4, 15, tzinfo=UTC))
    assert end == datetime(2026, 3, 4, tzinfo=UTC)  # the lag stops at the start of today
    begin, end = capture_window(date(2026, 3, 4), date(2026, 3, 5), 7, now=datetime(2026, 3, 4, 15, tzinfo=UTC))
    found = CdxClient("http://127.0.0.1:9/cdx", "http://127.0.0.1:9/web").discover(RULES, begin, end)
    assert found.requests == 0 and found.errors == {"window_not_archived_yet": 1}


def test_429_with_retry_after_is_waited_for_and_counted(captures):
    caps, articles = captures
    with ArchiveSite(caps, throttle=2, retry_after=1) as archive:
        begin, end = _window()
        t0 = time.monotonic()
        found = _client(archive).discover(RULES, begin, end)
        waited = time.monotonic() - t0
    assert {c.url for c in found.candidates} == _expected(articles, begin, end) and found.complete
    assert found.errors["retried_http_429"] == 2 and found.errors["retry_after_honoured"] == 2
    assert waited >= 2.0, "Retry-After: 1 twice is two seconds at least"


def test_429_past_the_retries_is_an_incomplete_discovery_not_a_crash(captures):
    caps, _ = captures
    with ArchiveSite(caps, throttle=100, retry_after=0) as archive:
        found = _client(archive, retries=1).discover(RULES, *_window())
    assert found.candidates == [] and not found.complete and found.errors["http_429"] == 1


def test_a_truncated_page_is_read_again(captures):
    caps, articles = captures
    with ArchiveSite(caps, truncate_pages={2}) as archive:
        begin, end = _window()
        found = _client(archive).discover(RULES, begin, end)
    assert found.errors == {"truncated_page": 1} and found.complete
    assert {c.url for c in found.candidates} == _expected(articles, begin, end)


def test_a_looping_resume_key_stops_and_is_counted(captures):
    caps, articles = captures
    with ArchiveSite(caps, loop_from=2) as archive:
        found = _client(archive, page_size=1).discover(RULES, *_window())
    assert found.errors == {"resume_loop": 1} and not found.complete
    assert len(archive.cdx_log) == 2, "a key seen before is not followed"


def test_an_empty_page_after_a_resume_key_is_counted(captures):
    caps, _ = captures
    with ArchiveSite(caps, empty_after=1) as archive:
        found = _client(archive).discover(RULES, *_window())
    assert found.errors == {"empty_page": 1} and found.pages == 2


def test_a_page_limit_bounds_the_queries(captures):
    caps, _ = captures
    with ArchiveSite(caps) as archive:
        found = _client(archive, page_size=1, max_pages=2).discover(RULES, *_window())
    assert found.errors == {"too_many_pages": 1} and not found.complete and len(archive.cdx_log) == 2


def test_an_index_error_is_counted(captures):
    caps, _ = captures
    with ArchiveSite(caps) as archive:
        found = CdxClient(archive.base_url + "/nothing", archive.web_url, delay=0).discover(RULES, *_window())
    assert found.errors == {"http_404": 1} and not found.complete


def test_denied_urls_are_not_candidates(captures):
    caps, _ = captures
    rules = UrlRules(("millbrook.example",), allow=(ARTICLE,), deny=(re.compile(r"/\d{4}/\d{2}/"),))
    with ArchiveSite(caps) as archive:
        found = _client(archive).discover(rules, *_window())
    assert found.candidates == [] and found.rejected["denied_pattern"] >= 2
    assert origin("millbrook") == "http://millbrook.example"
