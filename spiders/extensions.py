"""Extensions: write `summary.json` when the crawl ends, then upload the output folder to S3 if asked."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall

from spiders.outdir import OutDirExtension

log = logging.getLogger(__name__)

# Reasons a page or discovery document is not kept that are the crawler's own decision or about the content
# it did get (spider, pipelines, dedup, discovery). Every other reason is a fetch failure: the request got no
# usable answer, an HTTP error status (http_503), a timeout, a DNS or connection error or an exception named
# after its type. A reason missing here therefore shows up as a failure, never hides one.
NOT_FETCH_FAILURES = frozenset({
    # articles: policy before fetching, content after it
    "offsite", "blocked_address", "denied_pattern", "not_article_pattern", "out_of_window", "captured_earlier",
    "duplicate", "no_date", "out_of_window_page", "empty_body", "not_html", "url_too_long", "entry_limit",
    # refused by the crawler's own rules, or a body over DOWNLOAD_MAXSIZE: the server did answer
    "offsite_redirect", "robots_disallowed", "ignored", "too_large", "redirect_to_seen",
    # a web archive's capture of the page was a redirect to another page
    "archive_redirect",
    # discovery documents: fetched, but unusable, cut short or not followed
    "bad_gzip", "sitemap_loop", "too_many_documents", "sitemap_too_deep", "offsite_sitemap",
    "empty_document", "xml_entities_forbidden", "malformed_xml", "not_a_feed_or_sitemap", "truncated",
    "sitemaps_over_entry_limit",
})  # fmt: skip
# Discovery errors that lose nothing: the document was read through another link, or is not the source's.
# Every other one (a fetch failure, a document too large, malformed, refused, too deep, cut short, an
# unreachable robots.txt …) may have hidden articles of the day: `lost_documents` in the summary, which
# makes the report say `published_with_failures`.
LOSSLESS_DISCOVERY_ERRORS = frozenset({"sitemap_loop", "redirect_to_seen", "duplicate", "offsite_sitemap"})


def fetch_failures(by_reason: dict[str, int]) -> dict[str, int]:
    """The fetch failures among counts by reason (see NOT_FETCH_FAILURES)."""
    return {reason: n for reason, n in by_reason.items() if reason not in NOT_FETCH_FAILURES and n}


def summary_from_stats(stats: dict[str, Any]) -> dict[str, Any]:
    def by_prefix(prefix: str) -> dict[str, int]:
        return {k[len(prefix) :]: v for k, v in sorted(stats.items()) if k.startswith(prefix)}

    rejected, discovery_errors = by_prefix("news/rejected/"), by_prefix("news/discovery_errors/")
    return {
        "discovered": stats.get("news/discovered", 0),
        "in_window": stats.get("news/in_window", 0),
        "fetched": stats.get("news/fetched", 0),
        "stored": stats.get("news/stored", 0),
        "rejected": rejected,
        "duplicates": stats.get("news/duplicates", 0),
        "earlier_captures": stats.get("news/earlier_captures", 0),  # URLs loaded from earlier days' indexes
        "bytes": stats.get("news/bytes", 0),
        "out_of_window_skipped": stats.get("news/rejected/out_of_window", 0),
        "sitemaps_skipped_old": stats.get("news/sitemaps_skipped_old", 0),
        "documents": stats.get("news/documents", 0),
        "not_modified": stats.get("news/not_modified", 0),  # feeds and sitemaps answered 304: not parsed
        "discovery_errors": discovery_errors,
        # after retries: article pages (among `rejected`) and feeds or sitemaps (among `discovery_errors`) lost
        "failed_fetches": fetch_failures(rejected),
        "failed_documents": fetch_failures(discovery_errors),
        "lost_documents": {r: n for r, n in discovery_errors.items() if r not in LOSSLESS_DISCOVERY_ERRORS and n},
        "robots_txt": by_prefix("news/robots/"),  # sites by what their robots.txt said (spiders.robots)
        "metadata": by_prefix("news/metadata/"),  # pages by how their date was read: scan, parser, …
        # requests still queued when the crawl ended (0 unless it stopped early, e.g. on its time budget):
        # articles, feeds and sitemaps it knew of but did not fetch; what only those sitemaps list is unknown
        "unfinished": stats.get("scheduler/enqueued", 0) - stats.get("scheduler/dequeued", 0),
        "refused": by_prefix("news/refused/"),
        # pages read from web archives (issue #16): candidates, fetched, redirects, errors, live_skipped
        "archive": by_prefix("news/archive/"),
        "retries": stats.get("retry/count", 0),
        "spider_errors": stats.get("spider_exceptions/count", 0),  # bugs, not bad input: should stay 0
        "warc_files": stats.get("news/warc_files", []),
        "elapsed_seconds": stats.get("elapsed_time_seconds"),  # set by CoreStats, which runs first
    }


class SummaryExtension(OutDirExtension):
    """Writes `summary.json` (counts from the crawl stats) into NEWS_OUT_DIR and logs it."""

    def spider_closed(self, spider: Spider, reason: str) -> None:
        s = self.crawler.settings
        summary = {
            "source": s.get("NEWS_SOURCE_NAME"),
            "window": [s.get("NEWS_WINDOW_START"), s.get("NEWS_WINDOW_END")],
            "out": s.get("NEWS_OUT") or str(self.folder),
            **summary_from_stats(self.crawler.stats.get_stats()),
            "time_budget_seconds": s.getfloat("CLOSESPIDER_TIMEOUT") or None,
            "finish_reason": reason,  # "finished", or e.g. "closespider_timeout" when the time budget ran out
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
        log.info("crawl summary: %s", json.dumps(summary, default=str))
        print(f"news: wrote {summary['stored']} pages to {summary['out']}", flush=True)


class TimerPurgeExtension:
    """Has Twisted drop its cancelled timers every NEWS_TIMER_PURGE_SECONDS.

    Under the asyncio reactor Twisted purges cancelled delayed calls only when one falls due. Every request
    leaves two (its download timeout and its connection's idle timeout, ~160 bytes each), and the first is
    due DOWNLOAD_TIMEOUT seconds on: a fast crawl would hold two per page fetched in that time. A short timer
    falling due makes Twisted purge them (when they are over half its timers, as they are).
    """

    def __init__(self, interval: float) -> None:
        self.timer = LoopingCall(lambda: None)
        self.interval = interval

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        interval = crawler.settings.getfloat("NEWS_TIMER_PURGE_SECONDS")
        if interval <= 0:
            raise NotConfigured("no timer purge")
        ext = cls(interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self) -> None:
        self.timer.start(self.interval, now=False)

    def spider_closed(self) -> None:
        if self.timer.running:
            self.timer.stop()


class S3UploadExtension:
    """Uploads every file of NEWS_OUT_DIR to NEWS_UPLOAD_URL (s3://bucket/prefix) when the crawl ends.

    boto3 reads AWS_ENDPOINT_URL, credentials and region from the environment. Runs after SummaryExtension
    (lower in EXTENSIONS order), so summary.json goes up too.
    """

    def __init__(self, crawler: Crawler, folder: Path, url: str) -> None:
        self.crawler, self.folder = crawler, folder
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        self.bucket, self.prefix = bucket, prefix.strip("/")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        url, folder = crawler.settings.get("NEWS_UPLOAD_URL"), crawler.settings.get("NEWS_OUT_DIR")
        if not url or not folder:
            raise NotConfigured("no upload")
        ext = cls(crawler, Path(folder), url)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Spider) -> None:
        import boto3

        try:
            client = boto3.client("s3")
            for path in sorted(p for p in self.folder.iterdir() if p.is_file()):
                key = f"{self.prefix}/{path.name}" if self.prefix else path.name
                client.upload_file(str(path), self.bucket, key)
                self.crawler.stats.inc_value("news/uploaded_files")
                log.info("uploaded s3://%s/%s", self.bucket, key)
        except Exception as e:  # noqa: BLE001 - any failure must reach the caller through summary.json
            log.error("upload to s3://%s/%s failed: %s", self.bucket, self.prefix, e)
            summary_path = self.folder / "summary.json"
            summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
            summary["upload_error"] = f"{type(e).__name__}: {e}"
            summary_path.write_text(json.dumps(summary, indent=2, default=str) + "\n")
