"""Polite revisits (issue #15 item 6): conditional requests for feeds and sitemaps.

The crawl of day D sends `If-None-Match` / `If-Modified-Since` with the `ETag` / `Last-Modified` that the crawl
of day D-1 stored for each feed and sitemap (`validators.json.gz` in its raw partition; NEWS_VALIDATORS_FILE).
A `304 Not Modified` is counted (`not_modified` in the crawl summary) and costs no download and no parsing:
the document is the one the previous crawl read, whose entries (URL, date hint, kind) were stored beside its
validators, and they are considered again for this crawl's window (an entry of the previous crawl's future,
published after its window, belongs to this one; the earlier days' captures are skipped as always). A document
of more than MAX_ENTRIES entries gets no validators (it is always fetched). On a 304 the stored validators and
entries are written again into this crawl's file, so the next crawl asks again. Sitemap indexes are always
fetched whole: an index whose bytes do not change may list children that did, and only the children's answers
tell.
"""

from __future__ import annotations

import gzip
import json
import weakref
from pathlib import Path
from typing import Self

from scrapy.crawler import Crawler

from spiders.outdir import OutDirExtension

VALIDATORS_FILE = "validators.json.gz"
MAX_ENTRIES = 5000  # entries kept per document for a 304's replay; a larger document is always fetched
_BY_CRAWLER: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Revisits:
    """The crawl's validators: the previous crawl's (asked with) and this crawl's (written when it closes)."""

    def __init__(self, crawler: Crawler) -> None:
        self.previous = load(crawler.settings.get("NEWS_VALIDATORS_FILE"))
        self.current: dict[str, dict[str, str]] = {}

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> Self:
        if crawler not in _BY_CRAWLER:
            _BY_CRAWLER[crawler] = cls(crawler)
        return _BY_CRAWLER[crawler]

    def headers(self, url: str) -> dict[str, str]:
        return request_headers(self.previous.get(url))

    def not_modified(self, url: str) -> None:
        self.current[url] = self.previous.get(url, {})  # kept as they were: the next crawl asks again

    def read(self, url: str, response_headers, entries: list[list]) -> None:
        """Keep a document's validators and its entries ([url, date hint ISO or None, published?, news?, by])."""
        if (validators := from_response(response_headers)) and len(entries) <= MAX_ENTRIES:
            self.current[url] = {**validators, "entries": entries}

    def replay(self, url: str) -> list[list]:
        """The entries the previous crawl read in the document at `url` (answered 304 now)."""
        entries = self.previous.get(url, {}).get("entries")
        return [e for e in entries if isinstance(e, list) and len(e) == 5] if isinstance(entries, list) else []


class ValidatorsExtension(OutDirExtension):
    """Writes `validators.json.gz` into NEWS_OUT_DIR when the crawl ends (before the upload)."""

    def spider_closed(self) -> None:
        current = Revisits.for_crawler(self.crawler).current
        if current:
            self.folder.mkdir(parents=True, exist_ok=True)
            write(self.folder, current)


def load(path: str | None) -> dict[str, dict[str, str]]:
    """URL -> {"etag", "last_modified"} of the previous crawl; a missing or bad file is none (a full fetch)."""
    if not path or not Path(path).exists():
        return {}
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {u: v for u, v in data.items() if isinstance(u, str) and isinstance(v, dict)}


def request_headers(validators: dict[str, str] | None) -> dict[str, str]:
    """The conditional headers for a document with these stored validators."""
    headers = {}
    if validators and validators.get("etag"):
        headers["If-None-Match"] = validators["etag"]
    if validators and validators.get("last_modified"):
        headers["If-Modified-Since"] = validators["last_modified"]
    return headers


def from_response(headers) -> dict[str, str]:
    """The validators of a response (Scrapy Headers), or {} when it has none."""
    found = {}
    for name, key in (("ETag", "etag"), ("Last-Modified", "last_modified")):
        value = headers.get(name)
        if value:
            found[key] = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return found


def write(folder: Path, validators: dict[str, dict[str, str]]) -> None:
    with gzip.open(folder / VALIDATORS_FILE, "wt", encoding="utf-8") as fh:
        json.dump(validators, fh, sort_keys=True)
