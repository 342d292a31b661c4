"""Run one crawl in a subprocess and return its summary.

Scrapy's Twisted reactor cannot be restarted inside a process, and Airflow's `dag.test()` runs every task
in one process, so each crawl gets a fresh interpreter.

Time: a crawl is bounded twice. The subprocess is killed after `timeout` seconds (`NEWS_CRAWL_TIMEOUT_SECONDS`
when the caller gives none, default 3600), which loses the crawl. Before that, the spider closes itself
gracefully on Scrapy's CLOSESPIDER_TIMEOUT, set to `crawl_budget()`: the timeout less a margin for the
requests the downloader already holds to end, a retry waiting in the backoff middleware, and start-up and
writing the output (with the project settings: 2880 s of 3600). What it fetched by then is kept;
summary.json says `finish_reason: closespider_timeout` and counts the requests it did not get to as
`unfinished`. The DAG's crawl task has an execution_timeout above the subprocess timeout.

Visibility: the crawl's log is relayed line by line to this module's logger while it runs (so into the Airflow
task log): its start, a progress line every NEWS_PROGRESS_SECONDS (spiders.progress: discovered, fetched,
stored, failed by reason, queued, rate), warnings and errors, and its summary. Scrapy's start-up listings
(versions, settings, enabled components) and its final stats dump are left out; after RELAY_LINES other
lines only progress lines are relayed. The last STDERR_TAIL lines of the whole log end a CrawlError.

Settings: `settings` go to Scrapy as `-s KEY=VALUE`; `NEWS_SCRAPY_SETTINGS`, a JSON object of Scrapy settings
(e.g. `{"DOWNLOAD_TIMEOUT": 2, "RETRY_TIMES": 1}`), adds defaults under them, for runs whose caller cannot
pass settings (the DAG, tests of it). Both override the project settings and each source's politeness.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import IO, Any

from newsconfig.env import crawl_timeout
from newsconfig.env import scrapy_settings as env_settings

log = logging.getLogger(__name__)

STDERR_TAIL = 60  # lines of the crawler's log shown in an error
RELAY_LINES = 1000  # lines relayed besides progress lines; a crawl of a hostile site must not flood the task log
# Scrapy's start-up listings and its final stats dump: long, and in summary.json or the settings already
QUIET_LOGGERS = frozenset({"scrapy.utils.log", "scrapy.crawler", "scrapy.middleware", "scrapy.addons",
                           "scrapy.extensions.logstats", "scrapy.statscollectors"})  # fmt: skip
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[(?P<logger>[^\]]+)\] (?P<level>[A-Z]+): (?P<message>.*)$")
_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR,
           "CRITICAL": logging.CRITICAL}  # fmt: skip
CLOSE_OVERHEAD = 10.0  # seconds at least for interpreter start-up (the budget starts at spider open) and output
CLOSE_OVERHEAD_SHARE = 0.05  # … or this share of the timeout, whichever is longer


class CrawlError(RuntimeError):
    """The crawl subprocess failed; the message ends with the tail of its log."""


def run_crawl(
    source: str,
    start: date,
    end: date,
    out: str | Path,
    sources_path: str | None = None,
    settings: dict | None = None,
    timeout: float | None = None,
) -> dict:
    """Crawl `source` for [start, end) into `out` (a folder or s3://bucket/prefix); returns summary.json.

    `timeout`: seconds before the subprocess is killed (default: `crawl_timeout()`); the spider itself stops
    fetching at `crawl_budget()` seconds, keeping what it has. A CLOSESPIDER_TIMEOUT in the settings is
    honoured when it is shorter.
    """
    out = str(out)
    timeout = crawl_timeout() if timeout is None else float(timeout)
    all_settings: dict[str, Any] = {**env_settings(), **(settings or {})}
    budget = crawl_budget(timeout, _effective(all_settings, source, sources_path))
    if all_settings.get("CLOSESPIDER_TIMEOUT"):
        budget = min(budget, float(all_settings["CLOSESPIDER_TIMEOUT"]))
    all_settings["CLOSESPIDER_TIMEOUT"] = budget
    with tempfile.TemporaryDirectory(prefix="news-crawl-") as tmp:
        local = Path(tmp) / "out" if out.startswith("s3://") else Path(out)
        cmd = [sys.executable, "-m", "scrapy", "crawl", "news",
               "-a", f"source={source}", "-a", f"start={start.isoformat()}", "-a", f"end={end.isoformat()}",
               "-a", f"out={out}"]  # fmt: skip
        if sources_path:
            cmd += ["-a", f"sources={Path(sources_path).resolve()}"]
        if out.startswith("s3://"):
            all_settings["NEWS_LOCAL_DIR"] = str(local)
        for key, value in all_settings.items():
            cmd += ["-s", f"{key}={_setting(value)}"]
        env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "spiders.settings", "PYTHONUNBUFFERED": "1"}
        log.info("crawl of %s for [%s, %s) starting (stops fetching after %.0f s)", source, start, end, budget)
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        relay = LogRelay(source)
        reader = threading.Thread(target=relay.read, args=(proc.stdout,), name=f"crawl-log-{source}", daemon=True)
        reader.start()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired as e:
            proc.kill()
            proc.wait()
            reader.join(10)
            raise CrawlError(f"crawl of {source} timed out after {timeout} s{relay.tail()}") from e
        finally:
            if proc.poll() is None:  # interrupted (the task was killed or timed out): never leave the crawl behind
                proc.kill()
                proc.wait()
        reader.join(30)
        summary_path = local / "summary.json"
        if proc.returncode != 0 or not summary_path.exists():
            raise CrawlError(
                f"crawl of {source} for {start}..{end} failed (exit {proc.returncode}"
                f"{', no summary.json' if not summary_path.exists() else ''}){relay.tail()}"
            )
        summary = json.loads(summary_path.read_text())
        if out.startswith("s3://") and summary.get("upload_error"):
            raise CrawlError(f"upload to {out} failed: {summary['upload_error']}{relay.tail()}")
        return summary


def crawl_budget(timeout: float, settings: dict[str, Any]) -> float:
    """Seconds the spider may fetch for (its CLOSESPIDER_TIMEOUT) so that it is done within `timeout`.

    When the budget runs out Scrapy stops taking requests from its queue but lets the downloader finish what
    it holds: up to CONCURRENT_REQUESTS requests, CONCURRENT_REQUESTS_PER_DOMAIN at a time, each after its
    download delay (AUTOTHROTTLE_MAX_DELAY with AutoThrottle) and taking up to DOWNLOAD_TIMEOUT. The margin
    covers those waves, a retry waiting in the backoff middleware (the larger of RETRY_AFTER_MAX and
    RETRY_BACKOFF_MAX), and interpreter start-up plus writing the output (CLOSE_OVERHEAD, or
    CLOSE_OVERHEAD_SHARE of the timeout). A timeout shorter than twice that margin gets half of it as budget:
    the margin may then not suffice.
    """
    throttled = settings["AUTOTHROTTLE_ENABLED"]
    delay = float(settings["AUTOTHROTTLE_MAX_DELAY"] if throttled else settings["DOWNLOAD_DELAY"])
    per_domain = max(1, int(settings["CONCURRENT_REQUESTS_PER_DOMAIN"]))
    waves = math.ceil(max(1, int(settings["CONCURRENT_REQUESTS"])) / per_domain)
    drain = waves * (float(settings["DOWNLOAD_TIMEOUT"]) + delay)
    wait = max(float(settings["RETRY_AFTER_MAX"]), float(settings["RETRY_BACKOFF_MAX"]))
    margin = drain + wait + max(CLOSE_OVERHEAD, CLOSE_OVERHEAD_SHARE * timeout)
    return round(max(timeout - margin, timeout / 2), 1)


BUDGET_SETTINGS = (
    "DOWNLOAD_TIMEOUT", "DOWNLOAD_DELAY", "AUTOTHROTTLE_ENABLED", "AUTOTHROTTLE_MAX_DELAY", "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN", "RETRY_AFTER_MAX", "RETRY_BACKOFF_MAX",
)  # fmt: skip


def _effective(settings: dict[str, Any], source: str, sources_path: str | None) -> dict[str, Any]:
    """The settings `crawl_budget` needs, as the crawl will have them: `settings`, else the source's politeness,
    else the project's. (NEWS_POLITE=False relaxes some in the spider; ignoring that only widens the margin.)"""
    from spiders import settings as project

    try:
        from newsconfig.sources import get_source

        politeness = get_source(source, sources_path).scrapy_settings()
    except Exception:  # noqa: BLE001 - a bad source fails the crawl itself, with Scrapy's message in the log
        politeness = {}
    values = {k: settings.get(k, politeness.get(k, getattr(project, k))) for k in BUDGET_SETTINGS}
    throttle = values["AUTOTHROTTLE_ENABLED"]  # a string as Scrapy's getbool reads it: "False" and "0" are off
    values["AUTOTHROTTLE_ENABLED"] = throttle.lower() in ("1", "true") if isinstance(throttle, str) else bool(throttle)
    return values


def _setting(value: Any) -> str:
    """A setting as `-s` text: dicts as JSON (Scrapy's getdict parses it), lists comma-joined (its getlist splits)."""
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
        if any("," in item for item in items):
            raise ValueError(f"a list setting item cannot hold a comma on the command line: {items}")
        return ",".join(items)
    return str(value)


class LogRelay:
    """Relays a crawl's output lines to `log` as they come (see the module docstring), keeping a tail."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: deque[str] = deque(maxlen=STDERR_TAIL)
        self.relayed = self.withheld = 0
        self.logger = "?"  # the logger of the current entry: continuation lines (tracebacks) follow it
        self.level = logging.INFO

    def read(self, stream: IO[bytes]) -> None:
        self.feed(raw.decode("utf-8", "replace").rstrip("\r\n") for raw in stream)

    def feed(self, lines: Iterable[str]) -> None:
        from spiders.progress import PREFIX

        for line in lines:
            self.lines.append(line)
            match = _LOG_LINE.match(line)
            if match:
                self.logger, self.level = match["logger"], _LEVELS.get(match["level"], logging.INFO)
                text = f"[{self.logger}] {match['message']}"
            else:
                text = line
            progress = PREFIX in line
            if self.logger in QUIET_LOGGERS and self.level < logging.WARNING and not progress:
                continue
            if not progress and self.relayed >= RELAY_LINES:
                self.withheld += 1
                if self.withheld == 1:
                    log.warning(
                        "crawl %s: more than %d log lines; only progress lines follow", self.source, RELAY_LINES
                    )
                continue
            if not progress:
                self.relayed += 1
            log.log(self.level, "crawl %s: %s", self.source, text)

    def tail(self) -> str:
        return ":\n" + "\n".join(self.lines) if self.lines else ""
