"""Run-time configuration from the standard environment (no home-made config files)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def bucket() -> str:
    """The bucket everything is written to: `NEWS_BUCKET`."""
    name = os.environ.get("NEWS_BUCKET", "").strip()
    if not name:
        raise RuntimeError("NEWS_BUCKET is not set: export the name of the S3 bucket to write to")
    return name


def sources_path() -> Path:
    """The sources file: `NEWS_SOURCES`, default `sources.yaml`.

    A relative path is looked up in the working directory first, then in the project root,
    because Airflow workers do not run in the checkout's directory.
    """
    path = Path(os.environ.get("NEWS_SOURCES", "sources.yaml"))
    if path.is_absolute() or path.exists():
        return path
    return PROJECT_ROOT / path


def dedup_days() -> int:
    """How many earlier days' raw indexes a crawl skips captures from: `NEWS_DEDUP_DAYS`, default 7 (0: off)."""
    text = os.environ.get("NEWS_DEDUP_DAYS", "7").strip()
    if not text.isdigit():
        raise RuntimeError(f"NEWS_DEDUP_DAYS must be a whole number of days (0: no cross-day dedup), not {text!r}")
    return int(text)
