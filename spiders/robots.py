"""robots.txt: fetched once per site and crawl, obeyed as RFC 9309 says, its Crawl-delay honoured.

`RobotsTxt` (one per crawl, shared by the spider, which reads its `Sitemap:` lines, and by the middleware,
which obeys it) fetches a site's robots.txt the first time anything asks for it, through Scrapy's engine (so
the address guard, retries and redirects apply to it as to any request), and keeps what it said:

| answer                                                                | status      | the site's requests |
| --------------------------------------------------------------------- | ----------- | ------------------- |
| 2xx                                                                   | fetched     | its rules (Protego) |
| 2xx over NEWS_ROBOTS_MAX_BYTES (the first 512 KiB are parsed)         | truncated   | the rules read      |
| 4xx (429 excepted), or more redirects than REDIRECT_MAX_TIMES         | missing     | all allowed         |
| 429 or 5xx after the retries, a timeout, a DNS or connection error,   | unreachable | all refused:        |
| a redirect the address guard refused                                  |             | `robots_unreachable`|
| its own host refused by the address guard                             | blocked     | `blocked_address`   |

An unreachable robots.txt is counted as a discovery error (`robots_txt_unreachable`): the day may lack that
site's articles. `Crawl-delay` for our user agent (capped at NEWS_ROBOTS_MAX_CRAWL_DELAY, a longer one
counted) becomes the least delay of the site's download slot, with no random jitter below it: AutoThrottle
may raise the delay, never lower it under the site's.

The same first visit fetches the site's TDMRep file, `/.well-known/tdmrep.json` (NEWS_TDMREP; at most
NEWS_TDMREP_MAX_BYTES), once per site and crawl. What robots.txt and tdmrep.json said is written at the end of
the crawl to `sites.jsonl.gz` in the raw partition (one line per site: their status and text), so that the clean
stage derives each article's rights (robots.txt rules for AI user agents, TDM reservations) from the raw
partition alone, and a re-clean without the network derives them again.
"""

from __future__ import annotations

import gzip
import json
import logging
import weakref
from dataclasses import dataclass, field
from typing import Self
from urllib.parse import urlsplit

from protego import Protego
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from ingest.rights import SITES_FILE
from spiders.middlewares import PREFIX, ROBOTS_TXT
from spiders.outdir import OutDirExtension
from spiders.reasons import Refused, exception_reason

log = logging.getLogger(__name__)
_BY_CRAWLER: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass
class SiteRules:
    """What one site's robots.txt says for this crawl."""

    status: str  # fetched, truncated, missing, unreachable, blocked
    rules: Protego | None = None
    crawl_delay: float = 0.0
    sitemaps: list[str] = field(default_factory=list)
    cause: str | None = None  # why it is unreachable (http_503, timeout, blocked_address, …)
    text: str | None = None  # the robots.txt read (kept for the clean stage's rights)
    tdmrep: dict = field(default_factory=dict)  # {"status": fetched|missing|unreachable|too_large, "text": …}

    def refusal(self, url: str, user_agent: str) -> str | None:
        """Why `url` must not be fetched, or None."""
        if self.status == "unreachable":
            return "robots_unreachable"
        if self.status == "blocked":
            return "blocked_address"
        if self.rules is not None and not self.rules.can_fetch(url, user_agent):
            return "robots_disallowed"
        return None


