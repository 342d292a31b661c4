"""Hostile web sites on loopback (issue #12): every case of a page, feed, robots.txt, DNS answer or response
head that once froze a crawl, lost URLs without a reason, or crawled what it should not, beside well-formed
articles that must all be stored.

`HostileWeb(day, cases)` starts one main site (127.0.0.1) whose RSS feed lists every case's URLs, plus the
sites a case needs (each robots.txt case is a site of its own, on its own port; an "internal" service on
127.0.0.2 or 127.0.0.9), all real `ThreadingHTTPServer`s (tests.spider_site). `CASES` maps a case name to
how it is built and what the crawl counted for it; the tests crawl all of them at once
(tests/test_hostile_site.py), bench/hostile.py one at a time.
"""

from __future__ import annotations

import gzip
import resource
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from twisted.internet import defer

from spiders.resolver import GuardedResolver
from tests.spider_site import ALLOW_ALL, Raw, Resp, SpiderSite, html, page, silent

XML = {"Content-Type": "application/xml"}
MAX_ENTRIES = 50  # NEWS_MAX_ENTRIES of the crawls here, so a feed past it stays small
MAXSIZE = 1 << 20  # DOWNLOAD_MAXSIZE of the crawls here
SETTINGS = {
    "NEWS_POLITE": False,
    "DOWNLOAD_TIMEOUT": 5,  # a budget: no healthy answer on loopback takes that long, even on a busy machine
    "RETRY_TIMES": 1,
    "DOWNLOAD_MAXSIZE": MAXSIZE,
    "NEWS_MAX_ENTRIES": MAX_ENTRIES,
    "NEWS_PAGE_THREAD_FROM": 128 * 1024,
}
REBIND_DOMAIN = "rebind.test"
PUBLIC_ADDRESS = "93.184.216.34"  # what the rebinding name answers first (never connected to: see the tests)


