"""Run one crawl in a subprocess and return its summary.

Scrapy's Twisted reactor cannot be restarted inside a process, and Airflow's `dag.test()` runs every task
in one process, so each crawl gets a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

STDERR_TAIL = 60  # lines of the crawler's log shown in an error


class CrawlError(RuntimeError):
    """The crawl subprocess failed; the message ends with the tail of its log."""


def run_crawl(
    source: str,
    start: date,
    end: date,
    out: str | Path,
    sources_path: str | None = None,
    settings: dict | None = None,
    timeout: float = 3600,
) -> dict:
    """Crawl `source` for [start, end) into `out` (a folder or s3://bucket/prefix); returns summary.json."""
    out = str(out)
    with tempfile.TemporaryDirectory(prefix="news-crawl-") as tmp:
        local = Path(tmp) / "out" if out.startswith("s3://") else Path(out)
        cmd = [sys.executable, "-m", "scrapy", "crawl", "news",
               "-a", f"source={source}", "-a", f"start={start.isoformat()}", "-a", f"end={end.isoformat()}",
               "-a", f"out={out}"]  # fmt: skip
        if sources_path:
            cmd += ["-a", f"sources={Path(sources_path).resolve()}"]
        all_settings: dict[str, Any] = {**(settings or {})}
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


def _setting(value: Any) -> str:
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _tail(path: Path) -> str:
    lines = path.read_text(errors="replace").splitlines()[-STDERR_TAIL:]
    return ":\n" + "\n".join(lines) if lines else ""
