"""A running crawl's progress in its log, every NEWS_PROGRESS_SECONDS, and once more when it closes.

Scrapy's own LogStats says how many responses and items per minute; an operator watching a task log needs
the news counts: what discovery found, what was fetched and stored, what failed and why, what is still
queued, and the rate. `spiders.crawl` relays these lines into the Airflow task log.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall

from spiders.extensions import fetch_failures

log = logging.getLogger(__name__)
PREFIX = "crawl progress:"  # the relay and the tests find the lines by it


def progress_line(stats: dict[str, Any], elapsed: float, recent_rate: float | None = None) -> str:
    """E.g. "crawl progress: 40 discovered, 31 fetched, 30 stored, 2 failed (http_503 1, timeout 1), …"."""

    def by_prefix(prefix: str) -> dict[str, int]:
        return {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}

    failed = fetch_failures(by_prefix("news/rejected/")) | {
        f"{reason} (feed/sitemap)": n for reason, n in fetch_failures(by_prefix("news/discovery_errors/")).items()
    }
    reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(failed.items(), key=lambda kv: (-kv[1], kv[0])))
    fetched = stats.get("news/fetched", 0)
    queued = stats.get("scheduler/enqueued", 0) - stats.get("scheduler/dequeued", 0)
    rate = f"{fetched / elapsed:.1f} pages/s" if elapsed > 0 else "0.0 pages/s"
    if recent_rate is not None:
        rate += f" ({recent_rate:.1f} in the last interval)"
    return (
        f"{PREFIX} {stats.get('news/discovered', 0)} discovered, {stats.get('news/in_window', 0)} in window, "
        f"{fetched} fetched, {stats.get('news/stored', 0)} stored, "
        f"{sum(failed.values())} failed{f' ({reasons})' if reasons else ''}, {queued} queued, "
        f"{stats.get('news/documents', 0)} feeds/sitemaps read; {rate}, {elapsed:.0f} s elapsed"
    )


class ProgressExtension:
    """Logs `progress_line` every `interval` seconds while the spider runs, and at its close."""

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler, self.interval = crawler, interval
        self.timer = LoopingCall(self.log_progress)
        self.started = self.last_time = time.monotonic()
        self.last_fetched = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        interval = crawler.settings.getfloat("NEWS_PROGRESS_SECONDS")
        if interval <= 0:
            raise NotConfigured("no progress lines")
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self) -> None:
        self.started = self.last_time = time.monotonic()
        self.timer.start(self.interval, now=False)

    def log_progress(self) -> None:
        stats, now = self.crawler.stats.get_stats(), time.monotonic()
        fetched = stats.get("news/fetched", 0)
        recent = (fetched - self.last_fetched) / max(now - self.last_time, 1e-9)
        self.last_fetched, self.last_time = fetched, now
        log.info(progress_line(stats, now - self.started, recent))

    def spider_closed(self, reason: str) -> None:
        if self.timer.running:
            self.timer.stop()
        line = progress_line(self.crawler.stats.get_stats(), time.monotonic() - self.started)
        log.info("%s; finished: %s", line, reason)