class RobotsTxt:
    """The crawl's robots.txt files, each fetched once (concurrent askers wait for the one fetch)."""

    def __init__(self, crawler: Crawler) -> None:
        s = crawler.settings
        self.crawler = crawler
        self.user_agent = s.get("ROBOTSTXT_USER_AGENT") or s.get("USER_AGENT")
        self.max_bytes = s.getint("NEWS_ROBOTS_MAX_BYTES")
        self.max_delay = s.getfloat("NEWS_ROBOTS_MAX_CRAWL_DELAY")
        self.tdmrep = s.getbool("NEWS_TDMREP", True)
        self.tdmrep_max_bytes = s.getint("NEWS_TDMREP_MAX_BYTES", 64 * 1024)
        self.known: dict[str, SiteRules] = {}  # origin (scheme://netloc) -> rules
        self._pending: dict[str, list[Deferred[SiteRules]]] = {}

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> Self:
        if crawler not in _BY_CRAWLER:
            _BY_CRAWLER[crawler] = cls(crawler)
        return _BY_CRAWLER[crawler]

    async def rules(self, origin: str) -> SiteRules:
        """The rules of `origin` (scheme://host[:port]), fetching its robots.txt the first time."""
        if origin in self.known:
            return self.known[origin]
        if origin in self._pending:
            waiter: Deferred[SiteRules] = Deferred()
            self._pending[origin].append(waiter)
            return await maybe_deferred_to_future(waiter)
        self._pending[origin] = []
        try:
            rules = await self._fetch(origin)
        except Exception as e:  # noqa: BLE001 - a bug here must not leave the site's requests waiting forever
            log.exception("reading robots.txt of %s failed", origin)
            rules = SiteRules("unreachable", cause=type(e).__name__.lower())
        self.known[origin] = rules
        for other in self._pending.pop(origin):
            other.callback(rules)
        return rules

    async def _fetch(self, origin: str) -> SiteRules:
        stats = self.crawler.stats
        request = Request(
            f"{origin}/robots.txt",
            callback=NO_CALLBACK,
            headers={"Accept-Encoding": "identity"},  # a prefix of a compressed body may not decompress
            meta={"dont_obey_robotstxt": True, ROBOTS_TXT: True, PREFIX: self.max_bytes},
            priority=1000,
            dont_filter=True,
        )
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as e:  # noqa: BLE001 - every failure is an answer under RFC 9309
            rules = self._failed(origin, e)
        else:
            rules = self._answered(response)
        stats.inc_value(f"news/robots/{rules.status}")
        # a web archive's host (NEWS_ARCHIVE_HOSTS, set by the spider) is not the publisher: its tdmrep.json says
        # nothing of the pages it holds, so it is not asked
        archive = (urlsplit(origin).hostname or "") in self.crawler.settings.getlist("NEWS_ARCHIVE_HOSTS")
        if self.tdmrep and not archive and rules.status in ("fetched", "truncated", "missing"):
            if rules.crawl_delay:  # the site's Crawl-delay holds for tdmrep.json too: its slot waits
                slot = self.crawler.engine.downloader.slots.get(urlsplit(origin).hostname or "")
                if slot is not None:
                    slot.delay, slot.jitter = max(slot.delay, rules.crawl_delay), 0.0
            rules.tdmrep = await self._fetch_tdmrep(origin)
            stats.inc_value(f"news/tdmrep/{rules.tdmrep['status']}")
        if rules.status == "unreachable":
            stats.inc_value("news/discovery_errors/robots_txt_unreachable")
            log.warning("robots.txt of %s is unreachable (%s): nothing of the site is fetched", origin, rules.cause)
        return rules

    async def _fetch_tdmrep(self, origin: str) -> dict:
        """The site's TDMRep file (W3C TDMRep community group report): its status and text."""
        request = Request(
            f"{origin}/.well-known/tdmrep.json",
            callback=NO_CALLBACK,
            headers={"Accept-Encoding": "identity", "Accept": "application/json"},
            meta={"dont_obey_robotstxt": True, ROBOTS_TXT: True, PREFIX: self.tdmrep_max_bytes + 1},
            priority=1000,
            dont_filter=True,
        )
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as e:  # noqa: BLE001 - a missing file is the usual answer, any failure is recorded
            return {"status": "unreachable", "cause": exception_reason(e)}
        if response.status >= 400 or response.status < 200:
            return {"status": "missing" if 400 <= response.status < 500 else "unreachable",
                    "cause": f"http_{response.status}"}  # fmt: skip
        if len(response.body) > self.tdmrep_max_bytes or "download_stopped" in response.flags:
            return {"status": "too_large"}
        return {"status": "fetched", "text": response.body.decode("utf-8", "replace")}

    def facts(self) -> list[dict]:
        """What each site's robots.txt and tdmrep.json said in this crawl (the lines of `sites.jsonl.gz`)."""
        return [
            {"origin": origin, "robots": {"status": r.status, "cause": r.cause, "text": r.text}, "tdmrep": r.tdmrep}
            for origin, r in sorted(self.known.items())
        ]

    def _failed(self, origin: str, error: Exception) -> SiteRules:
        cause = exception_reason(error)
        if cause == "too_many_redirects":
            return SiteRules("missing", cause=cause)  # RFC 9309 2.3.1.2: may be taken as unavailable
        if isinstance(error, Refused) and cause == "blocked_address" and _origin(error.url) == origin:
            return SiteRules("blocked", cause=cause)  # the site itself is internal, not its robots.txt
        return SiteRules("unreachable", cause=cause)

    def _answered(self, response: Response) -> SiteRules:
        status = response.status
        if status == 429 or status >= 500:
            return SiteRules("unreachable", cause=f"http_{status}")
        if status >= 400:
            return SiteRules("missing", cause=f"http_{status}")
        body = response.body[: self.max_bytes]
        truncated = len(response.body) > self.max_bytes or "download_stopped" in response.flags
        if truncated:
            body = body[: body.rfind(b"\n") + 1]  # a cut line could read as a shorter rule
        rules = Protego.parse(body.decode("utf-8", "replace"))
        delay = rules.crawl_delay(self.user_agent) or 0.0
        if delay > self.max_delay:
            self.crawler.stats.inc_value("news/robots/crawl_delay_capped")
            delay = self.max_delay
        sitemaps = list(dict.fromkeys(rules.sitemaps))
        text = body.decode("utf-8", "replace")
        return SiteRules("truncated" if truncated else "fetched", rules, float(delay), sitemaps, text=text)


