"""Downloader middlewares: refuse requests to internal addresses, and retry 429/5xx with backoff."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Coroutine
from email.utils import parsedate_to_datetime
from time import time
from typing import Any, Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from spiders.urls import in_domains, is_blocked_address

log = logging.getLogger(__name__)


class Refused(IgnoreRequest):
    """A request the crawler will not make; `reason` ends up in the index and the stats."""

    def __init__(self, reason: str, url: str) -> None:
        super().__init__(f"refused ({reason}): {url}")
        self.reason = reason


class HostGuardMiddleware:
    """Refuses redirects off the allowed domains, and any request to a private, loopback, link-local or
    metadata address that is not one of the source's configured hosts (checked after DNS resolution too).

    It runs before every other downloader middleware, so a refused request never opens a connection,
    not even for robots.txt.
    """

    def __init__(self, crawler: Crawler) -> None:
        s = crawler.settings
        self.stats = crawler.stats
        self.trusted = {h.lower() for h in s.getlist("NEWS_CONFIGURED_HOSTS")}
        self.allowed = [d.lower() for d in s.getlist("NEWS_ALLOWED_DOMAINS")] + sorted(self.trusted)
        self.resolve = s.getbool("NEWS_GUARD_RESOLVE", True)
        self._resolved: dict[str, bool] = {}  # host -> resolves to an internal address

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> Coroutine[Any, Any, None] | None:
        # Synchronous on the hot path (configured hosts); a coroutine only when DNS must be consulted.
        host = (urlparse_cached(request).hostname or "").lower()
        if host in self.trusted:
            return None
        if is_blocked_address(host):
            self._refuse("blocked_address", request)
        if request.meta.get("redirect_urls") and not in_domains(host, self.allowed):
            self._refuse("offsite_redirect", request)
        if self.resolve and self._resolved.get(host) is not False:
            return self._check_resolved(host, request)
        return None

    async def _check_resolved(self, host: str, request: Request) -> None:
        if await self._resolves_internal(host):
            self._refuse("blocked_address", request)

    def _refuse(self, reason: str, request: Request) -> None:
        self.stats.inc_value(f"news/refused/{reason}")
        log.info("refused %s (%s)", request.url, reason)
        raise Refused(reason, request.url)

    async def _resolves_internal(self, host: str) -> bool:
        if host in self._resolved:
            return self._resolved[host]
        try:
            ipaddress.ip_address(host)
            return False  # a literal address was already judged
        except ValueError:
            pass
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None)
        except (OSError, UnicodeError):
            return False  # the download fails on its own, with a DNS error
        self._resolved[host] = any(is_blocked_address(str(info[4][0])) for info in infos)
        return self._resolved[host]


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, waiting before each one: `Retry-After` when the server sends it (capped at
    RETRY_AFTER_MAX), else exponential backoff (RETRY_BACKOFF_BASE * 2**attempt, capped at RETRY_BACKOFF_MAX).
    """

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE")
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX")
        self.after_max = settings.getfloat("RETRY_AFTER_MAX")

    def process_response(self, request: Request, response: Response) -> Any:
        result = super().process_response(request, response)
        # Only a retry waits; every other response passes through without a coroutine.
        return self._wait(request, response, result) if isinstance(result, Request) else result

    def process_exception(self, request: Request, exception: Exception) -> Any:
        result = super().process_exception(request, exception)
        return self._wait(request, None, result) if isinstance(result, Request) else result

    async def _wait(self, request: Request, response: Response | None, retry: Request) -> Request:
        delay = self.base * 2 ** request.meta.get("retry_times", 0)
        delay = min(delay, self.backoff_max)
        if response is not None and (header := response.headers.get(b"Retry-After")):
            after = retry_after_seconds(header.decode("latin-1"))
            if after is not None:
                delay = min(max(after, 0.0), self.after_max)
                self.crawler.stats.inc_value("news/retry_after_honoured")
        if delay > 0:
            await asyncio.sleep(delay)
        return retry


def retry_after_seconds(value: str) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return parsedate_to_datetime(value).timestamp() - time()
    except (TypeError, ValueError, IndexError):
        return None
