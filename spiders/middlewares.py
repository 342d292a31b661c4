"""Downloader middlewares: refuse what must not be fetched, read a prefix of oversized answers, and retry
429/5xx with backoff."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Coroutine
from email.utils import parsedate_to_datetime
from time import time
from typing import Any, Self

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import CannotResolveHostError, StopDownload
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import load_object
from twisted.internet.error import DNSLookupError

from spiders.reasons import Refused
from spiders.resolver import BlockedAddressError, GuardedResolver
from spiders.urls import in_domains, is_blocked_address

log = logging.getLogger(__name__)

REFUSE = "news_refuse"  # request meta: refuse this request with this reason (set by the duplicate filter)
ROBOTS_TXT = "news_robots_txt"  # request meta: a robots.txt fetch (spiders.robots)


class HostGuardMiddleware:
    """Refuses what the crawler must not fetch, before any other downloader middleware sees it (so a refused
    request never opens a connection, not even for robots.txt):

    - a request to a private, loopback, link-local, reserved or metadata address, unless its host is one of
      the source's configured hosts: literal addresses and blocked names at once, host names once resolved.
      The resolving is done by the installed GuardedResolver (TWISTED_DNS_RESOLVER), the one that answers the
      connection too: it checks every answer it gives, so a name that resolves to a public address now and an
      internal one later (DNS rebinding) is refused at connection time, counted `blocked_address` as well;
    - a redirect off the allowed domains (robots.txt excepted: RFC 9309 has crawlers follow its redirects
      across hosts; the address check still applies);
    - a request the duplicate filter let through marked with the reason it would have been dropped for
      (spiders.dedup.REFUSE), so that it ends as an index line rather than nowhere.
    """

    def __init__(self, crawler: Crawler) -> None:
        s = crawler.settings
        self.stats = crawler.stats
        self.trusted = {h.lower() for h in s.getlist("NEWS_CONFIGURED_HOSTS")}
        self.allowed = [d.lower() for d in s.getlist("NEWS_ALLOWED_DOMAINS")] + sorted(self.trusted)
        self.resolve = s.getbool("NEWS_GUARD_RESOLVE", True)
        self._resolved: dict[str, bool] = {}  # host -> resolves to an internal address
        if self.resolve and not issubclass(load_object(s["TWISTED_DNS_RESOLVER"]), GuardedResolver):
            raise ValueError(
                f"TWISTED_DNS_RESOLVER must be spiders.resolver.GuardedResolver (or a subclass) for the address "
                f"guard to check the address connected to, not {s['TWISTED_DNS_RESOLVER']}"
            )
        self.resolver: GuardedResolver | None = None
        crawler.signals.connect(self._spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _spider_opened(self) -> None:
        from twisted.internet import reactor

        if isinstance(resolver := getattr(reactor, "resolver", None), GuardedResolver):
            self.resolver = resolver
            resolver.trust(self.trusted)

    def process_request(self, request: Request) -> Coroutine[Any, Any, None] | None:
        # Synchronous on the hot path (configured hosts); a coroutine only when DNS must be consulted.
        if reason := request.meta.get(REFUSE):
            self._refuse(reason, request)
        host = (urlparse_cached(request).hostname or "").lower()
        if host in self.trusted:
            return None
        if is_blocked_address(host):
            self._refuse("blocked_address", request)
        if (
            request.meta.get("redirect_urls")
            and not request.meta.get(ROBOTS_TXT)
            and not in_domains(host, self.allowed)
        ):
            self._refuse("offsite_redirect", request)
        if self.resolve and self._resolved.get(host) is not False:
            return self._check_resolved(host, request)
        return None

    def process_exception(self, request: Request, exception: Exception) -> None:
        """A connection the resolver refused (the name now resolves internally): `blocked_address`."""
        if isinstance(exception, DNSLookupError | CannotResolveHostError) and self.resolver is not None:
            host = (urlparse_cached(request).hostname or "").lower()
            if host in self.resolver.refused:
                self._refuse("blocked_address", request)

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
        from twisted.internet import reactor

        try:  # through the installed resolver: the answer checked is the one the connection gets
            await maybe_deferred_to_future(reactor.resolve(host))
        except BlockedAddressError:
            self._resolved[host] = True
            return True
        except Exception:  # noqa: BLE001 - not resolvable: the download fails on its own, with a DNS error
            return False
        self._resolved[host] = False
        return False


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


PREFIX = "news_prefix_bytes"  # request meta: read at most about this many bytes of the body, however large
_MAXSIZE = "news_prefix_maxsize"  # the request's download_maxsize, put back before decompression
_SEEN = "news_prefix_seen"


class BodyPrefixMiddleware:
    """Reads the first N bytes (request meta PREFIX) of an answer of any size, instead of losing it whole:
    robots.txt (RFC 9309: parse at least the first 500 KiB) and feeds or sitemaps over DOWNLOAD_MAXSIZE (the
    spider parses what came and counts the document `truncated`).

    The download stops once N bytes came (StopDownload from the bytes_received signal; Scrapy flags the
    answer `download_stopped`). The check of a declared Content-Length against download_maxsize, which would
    cancel the download before its first byte, is lifted for such a request and put back before
    HttpCompressionMiddleware (590), which bounds decompression by it; so this middleware must sit between
    that one and the download handler (its process_response runs first).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        crawler.signals.connect(self._bytes_received, signal=signals.bytes_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        meta = request.meta
        if meta.get(PREFIX):
            meta.setdefault(_MAXSIZE, meta.get("download_maxsize", self.maxsize))  # a redirect keeps the first
            meta["download_maxsize"], meta[_SEEN] = 0, 0

    def process_response(self, request: Request, response: Response) -> Response:
        if _MAXSIZE in request.meta:
            request.meta["download_maxsize"] = request.meta.pop(_MAXSIZE)
        return response

    def _bytes_received(self, data: bytes, request: Request) -> None:
        meta = request.meta
        if limit := meta.get(PREFIX):
            meta[_SEEN] = seen = meta.get(_SEEN, 0) + len(data)
            if seen >= limit:
                raise StopDownload(fail=False)
