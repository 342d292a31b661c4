"""A crawl as the DAG runs it: its progress reaches the caller's log while it runs, it opens no control
endpoint, writes nothing to the home directory, and a wrong `scrapy crawl news` argument is one line."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import psutil
import pytest
import yaml

from spiders.crawl import RELAY_LINES, LogRelay, run_crawl
from spiders.progress import PREFIX, progress_line

ROOT = Path(__file__).resolve().parents[1]
DAY = date(2026, 11, 20)
pytestmark = pytest.mark.timeout(180)


class Records(logging.Handler):
    """Every record of the `spiders.crawl` logger, with the wall-clock time it arrived."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[float, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((time.monotonic(), record.levelno, record.getMessage()))


def _listening_sockets(pid: int, before: set[int], found: set, stop: threading.Event) -> None:
    """Collect the listening sockets of `pid`'s children (the crawl subprocess) until `stop`; the children in
    `before`, running before the crawl (a session's local S3 server), are not the crawl's."""
    while not stop.is_set():
        try:
            for child in psutil.Process(pid).children(recursive=True):
                if child.pid in before:
                    continue
                for conn in child.net_connections(kind="inet"):
                    if conn.status == psutil.CONN_LISTEN:
                        found.add((child.pid, conn.laddr))
        except psutil.Error:
            pass
        time.sleep(0.1)


def test_a_running_crawl_logs_progress_opens_no_endpoint_and_leaves_home_alone(tmp_path, monkeypatch):
    from demo_site import DemoSite

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in [k for k in os.environ if k.startswith("XDG_")]:
        monkeypatch.delenv(name)  # platformdirs would use these instead of HOME
    handler = Records()
    logger = logging.getLogger("spiders.crawl")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    listening: set = set()
    stop = threading.Event()
    before = {c.pid for c in psutil.Process().children(recursive=True)}
    watcher = threading.Thread(target=_listening_sockets, args=(os.getpid(), before, listening, stop), daemon=True)
    try:
        with DemoSite(DAY) as demo:
            sources = tmp_path / "sources.yaml"
            demo.write_sources(sources)
            doc = yaml.safe_load(sources.read_text())
            for entry in doc["sources"]:  # polite enough that the crawl lasts a few seconds
                entry["politeness"] = {"download_delay": 1.0, "autothrottle": False, "concurrency": 1}
            sources.write_text(yaml.safe_dump(doc))
            watcher.start()
            summary = run_crawl(
                "millbrook", DAY, DAY + timedelta(days=1), tmp_path / "out", str(sources),
                {"NEWS_PROGRESS_SECONDS": 1, "RANDOMIZE_DOWNLOAD_DELAY": False}, timeout=120,
            )  # fmt: skip
            ended = time.monotonic()
    finally:
        stop.set()
        logger.removeHandler(handler)
    assert summary["stored"] > 0 and summary["finish_reason"] == "finished"

    progress = [(t, m) for t, _, m in handler.seen if PREFIX in m]
    assert len(progress) >= 3, [m for _, _, m in handler.seen]
    # relayed while the crawl ran, about a second apart, not all at its end
    assert progress[0][0] < ended - 1.5
    gaps = [b[0] - a[0] for a, b in zip(progress, progress[1:-1], strict=False)]
    assert gaps and max(gaps) < 10, gaps
    last = progress[-1][1]
    assert f"{summary['stored']} stored" in last and "finished: finished" in last
    assert f"{summary['discovered']} discovered" in last and "pages/s" in last
    messages = [m for _, _, m in handler.seen]
    assert any("Spider opened" in m for m in messages)
    assert not any("Enabled downloader middlewares" in m or "Overridden settings" in m for m in messages)

    assert listening == set(), f"the crawl listened on {listening}"
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == [], "the crawl wrote to the home directory"


def test_progress_line_counts_failures_by_reason():
    stats = {
        "news/discovered": 12, "news/in_window": 9, "news/fetched": 7, "news/stored": 6,
        "news/rejected/http_503": 2, "news/rejected/timeout": 1, "news/rejected/out_of_window": 3,
        "news/discovery_errors/connection_refused": 1, "news/discovery_errors/malformed_xml": 1,
        "scheduler/enqueued": 20, "scheduler/dequeued": 15, "news/documents": 4,
    }  # fmt: skip
    line = progress_line(stats, elapsed=3.5, recent_rate=1.0)
    assert line.startswith(PREFIX)
    for part in ("12 discovered", "9 in window", "7 fetched", "6 stored", "5 queued", "4 feeds/sitemaps read",
                 "2.0 pages/s (1.0 in the last interval)", "4 failed (http_503 2, "):
        assert part in line, line  # fmt: skip
    assert "connection_refused (feed/sitemap) 1" in line and "timeout 1" in line
    assert "out_of_window" not in line and "malformed_xml" not in line  # decisions, not fetch failures


def test_the_relay_bounds_what_it_forwards_but_keeps_every_progress_line(caplog):
    relay = LogRelay("flood")
    lines = [f"2026-12-04 10:00:00 [spiders.spiders.news] WARNING: discovery document {i} failed: timeout"
             for i in range(RELAY_LINES + 50)]  # fmt: skip
    lines.insert(RELAY_LINES + 10, f"2026-12-04 10:00:01 [spiders.progress] INFO: {PREFIX} 1 discovered")
    lines.insert(5, "2026-12-04 10:00:00 [scrapy.middleware] INFO: Enabled extensions:")
    with caplog.at_level(logging.INFO, logger="spiders.crawl"):
        relay.feed(lines)
    forwarded = [r.getMessage() for r in caplog.records]
    assert sum("discovery document" in m for m in forwarded) == RELAY_LINES
    assert any(PREFIX in m for m in forwarded)
    assert not any("Enabled extensions" in m for m in forwarded)
    assert any("only progress lines follow" in m for m in forwarded)
    warning = next(r for r in caplog.records if "discovery document 0 " in r.getMessage())
    assert warning.levelno == logging.WARNING and warning.getMessage().startswith("crawl flood: [spiders.spiders")
    assert relay.tail().count("\n") == 60  # the tail of the whole log, for an error message


BAD_ARGUMENTS = {
    "bad date": ({"source": "x", "start": "2023-13-01", "end": "2023-13-02"},
                 "start='2023-13-01' is not a date YYYY-MM-DD (month must be in 1..12)"),
    "empty window": ({"source": "x", "start": "2023-01-02", "end": "2023-01-01"},
                     "end=2023-01-01 must be after start=2023-01-02"),
    "unknown source": ({"source": "nope", "start": "2023-01-01", "end": "2023-01-02"},
                       "no source named 'nope'; known: ['x']"),
    "missing": ({"start": "2023-01-01"}, "missing -a source=…, -a end=…; usage: scrapy crawl news -a source=NAME"),
    "typo": ({"sorce": "x"}, "unknown argument(s) sorce"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_ARGUMENTS))
def test_the_news_spider_arguments_are_checked_before_scrapy_starts(case, tmp_path):
    from spiders.commands.crawl import check_news_arguments

    spargs, expected = BAD_ARGUMENTS[case]
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - name: x\n    feeds: [http://127.0.0.1:9/rss]\n")
    with pytest.raises(ValueError) as caught:
        check_news_arguments({**spargs, "sources": str(sources)} if "source" in spargs else spargs)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_scrapy_crawl_news_with_a_wrong_argument_says_so_in_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "source=moscowtimes", "-a", "start=2023-13-01",
         "-a", "end=2023-13-02"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "scrapy crawl news: error: start='2023-13-01' is not a date YYYY-MM-DD (month must be in 1..12)\n"
    )
