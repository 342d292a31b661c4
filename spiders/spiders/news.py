"""The one generic spider: discovers a source's articles for a date window and yields them.

    scrapy crawl news -a source=NAME -a start=YYYY-MM-DD -a end=YYYY-MM-DD \\
        [-a out=DIR|s3://bucket/prefix] [-a sources=FILE]

Discovery reads robots.txt `Sitemap:` lines, the configured feeds and sitemaps (indexes followed
recursively, children older than the window skipped). Capture, dedup and the window decision on the page's
own date happen in the item pipelines; the spider only discovers, fetches and describes.

Every URL seen gets an index line: fetched, or rejected with its reason (policy before fetching, a failure,
or the reason a duplicate filter, redirect or limit would have dropped it). A page's metadata is read on
the reactor thread only while that is cheap (pages under NEWS_PAGE_THREAD_FROM bytes); a larger page is read
in a worker thread within NEWS_PAGE_BUDGET_SECONDS, so one page cannot stall the crawl.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import tempfile
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from ingest.rights import SITES_FILE
from newsconfig.sources import Source, get_source
from spiders import pages
from spiders.cdx import Candidate, normalise_original, read_candidates
from spiders.dates import day_start, iso
from spiders.dedup import DigestSet, EarlierCaptures, digest
from spiders.discovery import Document, Entry, absolute, gunzip_bounded, parse_document
from spiders.items import PageItem
from spiders.middlewares import PREFIX
from spiders.reasons import exception_reason
from spiders.records import archived_response
from spiders.revisits import VALIDATORS_FILE, Revisits
from spiders.robots import RobotsTxt
from spiders.scheduler import ARTICLE
from spiders.urls import host_of, in_domains, is_blocked_address, strip_tracking

HTML_TYPES = (b"text/html", b"application/xhtml+xml")
RANGE = "news_archive_range"  # request meta: the answer is one WARC record of an archive's file (spiders.records)
ARCHIVE = "news_archive"  # request meta of a capture read from a web archive: (archive, captured_at, archive_url)
DISCOVER = ("live", "archives", "both")  # NEWS_DISCOVER: where the crawl finds its articles
_WAYBACK_PATH = re.compile(r"/(\d{14})(?:[a-z]{2}_)?/(https?://.+)$")


class NewsSpider(Spider):
    name = "news"

    def __init__(
        self,
        source: str | None = None,
        start: str | None = None,
        end: str | None = None,
        out: str | None = None,
        sources: str | None = None,
        **kwargs: Any,
    ) -> None:
        # `start` is Spider.start(), the coroutine yielding the first requests: keep the argument apart.
        super().__init__(**kwargs)
        if not source or not start or not end:
            raise ValueError("usage: scrapy crawl news -a source=NAME -a start=YYYY-MM-DD -a end=YYYY-MM-DD")
        self.window_start, self.window_end = date.fromisoformat(start), date.fromisoformat(end)
        if self.window_end <= self.window_start:
            raise ValueError(f"empty window: end {end} must be after start {start}")
        self.source: Source = get_source(source, sources)
        self.allowed_domains = sorted({*self.source.allowed_domains, *self.source.configured_hosts})
        self.out = out or str(Path("out") / self.source.name / self.window_start.isoformat())
        self._from, self._to = day_start(self.window_start), day_start(self.window_end)
        self._allow = [re.compile(p) for p in self.source.article_url_patterns]
        self._deny = [re.compile(p) for p in self.source.deny_url_patterns]
        self._seen_urls = DigestSet()  # the entries' canonical URLs, as 8-byte digests
        self._seen_documents: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider._configure(crawler)
        return spider

    def _configure(self, crawler: Crawler) -> None:
        """Hand the window, the output folder and the source's politeness to the other components."""
        s = crawler.settings
        s.setdict(self.source.scrapy_settings(), priority="spider")
        if not s.getbool("NEWS_POLITE"):
            s.setdict(
                {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "RANDOMIZE_DOWNLOAD_DELAY": False,
                 "RETRY_BACKOFF_BASE": 0, "CONCURRENT_REQUESTS_PER_DOMAIN": 16},
                priority="spider",
            )  # fmt: skip
        if self.out.startswith("s3://"):
            local = s.get("NEWS_LOCAL_DIR") or tempfile.mkdtemp(prefix=f"news-{self.source.name}-")
            s.set("NEWS_UPLOAD_URL", self.out, priority="spider")
        else:
            local = self.out
        folder = Path(local)
        folder.mkdir(parents=True, exist_ok=True)
        stale_files = [folder / n for n in ("index.jsonl.gz", "summary.json", VALIDATORS_FILE, SITES_FILE)]
        for stale in [*folder.glob("part-*.warc.gz"), *stale_files]:
            stale.unlink(missing_ok=True)  # a re-run replaces the previous output
        s.setdict(
            {
                "NEWS_OUT": self.out,
                "NEWS_OUT_DIR": str(folder.resolve()),
                "NEWS_SOURCE_NAME": self.source.name,
                "NEWS_WINDOW_START": self.window_start.isoformat(),
                "NEWS_WINDOW_END": self.window_end.isoformat(),
                "NEWS_CONFIGURED_HOSTS": sorted(self.source.configured_hosts),
                "NEWS_ALLOWED_DOMAINS": list(self.source.allowed_domains),
            },
            priority="spider",
        )
        self._max_depth = s.getint("NEWS_SITEMAP_MAX_DEPTH")
        self._max_documents = s.getint("NEWS_MAX_DOCUMENTS")
        self._maxsize = s.getint("DOWNLOAD_MAXSIZE")
        self._index_skipped = s.getbool("NEWS_INDEX_OUT_OF_WINDOW")
        self._max_entries = s.getint("NEWS_MAX_ENTRIES")
        self._max_url_length = s.getint("URLLENGTH_LIMIT")
        self._thread_from = s.getint("NEWS_PAGE_THREAD_FROM")
        self._page_budget = s.getfloat("NEWS_PAGE_BUDGET_SECONDS")
        self._earlier = EarlierCaptures.for_crawler(crawler)
        self._robots = RobotsTxt.for_crawler(crawler)
        self._revisits = Revisits.for_crawler(crawler)  # the previous day's ETag / Last-Modified, and this one's
        self._configure_archives(s)

    def _configure_archives(self, s: Any) -> None:
        """Read the archive candidates (NEWS_ARCHIVE_CANDIDATES, from spiders.cdx) and give each archive host its
        own politeness: NEWS_ARCHIVE_CONCURRENCY requests at once, NEWS_ARCHIVE_DELAY_SECONDS apart (a download
        slot that AutoThrottle leaves alone), whatever the source's own politeness or NEWS_POLITE say."""
        self.discover = s.get("NEWS_DISCOVER") or "live"
        if self.discover not in DISCOVER:
            raise ValueError(f"NEWS_DISCOVER must be one of {', '.join(DISCOVER)}, not {self.discover!r}")
        path = s.get("NEWS_ARCHIVE_CANDIDATES")
        self._candidates: list[Candidate] = read_candidates(path) if path and self.discover != "live" else []
        self._archived = DigestSet()  # the candidates' URLs: never asked of the live site
        hosts = sorted({host_of(c.archive_url) for c in self._candidates})
        if not hosts:
            return
        slot = {"concurrency": s.getint("NEWS_ARCHIVE_CONCURRENCY", 1), "delay": s.getfloat("NEWS_ARCHIVE_DELAY", 1.0)}
        s.set("DOWNLOAD_SLOTS", {**s.getdict("DOWNLOAD_SLOTS"), **dict.fromkeys(hosts, slot)}, priority="spider")
        s.set("NEWS_ARCHIVE_HOSTS", hosts, priority="spider")  # spiders.robots: no tdmrep.json asked of them
        trusted = sorted({*s.getlist("NEWS_CONFIGURED_HOSTS"), *hosts})  # operator-configured endpoints
        s.set("NEWS_CONFIGURED_HOSTS", trusted, priority="spider")
        self.allowed_domains = sorted({*self.allowed_domains, *hosts})

    # -- discovery documents -------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request | PageItem]:
        self.crawler.stats.set_value("news/earlier_captures", len(self._earlier))
        if self._candidates:
            self.crawler.stats.set_value("news/archive/candidates", len(self._candidates))
        for candidate in self._candidates:  # first: a live entry of the same URL is then never fetched
            self._archived.add(digest(strip_tracking(candidate.url)))
            for result in self._consider(Entry(candidate.url), candidate.archive, archive=candidate):
                yield result
        if self.discover == "archives":
            return
        for url in self.source.feeds:
            if request := self._document_request(url, "feed", 0):
                yield request
        for url in self.source.sitemaps:
            if request := self._document_request(url, "sitemap", 0):
                yield request
        # Each site's robots.txt is fetched once (spiders.robots), for its rules and for its Sitemap: lines;
        # the requests above wait for it in the downloader, this waits for it here.
        origins = dict.fromkeys(
            f"{p.scheme}://{p.netloc}".lower() for p in map(urlsplit, (*self.source.feeds, *self.source.sitemaps))
        )
        for origin in origins:
            rules = await self._robots.rules(origin)
            for sitemap in rules.sitemaps:
                url = absolute(f"{origin}/robots.txt", sitemap)
                if url and self._allowed_host(url) and (request := self._document_request(url, "robots", 0)):
                    yield request

    def _document_request(self, url: str, origin: str, depth: int) -> Request | None:
        stats = self.crawler.stats
        key = strip_tracking(url)
        if key in self._seen_documents:
            if origin == "sitemap-child":
                stats.inc_value("news/discovery_errors/sitemap_loop")
            return None
        if len(url) > self._max_url_length:
            stats.inc_value("news/discovery_errors/url_too_long")
            return None
        if len(self._seen_documents) >= self._max_documents:
            stats.inc_value("news/discovery_errors/too_many_documents")
            return None
        self._seen_documents.add(key)
        return Request(
            url,
            callback=self.parse_document,
            errback=self.document_error,
            headers=self._revisits.headers(url),  # a polite revisit (spiders.revisits)
            # a document over DOWNLOAD_MAXSIZE is read up to it (spiders.middlewares.BodyPrefixMiddleware)
            meta={"origin": origin, "depth_level": depth, PREFIX: self._maxsize, "handle_httpstatus_list": [304]},
            priority=5,  # documents before articles: discovery finishes early, memory stays flat
        )

    def parse_document(self, response: Response) -> Iterator[Request | PageItem]:
        stats = self.crawler.stats
        if response.status == 304:  # unchanged since the previous crawl read it: its entries, without parsing
            yield from self._not_modified(response.request.url)
            return
        stats.inc_value("news/documents")
        body = response.body
        truncated = "download_stopped" in response.flags  # cut at DOWNLOAD_MAXSIZE
        if body[:2] == b"\x1f\x8b":  # a .xml.gz served as is (not as Content-Encoding)
            try:
                body, cut = gunzip_bounded(body, self._maxsize)
            except zlib.error:
                stats.inc_value("news/discovery_errors/bad_gzip")
                return
            truncated = truncated or cut
        doc = parse_document(body, response.url, self._max_entries, truncated)
        if truncated or doc.overflow:  # entries lost past the size limit, or seen past the entry limit
            stats.inc_value("news/discovery_errors/truncated")
            at_size = "download_stopped" in response.flags or (self._maxsize and len(body) >= self._maxsize)
            self.logger.warning("discovery document %s truncated at its %s", response.url,
                                "entry limit" if doc.overflow else "size limit" if at_size
                                else "end (a gzip stream cut short)")  # fmt: skip
        if doc.error:
            stats.inc_value(f"news/discovery_errors/{doc.error}")
            if doc.kind is None:
                self.logger.warning("unusable discovery document %s: %s", response.url, doc.error)
                return
        depth = response.meta.get("depth_level", 0)
        origin = response.meta.get("origin", "")
        if doc.kind != "sitemapindex" and not (truncated or doc.overflow or doc.error):
            entries = [[e.url, e.date_hint.isoformat() if e.date_hint else None, e.date_hint_is_published, e.news,
                        self._discovered_by(doc, e, origin)] for e in doc.entries]  # fmt: skip
            self._revisits.read(response.request.url, response.headers, entries)  # asked with by the next crawl
        if doc.kind == "sitemapindex":
            yield from self._follow_index(doc, origin or "sitemap", depth)
            if doc.overflow:
                stats.inc_value("news/discovery_errors/sitemaps_over_entry_limit", len(doc.overflow))
            return
        for entry in doc.entries:
            yield from self._consider(entry, self._discovered_by(doc, entry, origin))
        for entry in doc.overflow:
            yield from self._consider(entry, self._discovered_by(doc, entry, origin), fetch=False)

    def _not_modified(self, url: str) -> Iterator[Request | PageItem]:
        """A 304: the entries the previous crawl read in the document, considered for this window (no parsing)."""
        self.crawler.stats.inc_value("news/not_modified")
        entries = self._revisits.replay(url)
        self._revisits.not_modified(url)
        for link, hint, published, news, discovered_by in entries:
            try:
                when = datetime.fromisoformat(hint) if hint else None
            except (TypeError, ValueError):
                when = None
            yield from self._consider(Entry(str(link), when, bool(published), bool(news)), str(discovered_by))

    def _follow_index(self, doc: Document, origin: str, depth: int) -> Iterator[Request]:
        stats = self.crawler.stats
        if depth + 1 > self._max_depth:
            stats.inc_value("news/discovery_errors/sitemap_too_deep")
            return
        for entry in doc.entries:
            if entry.date_hint is not None and entry.date_hint < self._from:
                stats.inc_value("news/sitemaps_skipped_old")  # nothing in it changed since before the window
                continue
            if not self._allowed_host(entry.url):
                stats.inc_value("news/discovery_errors/offsite_sitemap")
                continue
            child_origin = "robots-child" if origin in ("robots", "robots-child") else "sitemap-child"
            if request := self._document_request(entry.url, child_origin, depth + 1):
                yield request
            elif child_origin == "robots-child":
                stats.inc_value("news/discovery_errors/sitemap_loop")

    @staticmethod
    def _discovered_by(doc: Document, entry: Entry, origin: str) -> str:
        if doc.kind in ("rss", "atom"):
            return doc.kind
        if entry.news:
            return "news-sitemap"
        return "robots-sitemap" if origin.startswith("robots") else "sitemap"

    def document_error(self, failure: Failure) -> None:
        reason = failure_reason(failure)
        self.crawler.stats.inc_value(f"news/discovery_errors/{reason}")
        self.logger.warning("discovery document %s failed: %s", failure.request.url, reason)

    # -- articles ------------------------------------------------------------------------------------

    def _consider(
        self, entry: Entry, discovered_by: str, fetch: bool = True, archive: Candidate | None = None
    ) -> Iterator[Request | PageItem]:
        """Fetch an entry, or yield its reject: seen before, off-site, denied, or dated outside the window;
        `fetch` False (past its document's entry limit): `entry_limit` where it would have been fetched.
        `archive`: the entry is a capture in a web archive, fetched from there."""
        stats = self.crawler.stats
        key = strip_tracking(entry.url)
        if archive is None and self._candidates and digest(key) in self._archived:
            stats.inc_value("news/archive/live_skipped")  # the archive provides it: the live site is not asked
            return
        if (seen := digest(key)) in self._seen_urls:
            stats.inc_value("news/duplicates")
            return
        self._seen_urls.add(seen)
        stats.inc_value("news/discovered")
        if reason := self._url_reason(entry.url):
            yield _reject(entry, key, discovered_by, reason)
            return
        hint = entry.date_hint
        # A publication date outside the window settles it; a modification date only rules out the past.
        if hint is not None and (hint < self._from or (entry.date_hint_is_published and hint >= self._to)):
            if self._index_skipped:
                yield _reject(entry, key, discovered_by, "out_of_window")
            else:
                stats.inc_value("news/rejected/out_of_window")
            return
        modified = None if entry.date_hint_is_published else hint
        if reason := self._earlier.skip_reason({key, entry.url}, modified):
            yield _reject(entry, key, discovered_by, reason)  # captured on an earlier day and not modified since
            return
        stats.inc_value("news/in_window")
        if not fetch:
            yield _reject(entry, key, discovered_by, "entry_limit")
            return
        # A tuple, not the item (built on the answer): the scheduler keeps it as it is while the request waits.
        article = (entry.url, discovered_by, entry.date_hint, entry.date_hint_is_published)
        if archive is None:
            yield Request(entry.url, callback=self.parse_article, errback=self.article_error, meta={ARTICLE: article})
            return
        meta = {ARTICLE: article, ARCHIVE: (archive.archive, archive.captured_at, archive.archive_url),
                "autothrottle_dont_adjust_delay": True}  # fmt: skip
        headers, ranged = None, archive.offset is not None and bool(archive.length)
        if ranged:  # one record of a WARC file (Common Crawl); the URL is the file's, shared by many records,
            # so the request filter (fingerprints without headers) must not take them for one: the URL was checked
            headers = {"Range": f"bytes={archive.offset}-{archive.offset + archive.length - 1}"}
            meta[RANGE] = True
        yield Request(
            archive.archive_url, callback=self.parse_article, errback=self.article_error, meta=meta, headers=headers,
            dont_filter=ranged,
        )  # fmt: skip

    def _allowed_host(self, url: str) -> bool:
        host = host_of(url)
        return in_domains(host, self.allowed_domains) and (
            host in self.source.configured_hosts or not is_blocked_address(host)
        )

    def _url_reason(self, url: str) -> str | None:
        if len(url) > self._max_url_length:  # Scrapy's UrlLengthMiddleware would drop it without a word
            return "url_too_long"
        host = host_of(url)
        if not in_domains(host, self.allowed_domains):
            return "offsite"
        if host not in self.source.configured_hosts and is_blocked_address(host):
            return "blocked_address"
        if any(p.search(url) for p in self._deny):
            return "denied_pattern"
        if self._allow and not any(p.search(url) for p in self._allow):
            return "not_article_pattern"
        return None

    # The article callbacks return a list rather than yield: Scrapy parses the source of a generator callback
    # on every call to warn about `return value` in it (its cache misses for per-request bound methods),
    # which cost more than the rest of the callback.

    def parse_article(self, response: Response) -> Any:
        """The page's item (a list of one), or, for a page past NEWS_PAGE_THREAD_FROM bytes, a coroutine
        (Scrapy awaits it) that reads it in a worker thread."""
        self.crawler.stats.inc_value("news/fetched")
        item = _article_item(response.meta[ARTICLE])
        item.status = response.status
        item.fetched_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if ARCHIVE in response.meta:
            reason = self._from_archive(item, response)
            if not reason and response.meta.get(RANGE):
                captured, reason = archived_response(response, item.url)
                response = captured or response
            if reason:
                item.content_hash = hashlib.sha256(response.body).hexdigest()
                item.canonical_url = strip_tracking(item.url)
                return [item.reject(reason)]
        else:
            item.url = response.url
        body = response.body
        content_type = (response.headers.get(b"Content-Type") or b"").split(b";")[0].strip().lower()
        reason = None
        if not body or body.isspace():
            reason = "empty_body"
        elif content_type and content_type not in HTML_TYPES or not isinstance(response, TextResponse):
            reason = "not_html"
        if reason:
            item.content_hash = hashlib.sha256(body).hexdigest()
            item.canonical_url = strip_tracking(item.url)
            return [item.reject(reason)]
        if len(body) < self._thread_from:
            return [self._described(item, response, *_read(response, item.url))]
        return self._read_in_thread(item, response)

    def _from_archive(self, item: PageItem, response: Response) -> str | None:
        """Record where an archived page came from; a reason if the capture is not of the page asked for.

        The archive answers a capture time it does not hold with a redirect to the nearest capture of the same
        URL (kept, with that capture's time), and a capture that was a redirect with the capture of its
        target: another page, `archive_redirect`."""
        stats = self.crawler.stats
        item.archive, item.captured_at, item.archive_url = response.meta[ARCHIVE]
        stats.inc_value("news/archive/fetched")
        if response.url == item.archive_url:
            return None
        item.archive_url = response.url
        moved = _WAYBACK_PATH.search(response.url)
        if not moved or strip_tracking(normalise_original(moved.group(2))) != strip_tracking(item.url):
            stats.inc_value("news/archive/redirects")
            return "archive_redirect"
        stamp = moved.group(1)
        item.captured_at = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[8:10]}:{stamp[10:12]}:{stamp[12:14]}Z"
        stats.inc_value("news/archive/other_capture_time")
        return None

    async def _read_in_thread(self, item: PageItem, response: Response) -> list[PageItem]:
        try:
            read = await asyncio.wait_for(asyncio.to_thread(_read, response, item.url), self._page_budget)
        except TimeoutError:  # the thread ends on its own (its work is linear in a bounded page)
            self.logger.warning("reading %s took over %s s: stored without its metadata", response.url,
                                self._page_budget)  # fmt: skip
            read = (hashlib.sha256(response.body).hexdigest(), None, strip_tracking(item.url), "over_budget")
        return [self._described(item, response, *read)]

    def _described(
        self, item: PageItem, response: Response, content_hash: str, published: Any, canonical: str, how: str
    ) -> PageItem:
        item.content_hash = content_hash
        self.crawler.stats.inc_value(f"news/metadata/{how}")
        item.published, item.canonical_url = iso(published), canonical
        item.body = response.body
        item.protocol = response.protocol or "HTTP/1.1"
        item.response_headers = _headers(response.headers)
        item.request_method = response.request.method if response.request else "GET"
        item.request_headers = _headers(response.request.headers) if response.request else []
        return item

    def article_error(self, failure: Failure) -> list[PageItem]:
        item = _article_item(failure.request.meta[ARTICLE])
        item.canonical_url = strip_tracking(item.url)  # the entry's, as discovery had it
        archived = failure.request.meta.get(ARCHIVE)
        if archived:
            item.archive, item.captured_at, item.archive_url = archived
        if isinstance(failure.value, HttpError):
            item.status = failure.value.response.status
            if archived:
                item.archive_url = failure.value.response.url
            else:
                item.url = failure.value.response.url
        item.fetched_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        reason = failure_reason(failure)
        if archived:  # the archive's answer, not the site's: an error capture, a missing one, a refusal
            self.crawler.stats.inc_value("news/archive/errors")
            reason = f"archive_{reason}"
        return [item.reject(reason)]


def _read(response: Response, url: str) -> tuple[str, datetime | None, str, str]:
    """(content hash, published date, canonical URL, how they were read) of an article page at `url` (its
    original URL: an archived page's relative links are the site's)."""
    body = response.body
    return hashlib.sha256(body).hexdigest(), *pages.read(body, url, lambda: response.selector)


def _article_item(article: tuple[str, str, datetime | None, bool]) -> PageItem:
    """The item of an article request, built when its answer arrives from what the request carries."""
    url, discovered_by, hint, published = article
    return PageItem(url=url, discovered_by=discovered_by, date_hint=iso(hint), date_hint_is_published=published)


def _reject(entry: Entry, key: str, discovered_by: str, reason: str) -> PageItem:
    """The index line of an entry not fetched."""
    item = PageItem(
        url=entry.url,
        canonical_url=key,
        discovered_by=discovered_by,
        date_hint=iso(entry.date_hint),
        date_hint_is_published=entry.date_hint_is_published,
    )
    return item.reject(reason)


def _headers(headers: Any) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, values in headers.items() for v in values]


def failure_reason(failure: Failure) -> str:
    """A short, stable reason for a failed download."""
    return exception_reason(failure.value)
