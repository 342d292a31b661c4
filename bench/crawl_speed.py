"""Crawl throughput on a loopback site with politeness off: our spider with discovery and WARC capture, the
same without capture, and a bare Scrapy spider fetching the same URLs from a list. Prints pages/s, CPU time
per page and peak memory (ru_maxrss of each child), and the ratios the targets are about.

    .venv/bin/python bench/crawl_speed.py [--pages 2000] [--rounds 5] [--mem-pages 8000] [--set KEY=VALUE]

Targets: ours with capture >= 0.8x bare; capture costs < 15 %; peak memory flat in the number of pages.

Fairness on a shared, noisy machine: every variant runs `--rounds` times, interleaved and in a rotating
order; each ratio is taken within a round (variants that ran seconds apart) and the median over rounds is
reported, with the spread. Every variant is timed the same way, from `spider_opened` to `spider_closed` by
the same small extension (our crawl's discovery and the final flush of its files are inside that time), which
also reports the crawl's CPU time (all threads; start-up and imports excluded): CPU time per page moves much
less than wall time when other jobs compete for the CPUs, and backs up the ratios.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import statistics
import string
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
DAY = date(2025, 3, 10)
# Scrapy settings all variants share. CONCURRENT_ITEMS=1 is in spiders.settings too: Scrapy starts that many
# asyncio tasks per response (default 100) whether the callback yields 0 or 1 item, so the bare spider gets
# it as well, or the comparison would measure that setting rather than our spider's own work.
COMMON = {
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
    "CONCURRENT_ITEMS": 1,
    "LOG_LEVEL": "WARNING",
}
VARIANTS = ["ours+capture", "ours-capture", "bare scrapy"]
BARE_SPIDER = textwrap.dedent(
    """
    import os, scrapy

    class Bare(scrapy.Spider):
        name = "bare"
        pages = 0

        async def start(self):
            for url in open(os.environ["BENCH_URLS"]).read().split():
                yield scrapy.Request(url)

        def parse(self, response):
            self.pages += 1
    """
)
# The extension that times every variant alike: wall and CPU seconds from spider_opened to spider_closed.
METER = textwrap.dedent(
    """
    import json, os, resource, time
    from scrapy import signals

    class Meter:
        def __init__(self, crawler):
            self.crawler = crawler
            crawler.signals.connect(self.opened, signal=signals.spider_opened)
            crawler.signals.connect(self.closed, signal=signals.spider_closed)

        @classmethod
        def from_crawler(cls, crawler):
            return cls(crawler)

        @staticmethod
        def cpu():
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return usage.ru_utime + usage.ru_stime

        def opened(self, spider):
            self.wall, self.cpu0 = time.monotonic(), self.cpu()

        def closed(self, spider):
            stats = self.crawler.stats.get_stats()
            pages = getattr(spider, "pages", None)
            out = {"wall": time.monotonic() - self.wall, "cpu": self.cpu() - self.cpu0,
                   "pages": stats.get("news/fetched", 0) if pages is None else pages}
            open(os.environ["BENCH_METER"], "w").write(json.dumps(out))
    """
)


def make_site(pages: int, page_kib: int = 0) -> dict[str, bytes | Callable[[], bytes]]:
    """Robots.txt and `pages` dated articles at /a/0, /a/1, …

    By default each is the issue's ~7 KiB page of one repeated sentence (it compresses 27:1). `page_kib`
    makes them about that large, of varied words (~2.7:1; news HTML is nearer 5:1, and ~100 KiB typical),
    assembled on request from a few shared bodies so the site stays small in memory.
    """
    when = datetime(DAY.year, DAY.month, DAY.day, 9, tzinfo=UTC)
    routes: dict[str, bytes | Callable[[], bytes]] = {"/robots.txt": b"User-agent: *\nAllow: /\n"}
    text = "<p>" + "Plain words about the news of the day, said at some length. " * 60 + "</p>"
    rng = random.Random(6)
    vocabulary = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))) for _ in range(5000)]
    bodies = []
    for _ in range(8 if page_kib else 0):
        paragraphs, size = [], 0
        while size < page_kib * 1024:
            words = rng.choices(vocabulary, weights=[1 / (r + 1) for r in range(len(vocabulary))], k=120)
            paragraphs.append(f"<p>{' '.join(words)}.</p>")
            size += len(paragraphs[-1])
        bodies.append("".join(paragraphs).encode())
    for i in range(pages):
        stamp = (when + timedelta(seconds=i)).isoformat()
        head = (
            f"<!doctype html><html><head><meta charset=utf-8><title>Story {i}</title>"
            f'<meta property="article:published_time" content="{stamp}"></head>'
            f"<body><nav>Home | World</nav><article><h1>Story {i}</h1>"
        )
        if page_kib:
            parts = (head.encode(), bodies[i % len(bodies)], b"</article></body></html>")
            routes[f"/a/{i}"] = functools.partial(b"".join, parts)
        else:
            routes[f"/a/{i}"] = f"{head}{text * 2}</article></body></html>".encode()
    return routes


def serve(routes: dict[str, bytes | Callable[[], bytes]]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            body = routes.get(self.path)
            body = body() if callable(body) else body
            self.send_response(200 if body is not None else 404)
            ctype = "application/xml" if self.path.endswith(".xml") else "text/html; charset=utf-8"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(cmd: list[str], env: dict[str, str], cwd: str | None = None) -> int:
    """Run a child, return its peak RSS in MiB (ru_maxrss of that child alone)."""
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{cmd[:5]} failed:\n{err.decode(errors='replace')[-3000:]}")
    return usage.ru_maxrss // 1024


def settings_args(settings: dict) -> list[str]:
    return [a for k, v in settings.items() for a in ("-s", f"{k}={json.dumps(v) if isinstance(v, dict) else v}")]


@dataclass
class Result:
    pages: int
    wall: float  # seconds from spider_opened to spider_closed
    cpu: float  # CPU seconds of the crawl process (all threads) in that time
    rss: int  # peak RSS of the process, MiB

    @property
    def speed(self) -> float:
        return self.pages / self.wall


class Bench:
    """The loopback site (up to `pages` articles) and one run of a variant over its first N pages."""

    def __init__(self, tmp: Path, pages: int, ours: dict[str, str], page_kib: int = 0) -> None:
        self.tmp, self.ours = tmp, ours
        self.routes = make_site(pages, page_kib)
        self.server = serve(self.routes)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        (tmp / "bare.py").write_text(BARE_SPIDER)
        (tmp / "bench_meter.py").write_text(METER)
        sys.path.insert(0, str(CHECKOUT))
        from spiders import settings as ours_settings  # noqa: PLC0415 - the checkout is on the path only now

        self.ours_extensions = {**ours_settings.EXTENSIONS, "bench_meter.Meter": 0}

    def _files(self, pages: int) -> tuple[Path, Path]:
        """The sources file (one sitemap of the first `pages` articles) and the bare spider's URL list."""
        sources, urls_file = self.tmp / f"sources-{pages}.yaml", self.tmp / f"urls-{pages}.txt"
        if not sources.exists():
            urls = [f"{self.base}/a/{i}" for i in range(pages)]
            lastmod = f"{DAY.isoformat()}T09:00:00+00:00"
            self.routes[f"/sitemap-{pages}.xml"] = (
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                + "".join(f"<url><loc>{u}</loc><lastmod>{lastmod}</lastmod></url>" for u in urls)
                + "</urlset>"
            ).encode()
            sitemap = f"{self.base}/sitemap-{pages}.xml"
            sources.write_text(json.dumps({"sources": [{"name": "bench", "sitemaps": [sitemap]}]}))
            urls_file.write_text("\n".join(urls))
        return sources, urls_file

    def run(self, label: str, pages: int) -> Result:
        sources, urls_file = self._files(pages)
        meter = self.tmp / "meter.json"
        meter.unlink(missing_ok=True)
        path = os.pathsep.join(p for p in (str(self.tmp), os.environ.get("PYTHONPATH")) if p)
        env = {**os.environ, "PYTHONPATH": path, "BENCH_METER": str(meter)}
        if label == "bare scrapy":
            env.pop("SCRAPY_SETTINGS_MODULE", None)
            settings = {**COMMON, "TELNETCONSOLE_ENABLED": False, "ROBOTSTXT_OBEY": True,
                        "EXTENSIONS": {"bench_meter.Meter": 0}}  # fmt: skip
            cmd = [sys.executable, "-m", "scrapy", "runspider", str(self.tmp / "bare.py"), *settings_args(settings)]
            # outside the checkout, so scrapy.cfg does not load our settings
            rss = run(cmd, {**env, "BENCH_URLS": str(urls_file)}, cwd=str(self.tmp))
        else:
            capture = label == "ours+capture"
            out = self.tmp / label
            settings = {**COMMON, "NEWS_POLITE": False, "NEWS_CAPTURE_ENABLED": capture,
                        "EXTENSIONS": self.ours_extensions, **self.ours}  # fmt: skip
            cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "source=bench",
                   "-a", f"start={DAY}", "-a", f"end={DAY + timedelta(days=1)}", "-a", f"out={out}",
                   "-a", f"sources={sources}", *settings_args(settings)]  # fmt: skip
            rss = run(cmd, {**env, "SCRAPY_SETTINGS_MODULE": "spiders.settings"}, cwd=str(CHECKOUT))
            summary = json.loads((out / "summary.json").read_text())
            if capture and summary["stored"] != pages:
                raise SystemExit(f"{label}: stored {summary['stored']} of {pages} pages: {summary}")
        m = json.loads(meter.read_text())
        if m["pages"] != pages:
            raise SystemExit(f"{label}: fetched {m['pages']} of {pages} pages")
        return Result(m["pages"], m["wall"], m["cpu"], rss)

    def close(self) -> None:
        self.server.shutdown()


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    """The median, with min..max."""
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}..{fmt.format(max(values))})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5, help="runs of each variant, interleaved")
    parser.add_argument("--mem-pages", type=int, help="pages of the memory check (default 4x --pages; 0: none)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a setting for ours")
    parser.add_argument("--page-kib", type=int, default=0, help="pages of about this size, of varied words")
    args = parser.parse_args()
    mem_pages = 4 * args.pages if args.mem_pages is None else args.mem_pages
    ours = dict(kv.split("=", 1) for kv in args.set)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="crawl-bench-") as tmp:
        bench = Bench(Path(tmp), max(args.pages, mem_pages), ours, args.page_kib)
        rounds: list[dict[str, Result]] = []
        for i in range(args.rounds):
            # Rotate the order each round, so no variant always runs right after the same one.
            order = VARIANTS[i % len(VARIANTS) :] + VARIANTS[: i % len(VARIANTS)]
            rounds.append({label: bench.run(label, args.pages) for label in order})
        big = {label: bench.run(label, mem_pages) for label in VARIANTS} if mem_pages else {}
        bench.close()
    print(
        f"{args.pages} pages{f' of ~{args.page_kib} KiB' if args.page_kib else ''} on loopback, politeness off, "
        f"concurrency {COMMON['CONCURRENT_REQUESTS']}, "
        f"{args.rounds} interleaved rounds, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
        f"{time.monotonic() - started:.0f} s in all{', ours with ' + str(ours) if ours else ''}"
    )
    print("median (min..max) over the rounds")
    print(f"{'run':<14}{'pages/s':>20}{'CPU ms/page':>22}{'peak MiB':>10}")
    for label in VARIANTS:
        results = [r[label] for r in rounds]
        speed = spread([r.speed for r in results], "{:.0f}")
        cpu = spread([r.cpu / r.pages * 1000 for r in results])
        print(f"{label:<14}{speed:>20}{cpu:>22}{max(r.rss for r in results):>10}")

    def ratios(a: str, b: str) -> tuple[list[float], list[float]]:
        """Per round: pages/s of a over b, and CPU per page of b over a (both > 1 when a is faster)."""
        return (
            [r[a].speed / r[b].speed for r in rounds],
            [(r[b].cpu / r[b].pages) / (r[a].cpu / r[a].pages) for r in rounds],
        )

    speed, cpu = ratios("ours+capture", "bare scrapy")
    ok = statistics.median(speed) >= 0.8
    print(f"ours+capture / bare: {spread(speed)} by pages/s, {spread(cpu)} by CPU per page"
          f"  (target >= 0.80 by pages/s) {'ok' if ok else 'MISSED'}")  # fmt: skip
    speed, cpu = ratios("ours+capture", "ours-capture")
    cost, cpu_cost = [1 - x for x in speed], [1 - x for x in cpu]
    ok = statistics.median(cost) < 0.15
    print(f"capture cost:        {spread(cost, '{:.1%}')} of pages/s, {spread(cpu_cost, '{:.1%}')} by CPU per page"
          f"  (target < 15% of pages/s) {'ok' if ok else 'MISSED'}")  # fmt: skip
    for label, result in big.items():
        small = max(r[label].rss for r in rounds)
        print(
            f"peak memory, {label}: {small} MiB at {args.pages} pages, {result.rss} MiB at {mem_pages} pages "
            f"({result.rss / small - 1:+.0%}); {result.speed:.0f} pages/s"
        )


if __name__ == "__main__":
    main()
