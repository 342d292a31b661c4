"""Extensions: write `summary.json` when the crawl ends, then upload the output folder to S3 if asked."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

log = logging.getLogger(__name__)


def summary_from_stats(stats: dict[str, Any]) -> dict[str, Any]:
    def by_prefix(prefix: str) -> dict[str, int]:
        return {k[len(prefix) :]: v for k, v in sorted(stats.items()) if k.startswith(prefix)}

    return {
        "discovered": stats.get("news/discovered", 0),
        "in_window": stats.get("news/in_window", 0),
        "fetched": stats.get("news/fetched", 0),
        "stored": stats.get("news/stored", 0),
        "rejected": by_prefix("news/rejected/"),
        "duplicates": stats.get("news/duplicates", 0),
        "earlier_captures": stats.get("news/earlier_captures", 0),  # URLs loaded from earlier days' indexes
        "bytes": stats.get("news/bytes", 0),
        "out_of_window_skipped": stats.get("news/rejected/out_of_window", 0),
        "sitemaps_skipped_old": stats.get("news/sitemaps_skipped_old", 0),
        "documents": stats.get("news/documents", 0),
        "discovery_errors": by_prefix("news/discovery_errors/"),
        "refused": by_prefix("news/refused/"),
        "retries": stats.get("retry/count", 0),
        "spider_errors": stats.get("spider_exceptions/count", 0),  # bugs, not bad input: should stay 0
        "warc_files": stats.get("news/warc_files", []),
        "elapsed_seconds": stats.get("elapsed_time_seconds"),  # set by CoreStats, which runs first
    }


class SummaryExtension:
    """Writes `summary.json` (counts from the crawl stats) into NEWS_OUT_DIR and logs it."""

    def __init__(self, crawler: Crawler, folder: Path) -> None:
        self.crawler, self.folder = crawler, folder

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        folder = crawler.settings.get("NEWS_OUT_DIR")
        if not folder:
            raise NotConfigured("NEWS_OUT_DIR is not set")
        ext = cls(crawler, Path(folder))
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Spider, reason: str) -> None:
        s = self.crawler.settings
        summary = {
            "source": s.get("NEWS_SOURCE_NAME"),
            "window": [s.get("NEWS_WINDOW_START"), s.get("NEWS_WINDOW_END")],
            "out": s.get("NEWS_OUT") or str(self.folder),
            **summary_from_stats(self.crawler.stats.get_stats()),
            "finish_reason": reason,
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
        log.info("crawl summary: %s", json.dumps(summary, default=str))
        print(f"news: wrote {summary['stored']} pages to {summary['out']}", flush=True)


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
