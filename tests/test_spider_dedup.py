"""Dedup across two consecutive days: day 2's crawl is handed day 1's index (NEWS_DEDUP_INDEXES).

A URL captured on day 1 is not fetched again unless its sitemap entry says it was modified after that
capture; a new URL whose content was stored on day 1 is not stored again.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import yaml

from spiders.crawl import run_crawl
from tests.spider_site import ALLOW_ALL, SpiderSite, html, page, sitemap

DAY1 = date(2025, 6, 2)
DAY2 = DAY1 + timedelta(days=1)
FAST = {"NEWS_POLITE": False, "DOWNLOAD_TIMEOUT": 10, "RETRY_TIMES": 0}  # a budget: nothing here is slow
pytestmark = pytest.mark.timeout(120)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _index(folder) -> dict[str, dict]:
    with gzip.open(folder / "index.jsonl.gz", "rt") as fh:
        return {urlsplit(e["url"]).path: e for e in map(json.loads, fh)}


@pytest.fixture(scope="module")
def two_days(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dedup")
    with SpiderSite(DAY1) as site:
        b = site.base
        site.routes.clear()
        site.routes["/robots.txt"] = ALLOW_ALL
        site.routes["/a/kept"] = html(page("Kept", _at(DAY1, 8)))
        site.routes["/a/edited"] = html(page("Edited", _at(DAY1, 9)))
        site.routes["/a/undated"] = html(page("Undated"))  # no date on the page: its lastmod decides
        site.routes["/a/fresh"] = html(page("Fresh", _at(DAY2, 7)))
        site.routes["/a/moved"] = html(page("Undated"))  # day 1's undated page again, under a new URL
        sources = tmp / "sources.yaml"
        entry = {"name": "daily", "sitemaps": [f"{b}/sitemap.xml"], "allowed_domains": ["127.0.0.1"]}
        sources.write_text(yaml.safe_dump({"sources": [entry]}))

        site.routes["/sitemap.xml"] = sitemap(
            [(f"{b}/a/kept", _at(DAY1, 8)), (f"{b}/a/edited", _at(DAY1, 9)), (f"{b}/a/undated", _at(DAY1, 10))]
        )
        day1 = run_crawl("daily", DAY1, DAY2, tmp / "day1", str(sources), FAST, timeout=90)
        first_fetches = {p: len(site.requested(p)) for p in ("/a/kept", "/a/edited", "/a/undated")}

        # Day 2: the sitemap lists everything touched since; lastmod of `edited` is after day 1's capture.
        later = datetime.now(UTC) + timedelta(hours=1)
        site.routes["/sitemap.xml"] = sitemap(
            [(f"{b}/a/kept", _at(DAY2, 1)), (f"{b}/a/edited", later), (f"{b}/a/fresh", _at(DAY2, 7)),
             (f"{b}/a/moved", _at(DAY2, 11))]
        )  # fmt: skip
        settings = {**FAST, "NEWS_DEDUP_INDEXES": [str(tmp / "day1" / "index.jsonl.gz")]}
        day2 = run_crawl("daily", DAY2, DAY2 + timedelta(days=1), tmp / "day2", str(sources), settings, timeout=90)
        fetches = {p: len(site.requested(p)) for p in ("/a/kept", "/a/edited", "/a/fresh", "/a/moved")}
        yield {"day1": day1, "day2": day2, "first": first_fetches, "fetches": fetches,
               "index1": _index(tmp / "day1"), "index2": _index(tmp / "day2")}  # fmt: skip


def test_day_one_stores_its_three_articles(two_days):
    assert two_days["day1"]["stored"] == 3
    assert two_days["first"] == {"/a/kept": 1, "/a/edited": 1, "/a/undated": 1}
    assert two_days["day2"]["earlier_captures"] == 3


def test_unmodified_capture_is_not_fetched_again(two_days):
    assert two_days["fetches"]["/a/kept"] == 1  # only day 1's request
    assert two_days["index2"]["/a/kept"]["reason"] == "captured_earlier"
    assert two_days["day2"]["rejected"]["captured_earlier"] == 1


def test_capture_modified_since_is_fetched_again(two_days):
    assert two_days["fetches"]["/a/edited"] == 2
    # fetched, then judged on its own publication date, which is day 1's
    assert two_days["index2"]["/a/edited"]["reason"] == "out_of_window_page"


def test_new_url_with_day_one_content_is_a_duplicate(two_days):
    moved = two_days["index2"]["/a/moved"]
    assert moved["reason"] == "duplicate"
    assert moved["content_hash"] == two_days["index1"]["/a/undated"]["content_hash"]


def test_new_article_is_stored(two_days):
    assert two_days["index2"]["/a/fresh"]["warc_file"] and two_days["day2"]["stored"] == 1