class RobotsTxtPolicyMiddleware:
    """Obeys each site's robots.txt (ROBOTSTXT_OBEY), in place of Scrapy's RobotsTxtMiddleware: the first
    request to a site waits for its one fetch (see RobotsTxt), later ones are checked at once. A refused
    request raises Refused with its reason, so its errback indexes it. Requests carrying
    `dont_obey_robotstxt` pass (the robots.txt fetches themselves).

    The site's Crawl-delay is the least delay of its download slot: set when its rules arrive, set again
    after every response (AutoThrottle adjusts the slot's delay then; this handler is connected after it,
    so it has the last word) and whenever a request finds the slot recreated.
    """

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        self.crawler = crawler
        self.robots = RobotsTxt.for_crawler(crawler)
        self.delays: dict[str, float] = {}  # download slot (host) -> its site's Crawl-delay
        crawler.signals.connect(self._response_downloaded, signal=signals.response_downloaded)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request):  # noqa: ANN201 - None, or a coroutine when it must wait
        if request.meta.get("dont_obey_robotstxt"):
            return None
        origin = _origin(request.url)
        if (rules := self.robots.known.get(origin)) is None:
            return self._wait_and_check(origin, request)
        self._check(rules, request)
        return None

    async def _wait_and_check(self, origin: str, request: Request) -> None:
        rules = await self.robots.rules(origin)
        if rules.crawl_delay:
            self.delays[urlparse_cached(request).hostname or ""] = rules.crawl_delay
        self._check(rules, request)

    def _check(self, rules: SiteRules, request: Request) -> None:
        if reason := rules.refusal(request.url, self.robots.user_agent):
            self.crawler.stats.inc_value(f"news/refused/{reason}")
            raise Refused(reason, request.url)
        if rules.crawl_delay:
            self._floor_delay(urlparse_cached(request).hostname or "", rules.crawl_delay)

    def _response_downloaded(self, request: Request) -> None:
        host = urlparse_cached(request).hostname or ""
        if delay := self.delays.get(host):
            self._floor_delay(host, delay)

    def _floor_delay(self, host: str, delay: float) -> None:
        self.delays[host] = delay
        slot = self.crawler.engine.downloader.slots.get(host)  # the slot key is the host (Scrapy's default)
        if slot is not None and (slot.delay < delay or slot.jitter):
            slot.delay, slot.jitter = max(slot.delay, delay), 0.0


class SiteFactsExtension(OutDirExtension):
    """Writes `sites.jsonl.gz` (RobotsTxt.facts) into NEWS_OUT_DIR when the crawl ends, before the upload."""

    def spider_closed(self) -> None:
        facts = RobotsTxt.for_crawler(self.crawler).facts()
        if not facts:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with gzip.open(self.folder / SITES_FILE, "wt", encoding="utf-8") as fh:
            fh.writelines(json.dumps(f, sort_keys=True) + "\n" for f in facts)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
