"""A fixture news site for the spider tests: every discovery path and every kind of bad input.

`SpiderSite(day)` serves generated feeds, sitemaps and pages (dates relative to `day`) from a real
`ThreadingHTTPServer` on a free loopback port, in a daemon thread, and logs every request it gets.
"""

from __future__ import annotations

import gzip
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import yaml

HTML = "text/html; charset=utf-8"
XML = "application/xml"


@dataclass
class Resp:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] | None = None
    delay: float = 0.0


@dataclass
class Raw:
    """A route that writes its answer to the socket itself, for answers http.server cannot give (endless
    headers, a body larger than it says, silence). It should return once `stopping` is set (the site stops)."""

    write: Callable[[BinaryIO, threading.Event], None]


def silent(wfile: BinaryIO, stopping: threading.Event) -> None:
    """No answer at all until the client gives up (or the site stops): a timeout whatever DOWNLOAD_TIMEOUT is."""
    stopping.wait(600)


def page(title: str, published: datetime | None = None, how: str = "meta", extra_head: str = "") -> bytes:
    """An article page that states its date one way or another (or not at all)."""
    head, body = extra_head, ""
    if published is not None:
        stamp = published.isoformat()
        if how == "meta":
            head += f'<meta property="article:published_time" content="{stamp}">'
        elif how == "jsonld":
            head += (
                f'<script type="application/ld+json">{{"@graph": [{{"datePublished": "{stamp}"}}]}}</script>'
            )
        elif how == "time":
            body += f'<time datetime="{stamp}">{published:%d %B %Y}</time>'
    text = " ".join([f"{title} is reported here in plain words."] * 20)
    return (
        f"<!doctype html><html><head><title>{title}</title>{head}</head>"
        f"<body><article><h1>{title}</h1>{body}<p>{text}</p></article></body></html>"
    ).encode()


def html(body: bytes) -> Resp:
    return Resp(body=body, headers={"Content-Type": HTML})


def sitemap(entries: list[tuple[str, datetime]]) -> Resp:
    """A plain urlset of absolute URLs, each with its lastmod."""
    rows = "".join(f"<url><loc>{url}</loc><lastmod>{when.isoformat()}</lastmod></url>" for url, when in entries)
    body = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'
    return Resp(body=body.encode(), headers={"Content-Type": XML})


def tls_context(host: str) -> ssl.SSLContext:
    """A server-side TLS context with a fresh self-signed certificate for `host` (files in a temp folder)."""
    import ipaddress
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="tls-"))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return ctx


ALLOW_ALL = Resp(body=b"User-agent: *\n", headers={"Content-Type": "text/plain"})


