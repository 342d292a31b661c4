"""A 30-day backfill of one fixture source from the web archive, beside the same articles crawled live.

    .venv/bin/python bench/archive_backfill.py [--rounds 3] [--delay 1.0] [--days 30]

The archive is the loopback Wayback fixture of tests/archive_site.py (a CDX API and raw `id_` captures) holding a
month of the demo publisher `millbrook` (and two other publishers' pages, which discovery must leave out); the
live site serves the same article pages and a sitemap listing them. Each round runs, in a rotating order:

- `live`: the news spider over the sitemap, politeness off (the loopback site is ours);
- `archive`: CDX discovery (spiders.cdx) then the spider with `NEWS_DISCOVER=archives` under the archive's own
  politeness: one request at a time, `--delay` seconds apart (the project's default, NEWS_ARCHIVE_DELAY_SECONDS);
- `archive, no delay`: the same with delay 0, the work the archive path costs without the waiting.

Printed per variant (medians over rounds): requests per stored article, stored articles per second of crawl
(wall), CPU seconds of the crawl process per article, peak memory of the crawl process (VmHWM), and the ratios to
`live` taken within each round.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import yaml  # noqa: E402

from tests.archive_site import ARTICLE_PATTERNS, ArchiveSite, month_of_captures  # noqa: E402

START = date(2023, 3, 1)
SOURCE = "millbrook"


class Live:
    """The live site: the capture bodies at their paths, and /sitemap.xml listing the articles with their dates."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[str, bytes]] = {}
        self.requests = 0
        live = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                live.requests += 1
                kind, body = live.files.get(self.path.split("?")[0], ("text/plain", b""))
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _crawl(source_file: Path, days: int, settings: dict, tmp: Path) -> dict:
    from spiders import settings as project
    from spiders.crawl import run_crawl

    peak = tmp / "peak"
    settings = {
        **settings,
        "EXTENSIONS": {**project.EXTENSIONS, "tests.hostile_site.PeakMemory": 0},
        "PEAK_MEMORY_FILE": str(peak),
        "LOG_LEVEL": "WARNING",
    }
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    summary = run_crawl(
        SOURCE, START, START + timedelta(days=days), tmp / "out", str(source_file), settings, timeout=3600
    )
    seconds = time.monotonic() - began
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    return {"stored": summary["stored"], "seconds": seconds, "cpu": cpu, "peak": float(peak.read_text())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds between archive requests")
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args(argv)
    from spiders.cdx import CdxClient, UrlRules, capture_window, write_candidates

    live = Live()
    anchors = [START + timedelta(days=d) for d in range(3, args.days + 4, 4)]
    captures, articles = month_of_captures(anchors, bases={SOURCE: live.base})
    end = START + timedelta(days=args.days)
    window = {u for u, a in articles[SOURCE].items() if START <= a.published.astimezone(UTC).date() < end}
    live.files = {
        c.original.removeprefix(live.base): (c.mimetype, c.body) for c in captures if c.original.startswith(live.base)
    }
    urls = "".join(f"<url><loc>{u}</loc></url>" for u in sorted(articles[SOURCE]))
    live.files["/sitemap.xml"] = (
        "application/xml",
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode(),
    )
    pattern = ARTICLE_PATTERNS[SOURCE].replace(r"http://millbrook\.example", live.base.replace(".", r"\."))
    tmp = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    source_file = tmp / "sources.yaml"
    source_file.write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {
                        "name": SOURCE,
                        "sitemaps": [live.base + "/sitemap.xml"],
                        "allowed_domains": ["127.0.0.1"],
                        "article_url_patterns": [pattern],
                        "archives": ["wayback"],
                        "politeness": {"download_delay": 0, "autothrottle": False},
                    }
                ]
            }
        )
    )
    print(f"{len(window)} articles of {SOURCE} published in [{START}, {end}); {len(captures)} captures in the archive")
    results: dict[str, list[dict]] = {"live": [], "archive": [], "archive, no delay": []}
    with ArchiveSite(captures) as archive:
        for r in range(args.rounds):
            order = list(results)[r % 3 :] + list(results)[: r % 3]
            for variant in order:
                work = tmp / f"{r}-{variant.replace(' ', '').replace(',', '')}"
                work.mkdir()
                if variant == "live":
                    before = live.requests
                    got = _crawl(source_file, args.days, {"NEWS_POLITE": False}, work)
                    got["requests"] = live.requests - before
                else:
                    delay = args.delay if variant == "archive" else 0.0
                    cdx0, raw0 = len(archive.cdx_log), len(archive.raw_log)
                    began = time.monotonic()
                    begin, stop = capture_window(START, end, 7)
                    found = CdxClient(archive.cdx_url, archive.web_url, delay=delay).discover(
                        UrlRules.of(_source(source_file)), begin, stop
                    )
                    discovery = time.monotonic() - began
                    listed = write_candidates(found.candidates, work / "candidates.jsonl")
                    settings = {
                        "NEWS_POLITE": False,
                        "NEWS_DISCOVER": "archives",
                        "NEWS_ARCHIVE_CANDIDATES": str(listed),
                        "NEWS_ARCHIVE_DELAY": delay,
                        "NEWS_ARCHIVE_CONCURRENCY": 1,
                    }
                    got = _crawl(source_file, args.days, settings, work)
                    got["requests"] = (len(archive.cdx_log) - cdx0) + (len(archive.raw_log) - raw0)
                    got["seconds"] += discovery
                results[variant].append(got)
                print(
                    f"  round {r + 1} {variant}: {got['stored']} stored, {got['requests']} requests, "
                    f"{got['seconds']:.1f} s, CPU {got['cpu']:.2f} s, peak {got['peak']:.0f} MiB",
                    flush=True,
                )

    def med(variant: str, f) -> float:
        return statistics.median(f(x) for x in results[variant])

    print(
        "\n| variant | stored | requests / stored article | articles / s | CPU s / article | peak MiB |"
        " ratio to live: articles/s, CPU/article, peak |\n| --- | --- | --- | --- | --- | --- | --- |"
    )
    for variant in results:
        ratios = [
            (x["stored"] / x["seconds"]) / (y["stored"] / y["seconds"])
            for x, y in zip(results[variant], results["live"], strict=True)
        ]
        cpu = [
            (x["cpu"] / x["stored"]) / (y["cpu"] / y["stored"])
            for x, y in zip(results[variant], results["live"], strict=True)
        ]
        peak = [x["peak"] / y["peak"] for x, y in zip(results[variant], results["live"], strict=True)]
        print(
            f"| {variant} | {med(variant, lambda x: x['stored']):.0f} | "
            f"{med(variant, lambda x: x['requests'] / max(x['stored'], 1)):.2f} | "
            f"{med(variant, lambda x: x['stored'] / x['seconds']):.2f} | "
            f"{med(variant, lambda x: x['cpu'] / max(x['stored'], 1)):.3f} | {med(variant, lambda x: x['peak']):.0f} | "
            f"{statistics.median(ratios):.2f}x, {statistics.median(cpu):.2f}x, {statistics.median(peak):.2f}x |"
        )
    return 0


def _source(path: Path):
    from newsconfig.sources import load_sources

    return load_sources(path)[0]


if __name__ == "__main__":
    sys.exit(main())
