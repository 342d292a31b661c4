"""Scrapy's scheduler, with the article requests beyond the first few kept as tuples.

Scrapy queues every discovered article as a Request (~1.3 KiB with its meta and headers) the moment its sitemap
is read, so memory would grow with the number of pages. This scheduler queues the first
NEWS_SCHEDULED_ARTICLES requests as Scrapy does; an article request beyond them, once through the duplicate
filter, waits as a tuple (~200 bytes with its URL): its entry and what the spider middlewares gave it (depth,
Referer, priority), shared by the articles of a sitemap. It is rebuilt, the same request, when the queue has
room. The stats count it as enqueued all along, so a crawl that stops early counts it as unfinished.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request, Spider
from scrapy.core.scheduler import Scheduler
from twisted.internet.defer import Deferred

ARTICLE = "news_article"  # meta of an article request: a tuple, its first item the URL

Shape = tuple[int, bytes | None, int, str, str]  # depth, Referer, priority, callback and errback names


class ArticleScheduler(Scheduler):
    """Scrapy's scheduler, keeping the article requests past NEWS_SCHEDULED_ARTICLES queued ones as tuples."""

    def open(self, spider: Spider) -> Deferred[None] | None:
        assert self.crawler is not None  # built by from_crawler
        self.limit = max(1, self.crawler.settings.getint("NEWS_SCHEDULED_ARTICLES"))
        self._waiting: list[tuple] = []  # last in, first out, as Scrapy's memory queue
        self._shapes: dict[Shape, Shape] = {}
        return super().open(spider)

    def __len__(self) -> int:
        return super().__len__() + len(self._waiting)

    def _mqpush(self, request: Request) -> None:
        if len(self.mqs) >= self.limit and (article := self._compact(request)) is not None:
            self._waiting.append(article)
        else:
            super()._mqpush(request)

    def next_request(self) -> Request | None:
        while self._waiting and len(self.mqs) < self.limit:
            super()._mqpush(self._rebuild(self._waiting.pop()))
        return super().next_request()

    def _compact(self, request: Request) -> tuple | None:
        """(*article, shape) for an article request as the spider middlewares leave it; None for any other
        (a retry or a redirect, with more meta), which is queued as it is."""
        meta, headers = request.meta, request.headers
        article = meta.get(ARTICLE)
        if len(meta) != 2 or "depth" not in meta or not isinstance(article, tuple) or article[0] != request.url:
            return None
        callback, errback = request.callback, request.errback
        if (
            request.method != "GET"
            or request.body
            or request.dont_filter
            or request.flags
            or request.cookies
            or request.cb_kwargs
            or len(headers) > (b"Referer" in headers)
            or getattr(callback, "__self__", None) is not self.spider
            or getattr(errback, "__self__", None) is not self.spider
        ):
            return None
        shape = (meta["depth"], headers.get(b"Referer"), request.priority, callback.__name__, errback.__name__)
        return (*article, self._shapes.setdefault(shape, shape))

    def _rebuild(self, compact: tuple) -> Request:
        depth, referer, priority, callback, errback = compact[-1]
        meta: dict[str, Any] = {ARTICLE: compact[:-1], "depth": depth}
        headers = None if referer is None else {b"Referer": referer}
        spider = self.spider
        return Request(
            compact[0], getattr(spider, callback), headers=headers, meta=meta, priority=priority,
            errback=getattr(spider, errback),
        )  # fmt: skip