def rss(items: list[tuple[str, datetime]], extra: str = "") -> bytes:
    rows = "".join(
        f"<item><title>{escape(url[-40:])}</title><link>{escape(url)}</link>"
        f"<pubDate>{when:%a, %d %b %Y %H:%M:%S} +0000</pubDate></item>"
        for url, when in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>H</title>{rows}{extra}</channel></rss>'.encode()


def urlset(urls: list[tuple[str, datetime]]) -> str:
    rows = "".join(f"<url><loc>{escape(u)}</loc><lastmod>{w.isoformat()}</lastmod></url>" for u, w in urls)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'


class HostileWeb:
    """The sites of a crawl holding the given cases (all by default) and the well-formed articles."""

    def __init__(self, day: date, cases: list[str] | None = None) -> None:
        self.day = day
        self.at = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
        self.sites: list[SpiderSite] = []
        self.main = self.site()
        self.feed: list[tuple[str, datetime]] = []  # the main feed's items
        self.feeds = [f"{self.main.base}/feed.xml"]
        self.sitemaps: list[str] = []
        self.allowed = ["127.0.0.1"]
        self.settings: dict[str, Any] = dict(SETTINGS)
        self.good: list[str] = []  # URLs that must be stored
        self.cases = list(CASES) if cases is None else cases
        for i in range(4):
            self.article(self.main, f"/a/good-{i}")
        for name in self.cases:
            CASES[name].build(self)
        self.main.routes["/robots.txt"] = ALLOW_ALL
        self.main.routes["/feed.xml"] = Resp(body=rss(self.feed), headers=XML)

    def site(self, host: str = "127.0.0.1", tls: bool = False) -> SpiderSite:
        site = SpiderSite(self.day, host=host, tls=tls)
        site.routes.clear()
        site.routes["/robots.txt"] = ALLOW_ALL
        self.sites.append(site)
        return site

    def article(self, site: SpiderSite, path: str, *, listed: bool = True, good: bool = True) -> str:
        """A well-formed article of the day on `site`, listed in the main feed unless told otherwise."""
        url = site.base + path
        site.routes[path] = html(page(path, self.at))
        if listed:
            self.feed.append((url, self.at))
        if good:
            self.good.append(url)
        return url

    def source_entry(self) -> dict:
        return {"name": "hostile", "feeds": self.feeds, "sitemaps": self.sitemaps, "allowed_domains": self.allowed}

    def write_sources(self, path: Path) -> Path:
        path.write_text(yaml.safe_dump({"sources": [self.source_entry()]}, sort_keys=False))
        return path

    def __enter__(self) -> HostileWeb:
        for site in self.sites:
            site.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        for site in self.sites:
            site.__exit__(*exc)


@dataclass
class Case:
    what: str  # for the table
    build: Callable[[HostileWeb], None]
    counted: Callable[[dict], str]  # what the crawl counted for it, from {"summary", "index", "web"}
    urls: list[str] = field(default_factory=list)


def _line(result: dict, path: str) -> dict:
    """The index line of the only URL ending with `path`."""
    lines = [e for e in result["index"] if e["url"].endswith(path)]
    assert len(lines) == 1, (path, lines)
    return lines[0]


def _reason(result: dict, path: str) -> str:
    line = _line(result, path)
    return line["reason"] or ("stored" if line["warc_file"] else "none")


# -- pages -------------------------------------------------------------------------------------------------


def _quadratic(web: HostileWeb) -> None:
    """Pages of 300 KiB of tag starts without an end (the scan was quadratic on them: 192 KB took 130 s), and a
    100 KiB one read on the reactor thread; each has its date in a well-formed meta first."""
    head = f'<meta property="article:published_time" content="{web.at.isoformat()}">'
    for name, start, size in (("meta", b"<meta ", 300), ("link", b"<link ", 300), ("time", b"<time ", 300),
                              ("script", b"<script ", 300), ("small", b"<meta ", 100)):  # fmt: skip
        body = f"<html><head><title>q</title>{head}".encode() + start * (size * 1024 // len(start))
        web.main.routes[f"/a/quadratic-{name}"] = html(body)
        web.feed.append((f"{web.main.base}/a/quadratic-{name}", web.at))
        web.good.append(f"{web.main.base}/a/quadratic-{name}")


def _jsonld_recursion(web: HostileWeb) -> None:
    """JSON-LD nested 50,000 deep: the decoder raises RecursionError (only ValueError was caught)."""
    deep = "[" * 50_000 + "]" * 50_000
    body = (
        f'<html><head><script type="application/ld+json">{deep}</script></head><body><article>'
        f'<time datetime="{web.at.isoformat()}">today</time><p>Text.</p></article></body></html>'
    ).encode()
    web.main.routes["/a/jsonld-deep"] = html(body)
    web.feed.append((f"{web.main.base}/a/jsonld-deep", web.at))
    web.good.append(f"{web.main.base}/a/jsonld-deep")


# -- redirects and URLs --------------------------------------------------------------------------------------


def _redirect_loop(web: HostileWeb) -> None:
    m = web.main
    m.routes["/a/loop-a"] = Resp(302, headers={"Location": f"{m.base}/a/loop-b"})
    m.routes["/a/loop-b"] = Resp(302, headers={"Location": f"{m.base}/a/loop-a"})
    web.feed.append((f"{m.base}/a/loop-a", web.at))


def _redirect_to_seen(web: HostileWeb) -> None:
    """Two entries moved to the same article: it is fetched once, the other entry is `redirect_to_seen`."""
    m = web.main
    web.article(m, "/a/moved-target", listed=False)
    for name in ("moved-1", "moved-2"):
        m.routes[f"/a/{name}"] = Resp(301, headers={"Location": f"{m.base}/a/moved-target"})
        web.feed.append((f"{m.base}/a/{name}", web.at))


def _url_too_long(web: HostileWeb) -> None:
    path = "/a/long-" + "x" * 2100
    web.main.routes[path] = html(page("long", web.at))
    web.feed.append((web.main.base + path, web.at))


# -- feeds and sitemaps --------------------------------------------------------------------------------------


def _feed_too_large(web: HostileWeb) -> None:
    """A feed over DOWNLOAD_MAXSIZE whose first entry is the only link to an article: its first MiB is read."""
    m = web.main
    url = web.article(m, "/a/in-large-feed", listed=False)
    padding = "<item><title>padding</title><description>" + "x" * (MAXSIZE + 200_000) + "</description></item>"
    m.routes["/large-feed.xml"] = Resp(body=rss([(url, web.at)], padding), headers=XML)
    web.feeds.append(f"{m.base}/large-feed.xml")


def _feed_entry_limit(web: HostileWeb) -> None:
    """A feed of MAX_ENTRIES old entries, then 5 of the day: those 5 are indexed as `entry_limit`."""
    m = web.main
    old = [(f"{m.base}/a/old-{i}", web.at - timedelta(days=30)) for i in range(MAX_ENTRIES)]
    late = [(f"{m.base}/a/past-limit-{i}", web.at) for i in range(5)]
    m.routes["/long-feed.xml"] = Resp(body=rss(old + late), headers=XML)
    web.feeds.append(f"{m.base}/long-feed.xml")


def _multi_member_gzip(web: HostileWeb) -> None:
    """A .xml.gz of two gzip members (as `cat a.gz b.gz` makes): the second holds an article."""
    m = web.main
    first = web.article(m, "/a/gz-first", listed=False)
    second = web.article(m, "/a/gz-second", listed=False)
    xml = urlset([(first, web.at), (second, web.at)]).encode()
    cut = xml.index(b"<url>", xml.index(b"gz-first"))
    m.routes["/sitemap-multi.xml.gz"] = Resp(
        body=gzip.compress(xml[:cut]) + gzip.compress(xml[cut:]), headers={"Content-Type": "application/x-gzip"}
    )
    web.sitemaps.append(f"{m.base}/sitemap-multi.xml.gz")


# -- response heads ------------------------------------------------------------------------------------------


def flood_headers(wfile: BinaryIO, stopping: threading.Event) -> None:
    """A response head that never ends: 1 KiB header lines until the client leaves (or 200 MiB, or the site
    stops)."""
    wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
    line = b": " + b"v" * 1000 + b"\r\n"
    for i in range(200_000):
        if stopping.is_set():
            return
        wfile.write(b"X-Flood-%d" % i + line)


def _header_flood(web: HostileWeb) -> None:
    web.main.routes["/a/header-flood"] = Raw(flood_headers)
    web.feed.append((f"{web.main.base}/a/header-flood", web.at))


def _https_header_flood(web: HostileWeb) -> None:
    """The same over HTTPS: the head is bounded above TLS too, and the site's other article is stored."""
    secure = web.site(tls=True)
    web.article(secure, "/a/tls-good")
    secure.routes["/a/tls-header-flood"] = Raw(flood_headers)
    web.feed.append((f"{secure.base}/a/tls-header-flood", web.at))


# -- robots.txt ----------------------------------------------------------------------------------------------


def _robots_site(web: HostileWeb, robots: Resp | Raw, articles: list[str], good: bool) -> SpiderSite:
    site = web.site()
    site.routes["/robots.txt"] = robots
    for path in articles:
        web.article(site, path, good=good)
    return site


def _robots_503(web: HostileWeb) -> None:
    _robots_site(web, Resp(503, b"down", {"Content-Type": "text/plain"}), ["/a/behind-503"], good=False)


def _robots_timeout(web: HostileWeb) -> None:
    _robots_site(web, Raw(silent), ["/a/behind-timeout"], good=False)


def huge_robots(wfile: BinaryIO, stopping: threading.Event) -> None:
    """A 20 MiB robots.txt: /private/ disallowed in its first lines, /late/ only after 1 MiB of comments."""
    comment = b"# " + b"padding " * 15 + b"\n"  # 123 bytes
    lines = 20 * (1 << 20) // len(comment)
    late = (1 << 20) // len(comment)
    first, rule = b"User-agent: *\nDisallow: /private/\n", b"Disallow: /late/\n"
    wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
                % (len(first) + len(rule) + lines * len(comment)))  # fmt: skip
    wfile.write(first)
    for i in range(lines):
        if stopping.is_set():
            return
        wfile.write(comment + rule if i == late else comment)


def _robots_huge(web: HostileWeb) -> None:
    site = _robots_site(web, Raw(huge_robots), ["/a/allowed", "/late/read-past-512k"], good=True)
    site.routes["/private/secret"] = html(page("secret", web.at))
    web.feed.append((f"{site.base}/private/secret", web.at))


def _robots_redirect_internal(web: HostileWeb) -> None:
    internal = web.site("127.0.0.9")
    internal.routes["/robots.txt"] = ALLOW_ALL
    port = internal.base.rsplit(":", 1)[1]
    redirect = Resp(302, headers={"Location": f"http://127.0.0.9:{port}/robots.txt"})
    _robots_site(web, redirect, ["/a/behind-redirect"], good=False)


def _robots_404(web: HostileWeb) -> None:
    _robots_site(web, Resp(404, b"no", {"Content-Type": "text/plain"}), ["/a/behind-404"], good=True)


def _crawl_delay(web: HostileWeb) -> None:
    robots = Resp(body=b"User-agent: *\nCrawl-delay: 2\n", headers={"Content-Type": "text/plain"})
    _robots_site(web, robots, [f"/a/delayed-{i}" for i in range(3)], good=True)


# -- DNS rebinding -------------------------------------------------------------------------------------------


class RebindingResolver(GuardedResolver):
    """Answers every name under rebind.test with a public address the first time it is asked, then 127.0.0.2
    (a name whose owner rebinds it to an internal address); without a cache, so each question is asked."""

    asked: dict[str, int] = {}

    def lookup(self, name: str, timeout: Any = ()) -> defer.Deferred:
        if not name.endswith("." + REBIND_DOMAIN):
            return super().lookup(name, timeout)
        n = self.asked[name] = self.asked.get(name, 0) + 1
        return defer.succeed(PUBLIC_ADDRESS if n == 1 else "127.0.0.2")


def _dns_rebinding(web: HostileWeb) -> None:
    internal = web.site("127.0.0.2")
    internal.routes["/a/secret"] = html(page("secret", web.at))
    port = internal.base.rsplit(":", 1)[1]
    web.feed.append((f"http://www.{REBIND_DOMAIN}:{port}/a/secret", web.at))
    web.allowed.append(REBIND_DOMAIN)
    web.settings["TWISTED_DNS_RESOLVER"] = "tests.hostile_site.RebindingResolver"


def _site_of(result: dict, path: str) -> SpiderSite:
    return next(s for s in result["web"].sites if path in s.routes)


def _robots_count(result: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(result["summary"]["robots_txt"].items()))


CASES: dict[str, Case] = {
    "quadratic_pages": Case(
        "4 pages of 300 KiB of '<meta '/'<link '/'<time '/'<script ' starts, 1 of 100 KiB",
        _quadratic,
        lambda r: f"stored, date by the parser: {r['summary']['metadata'].get('parser', 0)} pages",
    ),
    "jsonld_recursion": Case(
        "JSON-LD nested 50,000 deep (RecursionError)", _jsonld_recursion,
        lambda r: f"{_reason(r, '/a/jsonld-deep')} (date from <time>)",
    ),  # fmt: skip
    "redirect_loop": Case("A -> B -> A", _redirect_loop, lambda r: _reason(r, "/a/loop-a")),
    "redirect_to_seen": Case(
        "two entries moved to one URL", _redirect_to_seen,
        lambda r: ", ".join(sorted(_reason(r, f"/a/moved-{i}") for i in (1, 2) if _has(r, f"/a/moved-{i}"))),
    ),  # fmt: skip
    "url_too_long": Case("a 2,115-character URL", _url_too_long, lambda r: _reason(r, "x" * 2100)),
    "feed_too_large": Case(
        "a feed over DOWNLOAD_MAXSIZE", _feed_too_large,
        lambda r: f"truncated {r['summary']['discovery_errors'].get('truncated', 0)}, its entry: "
        + _reason(r, "/a/in-large-feed"),
    ),  # fmt: skip
    "feed_entry_limit": Case(
        f"a feed of {MAX_ENTRIES} + 5 entries (limit {MAX_ENTRIES})", _feed_entry_limit,
        lambda r: f"entry_limit {r['summary']['rejected'].get('entry_limit', 0)}, "
        f"truncated {r['summary']['discovery_errors'].get('truncated', 0)}",
    ),  # fmt: skip
    "multi_member_gzip": Case(
        "a sitemap.xml.gz of two gzip members", _multi_member_gzip,
        lambda r: f"second member's article {_reason(r, '/a/gz-second')}",
    ),  # fmt: skip
    "header_flood": Case(
        "a response head that never ends", _header_flood, lambda r: _reason(r, "/a/header-flood")
    ),
    "https_header_flood": Case(
        "the same over HTTPS", _https_header_flood,
        lambda r: f"{_reason(r, '/a/tls-header-flood')}; its site's article {_reason(r, '/a/tls-good')}",
    ),  # fmt: skip
    "robots_503": Case(
        "robots.txt answers 503", _robots_503,
        lambda r: f"{_reason(r, '/a/behind-503')}; {_robots_count(r)}",
    ),  # fmt: skip
    "robots_timeout": Case(
        "robots.txt never answers", _robots_timeout,
        lambda r: f"{_reason(r, '/a/behind-timeout')}; {_robots_count(r)}",
    ),  # fmt: skip
    "robots_huge": Case(
        "a 20 MiB robots.txt", _robots_huge,
        lambda r: f"/private/ {_reason(r, '/private/secret')}, /late/ {_reason(r, '/late/read-past-512k')}; "
        + _robots_count(r),
    ),  # fmt: skip
    "robots_redirect_internal": Case(
        "robots.txt redirects to 127.0.0.9", _robots_redirect_internal,
        lambda r: f"{_reason(r, '/a/behind-redirect')}; {_robots_count(r)}",
    ),  # fmt: skip
    "robots_404": Case("robots.txt answers 404", _robots_404, lambda r: _reason(r, "/a/behind-404")),
    "crawl_delay": Case(
        "robots.txt says Crawl-delay: 2", _crawl_delay,
        lambda r: "gaps " + ", ".join(f"{g:.1f} s" for g in delay_gaps(r)),
    ),  # fmt: skip
    "dns_rebinding": Case(
        "a name answering a public address, then 127.0.0.2", _dns_rebinding,
        lambda r: f"{_reason(r, '/a/secret')}; refused {r['summary']['refused'].get('blocked_address', 0)}",
    ),  # fmt: skip
}


def _has(result: dict, path: str) -> bool:
    return any(e["url"].endswith(path) for e in result["index"])


def delay_gaps(result: dict) -> list[float]:
    """Seconds between the requests to the Crawl-delay site (its robots.txt, then its articles)."""
    site = _site_of(result, "/a/delayed-0")
    times = sorted(t for t, _, _ in site.requests)
    return [b - a for a, b in zip(times, times[1:], strict=False)]


class PeakMemory:
    """A Scrapy extension for these crawls: the crawl process's peak RSS, written to PEAK_MEMORY_FILE (MiB)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def from_crawler(cls, crawler: Any) -> PeakMemory:
        from scrapy import signals

        ext = cls(Path(crawler.settings["PEAK_MEMORY_FILE"]))
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def closed(self) -> None:
        self.path.write_text(str(peak_rss_mib()))


def peak_rss_mib() -> float:
    """This process's peak RSS since it started its program: VmHWM, which belongs to the address space that
    exec made. Not ru_maxrss: Linux carries that over exec, so a crawl forked from a 500 MiB test process
    would report 500 MiB."""
    try:
        for row in Path("/proc/self/status").read_text().splitlines():
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def crawl(web: HostileWeb, tmp: Path, timeout: float = 120) -> dict:
    """Crawl the web's source for its day: {"summary", "index", "web", "seconds", "peak_mib"}."""
    import json
    import time

    from spiders import settings as project
    from spiders.crawl import run_crawl

    peak = tmp / "peak-memory"
    settings = {
        **web.settings,
        "EXTENSIONS": {**project.EXTENSIONS, "tests.hostile_site.PeakMemory": 0},
        "PEAK_MEMORY_FILE": str(peak),
    }
    sources = web.write_sources(tmp / "sources.yaml")
    began = time.monotonic()
    summary = run_crawl("hostile", web.day, web.day + timedelta(days=1), tmp / "out", str(sources), settings,
                        timeout=timeout)  # fmt: skip
    seconds = time.monotonic() - began
    with gzip.open(tmp / "out" / "index.jsonl.gz", "rt") as fh:
        index = [json.loads(line) for line in fh]
    return {"summary": summary, "index": index, "web": web, "seconds": seconds, "peak_mib": float(peak.read_text())}