class SpiderSite:
    """The routes are built for a chosen `day`; `base` is known once the server has started."""

    ARCHIVE_MONTHS = 36

    def __init__(self, day: date, host: str = "127.0.0.1", tls: bool = False) -> None:
        self.day, self.host = day, host
        self.requests: list[tuple[float, str, str]] = []  # (time, method, path)
        self.stopping = threading.Event()
        self.user_agents: set[str] = set()
        self._lock = threading.Lock()
        self._hits: dict[str, int] = {}
        self.server = ThreadingHTTPServer((host, 0), self._handler())
        self.server.daemon_threads = True
        if tls:  # HTTPS with a self-signed certificate (the crawler does not verify, as Scrapy's default)
            self.server.socket = tls_context(host).wrap_socket(self.server.socket, server_side=True)
        self.base = f"{'https' if tls else 'http'}://{host}:{self.server.server_address[1]}"
        self.routes: dict[str, Resp | Raw | Callable[[int], Resp]] = {}
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._build()

    # -- the site -------------------------------------------------------------------------------

    def at(self, days: int = 0, hour: int = 10) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, hour, tzinfo=UTC) + timedelta(days=days)

    def _build(self) -> None:
        b, r, at = self.base, self.routes, self.at
        # Article pages: the in-window ones first.
        for name in ("rss-in", "atom-in", "atom-in2", "month-in", "gz-in", "news-in", "robots-meta",
                     "truncated-in", "canonical-dup-target", "utm-page"):  # fmt: skip
            r[f"/a/{name}"] = Resp(body=page(name, at()), headers={"Content-Type": HTML})
        r["/a/rss-old"] = Resp(body=page("rss-old", at(-1)), headers={"Content-Type": HTML})
        r["/a/rss-future"] = Resp(body=page("rss-future", at(1)), headers={"Content-Type": HTML})
        r["/a/atom-stale"] = Resp(body=page("atom-stale", at(-3)), headers={"Content-Type": HTML})
        r["/a/news-old"] = Resp(body=page("news-old", at(-2)), headers={"Content-Type": HTML})
        r["/a/robots-jsonld"] = Resp(
            body=page("robots-jsonld", at(0, 7), "jsonld"), headers={"Content-Type": HTML}
        )
        r["/a/robots-time"] = Resp(body=page("robots-time", at(0, 9), "time"), headers={"Content-Type": HTML})
        r["/a/robots-oldpage"] = Resp(body=page("robots-oldpage", at(-5)), headers={"Content-Type": HTML})
        r["/a/robots-nodate"] = Resp(body=page("robots-nodate"), headers={"Content-Type": HTML})
        r["/private/secret"] = Resp(body=page("secret", at()), headers={"Content-Type": HTML})
        # Same body under two URLs; a page whose canonical is another article.
        twin = page("twin", at())
        r["/a/twin-1"] = Resp(body=twin, headers={"Content-Type": HTML})
        r["/a/twin-2"] = Resp(body=twin, headers={"Content-Type": HTML})
        r["/a/canonical-dup"] = Resp(
            body=page(
                "canonical-dup", at(), extra_head=f'<link rel="canonical" href="{b}/a/canonical-dup-target">'
            ),
            headers={"Content-Type": HTML},
        )
        # Bad inputs.
        r["/bad/500"] = Resp(500, b"oops", {"Content-Type": "text/plain"})
        r["/bad/slow"] = Raw(silent)
        r["/bad/pdf"] = Resp(body=b"%PDF-1.4 not html", headers={"Content-Type": "application/pdf"})
        r["/bad/empty"] = Resp(body=b"", headers={"Content-Type": HTML})
        bomb = gzip.compress(b"<p>" + b"\0" * (8 << 20), compresslevel=9)  # 8 MiB of zeros in ~8 KiB
        r["/bad/bomb"] = Resp(body=bomb, headers={"Content-Type": HTML, "Content-Encoding": "gzip"})
        r["/bad/redirect-off"] = Resp(302, headers={"Location": "http://news.example.com/elsewhere"})
        r["/bad/redirect-metadata"] = Resp(
            302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
        )
        r["/bad/redirect-loopback"] = Resp(
            302, headers={"Location": f"http://127.0.0.9:{b.rsplit(':', 1)[1]}/x"}
        )
        latin = page("café", at()).replace(b"charset=utf-8", b"").decode().encode("latin-1")
        r["/a/latin1"] = Resp(body=latin, headers={"Content-Type": "text/html"})  # no charset declared
        r["/a/rate-limited"] = lambda n: (
            Resp(429, b"slow down", {"Retry-After": "1"}) if n == 1
            else Resp(body=page("rate-limited", at()), headers={"Content-Type": HTML})
        )  # fmt: skip
        self._feeds()
        self._sitemaps()

    def _feeds(self) -> None:
        b, at = self.base, self.at

        def item(path: str, when: datetime | None) -> str:
            date_el = f"<pubDate>{when:%a, %d %b %Y %H:%M:%S} +0000</pubDate>" if when else ""
            return f"<item><title>{escape(path)}</title><link>{escape(b + path)}</link>{date_el}</item>"

        in_window = ["/a/rss-in", "/a/twin-1", "/a/twin-2", "/a/canonical-dup", "/a/canonical-dup-target",
                     "/bad/500", "/bad/slow", "/bad/pdf", "/bad/empty", "/bad/bomb", "/bad/redirect-off",
                     "/bad/redirect-metadata", "/bad/redirect-loopback", "/a/latin1", "/a/rate-limited",
                     "/private/secret", "/missing", "/a/utm-page?utm_source=rss&id=1"]  # fmt: skip
        items = [item(p, at()) for p in in_window]
        items += [item("/a/rss-old", at(-1)), item("/a/rss-future", at(1))]
        items += [item("/a/rss-in#comments", at()), item("/a/utm-page?id=1&fbclid=abc", at())]  # duplicates
        items.append(f"<item><link>http://offsite.example.org/story</link><pubDate>{at():%a, %d %b %Y} "
                     "10:00:00 +0000</pubDate></item>")  # fmt: skip
        channel = f"<channel><title>F</title>{''.join(items)}</channel>"
        rss = f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'
        self.routes["/rss.xml"] = Resp(body=rss.encode(), headers={"Content-Type": "application/rss+xml"})

        def entry(path: str, published: datetime | None, updated: datetime) -> str:
            pub = f"<published>{published.isoformat()}</published>" if published else ""
            upd = f"<updated>{updated.isoformat()}</updated>"
            return f'<entry><title>{path}</title><link href="{b}{path}"/>{pub}{upd}</entry>'

        atom = (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>F</title>'
            + entry("/a/atom-in", at(), at())
            + entry("/a/atom-in2", None, at(0, 11))
            + entry("/a/atom-stale", None, at(-3))
            + "</feed>"
        )
        self.routes["/atom.xml"] = Resp(body=atom.encode(), headers={"Content-Type": "application/atom+xml"})
        renamed = rss.replace("/a/rss-in<", "/a/truncated-in<")
        truncated = renamed[: renamed.index("/a/twin-1")]  # cut inside the second item
        self.routes["/broken.xml"] = Resp(body=truncated.encode(), headers={"Content-Type": XML})
        laughs = (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                      for i in range(1, 10))
            + f']><rss version="2.0"><channel><item><link>{b}/a/laughs&lol9;</link></item></channel></rss>'
        )  # fmt: skip
        self.routes["/laughs.xml"] = Resp(body=laughs.encode(), headers={"Content-Type": XML})
        self.routes["/not-xml.xml"] = Resp(
            body=b"<html><body>moved</body></html>", headers={"Content-Type": HTML}
        )

    def _sitemaps(self) -> None:
        b, r, at = self.base, self.routes, self.at

        def urlset(entries: list[tuple[str, datetime | None]], news: bool = False) -> bytes:
            ns = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' if news else ""
            rows = []
            for path, when in entries:
                if news:
                    extra = ("<news:news><news:publication><news:name>F</news:name>"
                             "<news:language>en</news:language>"
                             f"</news:publication><news:publication_date>{when.isoformat()}</news:publication_date>"
                             "</news:news>")  # fmt: skip
                else:
                    extra = f"<lastmod>{when.isoformat()}</lastmod>" if when else ""
                rows.append(f"<url><loc>{b}{path}</loc>{extra}</url>")
            return (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{ns}>'
                    + "".join(rows) + "</urlset>").encode()  # fmt: skip

        def index(children: list[tuple[str, datetime]]) -> bytes:
            rows = "".join(
                f"<sitemap><loc>{b}{p}</loc><lastmod>{w.isoformat()}</lastmod></sitemap>" for p, w in children
            )
            return (f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}'
                    "</sitemapindex>").encode()  # fmt: skip

        # A multi-year archive: one child per month, each last modified at the end of its month.
        children = []
        for m in range(1, self.ARCHIVE_MONTHS + 1):
            first = (self.day.replace(day=1) - timedelta(days=31 * m)).replace(day=1)
            path = f"/sitemaps/archive-{first:%Y-%m}.xml"
            last = datetime(first.year, first.month, 28, tzinfo=UTC)
            r[path] = Resp(body=urlset([(f"/a/archived-{first:%Y-%m}", last)]), headers={"Content-Type": XML})
            children.append((path, last))
        self.archive_paths = [p for p, _ in children]
        r["/sitemaps/current.xml"] = Resp(body=urlset([("/a/month-in", at()), ("/a/rss-old", at(-1))]),
                                          headers={"Content-Type": XML})  # fmt: skip
        r["/sitemaps/recent.xml.gz"] = Resp(body=gzip.compress(urlset([("/a/gz-in", at())])),
                                            headers={"Content-Type": "application/x-gzip"})  # fmt: skip
        r["/sitemaps/loop.xml"] = Resp(
            body=index([("/sitemap_index.xml", at())]), headers={"Content-Type": XML}
        )
        children += [("/sitemaps/current.xml", at()), ("/sitemaps/recent.xml.gz", at()),
                     ("/sitemaps/loop.xml", at()), ("/sitemap_index.xml", at())]  # fmt: skip
        r["/sitemap_index.xml"] = Resp(body=index(children), headers={"Content-Type": XML})
        news = urlset([("/a/news-in", at(0, 8)), ("/a/news-old", at(-2))], news=True)
        r["/news-sitemap.xml"] = Resp(body=news,
                                      headers={"Content-Type": XML})  # fmt: skip
        r["/robots-sitemap.xml"] = Resp(
            body=urlset([("/a/robots-meta", None), ("/a/robots-jsonld", None), ("/a/robots-time", None),
                         ("/a/robots-oldpage", None), ("/a/robots-nodate", None)]),
            headers={"Content-Type": XML},
        )  # fmt: skip
        r["/robots.txt"] = Resp(
            body=f"User-agent: *\nDisallow: /private/\n\nSitemap: {b}/robots-sitemap.xml\n".encode(),
            headers={"Content-Type": "text/plain"},
        )

    def source_entry(self, name: str = "fixture") -> dict:
        b = self.base
        return {
            "name": name,
            "feeds": [
                f"{b}/rss.xml",
                f"{b}/atom.xml",
                f"{b}/broken.xml",
                f"{b}/laughs.xml",
                f"{b}/not-xml.xml",
            ],
            "sitemaps": [f"{b}/sitemap_index.xml", f"{b}/news-sitemap.xml"],
            "allowed_domains": [self.host],
            "language": "en",
        }

    def write_sources(self, path: Path) -> Path:
        path.write_text(yaml.safe_dump({"sources": [self.source_entry()]}, sort_keys=False))
        return path

    # -- serving --------------------------------------------------------------------------------

    def requested(self, path: str) -> list[float]:
        """When `path` (without query) was requested."""
        with self._lock:
            return [t for t, _, p in self.requests if urlsplit(p).path == path]

    def _respond(self, method: str, path: str) -> Resp | Raw:
        with self._lock:
            self.requests.append((time.monotonic(), method, path))
            key = urlsplit(path).path
            self._hits[key] = n = self._hits.get(key, 0) + 1
        route = self.routes.get(key)
        if route is None:
            return Resp(404, b"not found", {"Content-Type": "text/plain"})
        return route(n) if callable(route) else route

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                site.user_agents.add(self.headers.get("User-Agent", ""))
                resp = site._respond("GET", self.path)
                if isinstance(resp, Raw):
                    self.close_connection = True
                    try:
                        resp.write(self.wfile, site.stopping)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                if resp.delay:
                    time.sleep(resp.delay)
                try:
                    self.send_response(resp.status)
                    for k, v in (resp.headers or {}).items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(resp.body)))
                    self.end_headers()
                    self.wfile.write(resp.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def __enter__(self) -> SpiderSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


class RequestProbe:
    """A Scrapy extension for the spider tests: the most Request objects alive at once (Scrapy tracks them all),
    written to the file named by the REQUEST_PROBE_FILE setting when the crawl ends."""

    def __init__(self, path: Path) -> None:
        self.path, self.most = path, 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> RequestProbe:
        from scrapy import signals

        probe = cls(Path(crawler.settings["REQUEST_PROBE_FILE"]))
        for signal in (signals.request_scheduled, signals.request_reached_downloader, signals.response_received):
            crawler.signals.connect(probe.count, signal=signal)
        crawler.signals.connect(probe.closed, signal=signals.spider_closed)
        return probe

    def count(self) -> None:
        from scrapy import Request
        from scrapy.utils.trackref import live_refs

        self.most = max(self.most, len(live_refs[Request]))

    def closed(self) -> None:
        self.path.write_text(str(self.most))
