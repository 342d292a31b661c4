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

Settings: `settings` go to Scrapy as `-s KEY=VALUE`; `NEWS_SCRAPY_SETTINGS`, a JSON object of Scrapy settings
(e.g. `{"DOWNLOAD_TIMEOUT": 2, "RETRY_TIMES": 1}`), adds defaults under them, for runs whose caller cannot
pass settings (the DAG, tests of it). Both override the project settings and each source's politeness.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from newsconfig.env import crawl_timeout
from newsconfig.env import scrapy_settings as env_settings

STDERR_TAIL = 60  # lines of the crawler's log shown in an error
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
        env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "spiders.settings"}
        log_path = Path(tmp) / "crawl.log"
        with open(log_path, "wb") as log:
            try:
                done = subprocess.run(
                    cmd, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False
                )
            except subprocess.TimeoutExpired as e:
                raise CrawlError(f"crawl of {source} timed out after {timeout} s{_tail(log_path)}") from e
        summary_path = local / "summary.json"
        if done.returncode != 0 or not summary_path.exists():
            raise CrawlError(
                f"crawl of {source} for {start}..{end} failed (exit {done.returncode}"
                f"{', no summary.json' if not summary_path.exists() else ''}){_tail(log_path)}"
            )
        summary = json.loads(summary_path.read_text())
        if out.startswith("s3://") and summary.get("upload_error"):
            raise CrawlError(f"upload to {out} failed: {summary['upload_error']}{_tail(log_path)}")
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


def _tail(path: Path) -> str:
    lines = path.read_text(errors="replace").splitlines()[-STDERR_TAIL:]
    return ":\n" + "\n".join(lines) if lines else ""
