"""Run-time configuration from the standard environment (no home-made config files).

Every `NEWS_*` variable is read here and nowhere else; a bad value raises ValueError naming the variable.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CRAWL_TIMEOUT = 3600.0  # seconds


def _text(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def bucket() -> str:
    """The bucket everything is written to: `NEWS_BUCKET`."""
    name = _text("NEWS_BUCKET")
    if not name:
        raise RuntimeError("NEWS_BUCKET is not set: export the name of the S3 bucket to write to")
    return name


def bucket_or(default: str) -> str:
    """`NEWS_BUCKET`, or `default` where a name is needed before it must be set (a DAG's asset URI)."""
    return _text("NEWS_BUCKET") or default


def sources_path() -> Path:
    """The sources file: `NEWS_SOURCES`, default `sources.yaml`.

    A relative path is looked up in the working directory first, then in the project root,
    because Airflow workers do not run in the checkout's directory.
    """
    path = Path(_text("NEWS_SOURCES") or "sources.yaml")
    if path.is_absolute() or path.exists():
        return path
    checkout = PROJECT_ROOT / path
    return checkout if checkout.exists() else path


def _whole(name: str, default: int, meaning: str) -> int:
    text = _text(name, str(default))
    if not text.isdigit():
        raise ValueError(f"{name} must be a whole number ({meaning}), not {text!r}")
    return int(text)


def _seconds(name: str, default: float) -> float:
    text = _text(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {text!r}")
    return value


def dedup_days() -> int:
    """How many earlier days' raw indexes a crawl skips captures from: `NEWS_DEDUP_DAYS`, default 7 (0: off)."""
    return _whole("NEWS_DEDUP_DAYS", 7, "days; 0: no cross-day dedup")


def task_retries() -> int:
    """Retries of every task of the DAG: `NEWS_TASK_RETRIES`, default 2."""
    return _whole("NEWS_TASK_RETRIES", 2, "retries per task")


def retry_delay() -> timedelta:
    """The first retry's delay, then doubling: `NEWS_RETRY_DELAY_SECONDS`, default 30."""
    return timedelta(seconds=_seconds("NEWS_RETRY_DELAY_SECONDS", 30.0))


def crawl_timeout() -> float:
    """`NEWS_CRAWL_TIMEOUT_SECONDS`: how long a crawl may run before its subprocess is killed (default 3600)."""
    return _seconds("NEWS_CRAWL_TIMEOUT_SECONDS", DEFAULT_CRAWL_TIMEOUT)


def clean_doc_seconds() -> float:
    """`NEWS_CLEAN_DOC_SECONDS`: the CPU time cleaning one document may use before it is rejected as
    `too_slow` and its worker process replaced (default 60; whole seconds, rounded up)."""
    return _seconds("NEWS_CLEAN_DOC_SECONDS", 60.0)


def crawl_pool() -> str:
    """The Airflow pool of the crawl tasks: `NEWS_CRAWL_POOL`, default Airflow's `default_pool`."""
    return _text("NEWS_CRAWL_POOL") or "default_pool"


def contact() -> str:
    """The contact put in the crawler's user agent: `NEWS_CONTACT`."""
    return _text("NEWS_CONTACT") or "mailto:data@example.org"


def scrapy_settings() -> dict[str, Any]:
    """`NEWS_SCRAPY_SETTINGS`: a JSON object of Scrapy settings for every crawl (empty when unset)."""
    text = _text("NEWS_SCRAPY_SETTINGS")
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"NEWS_SCRAPY_SETTINGS is not valid JSON: {e}") from e
    if not isinstance(value, dict):
        raise ValueError(f"NEWS_SCRAPY_SETTINGS must be a JSON object of Scrapy settings, not {text!r}")
    return value


def state_days() -> int:
    """How far back a clean looks for an earlier published day's boilerplate state: `NEWS_STATE_DAYS`, default 7."""
    return _whole("NEWS_STATE_DAYS", 7, "days; 0: every clean starts from an empty state")


def near_dup_days() -> int:
    """How many days before a clean's day its articles are compared with for near-duplicates (ingest.neardup):
    `NEWS_NEAR_DUP_DAYS`, default 7."""
    return _whole("NEWS_NEAR_DUP_DAYS", 7, "days; 0: only the articles of the same source and day")


def near_dup_threshold() -> float:
    """The estimated Jaccard similarity of two texts' shingles from which they are near-duplicates:
    `NEWS_NEAR_DUP_THRESHOLD`, default 0.5 (bench/near_duplicates.py)."""
    text = _text("NEWS_NEAR_DUP_THRESHOLD", "0.5")
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 0.95:  # above, the LSH index has fewer than two bands (datasketch refuses it)
        raise ValueError(f"NEWS_NEAR_DUP_THRESHOLD must be a number in (0, 0.95], not {text!r}")
    return value


def state_wait() -> float:
    """How long a clean waits for the runs of earlier days in its state window: `NEWS_STATE_WAIT_SECONDS` (3 h)."""
    return _seconds("NEWS_STATE_WAIT_SECONDS", 3 * 3600.0)


def retention_days() -> int:
    """How long replaced files stay (time travel, superseded raw attempts, staging): `NEWS_RETENTION_DAYS`, 7."""
    return _whole("NEWS_RETENTION_DAYS", 7, "days")


def clean_asset_uri() -> str:
    """The Airflow asset of the clean Delta table, one URI for the DAG that publishes it and those that read it."""
    return f"s3://{bucket_or('news-ingest')}/clean/"


# --- web archives (issue #16): every endpoint is configuration, so tests point them at loopback ---------------


def _url(name: str, default: str) -> str:
    text = _text(name) or default
    if not text.startswith(("http://", "https://")):
        raise ValueError(f"{name} must be an http(s) URL, not {text!r}")
    return text.rstrip("/")


def wayback_cdx_url() -> str:
    """The Wayback Machine's CDX API: `NEWS_WAYBACK_CDX_URL`, default the Internet Archive's."""
    return _url("NEWS_WAYBACK_CDX_URL", "https://web.archive.org/cdx/search/cdx")


def wayback_url() -> str:
    """Where Wayback captures are read (`<this>/<timestamp>id_/<url>`): `NEWS_WAYBACK_URL`."""
    return _url("NEWS_WAYBACK_URL", "https://web.archive.org/web")


def archive_page_size() -> int:
    """Rows per CDX page (`limit`, then resume keys): `NEWS_ARCHIVE_PAGE_SIZE`, default 1000."""
    return max(1, _whole("NEWS_ARCHIVE_PAGE_SIZE", 1000, "rows per CDX page"))


def archive_max_pages() -> int:
    """CDX pages read per source and window at most (a guard against a runaway index): default 200."""
    return max(1, _whole("NEWS_ARCHIVE_MAX_PAGES", 200, "CDX pages per query"))


def archive_capture_lag_days() -> int:
    """Days after the window's end whose captures may still hold its articles: `NEWS_ARCHIVE_CAPTURE_LAG_DAYS`, 7.

    The window is on publication dates, the CDX query on capture times: an article is often archived days later.
    """
    return _whole("NEWS_ARCHIVE_CAPTURE_LAG_DAYS", 7, "days")


def archive_delay() -> float:
    """Seconds between two requests to an archive host (its politeness): `NEWS_ARCHIVE_DELAY_SECONDS`, 1.

    0 is allowed (a loopback fixture)."""
    text = _text("NEWS_ARCHIVE_DELAY_SECONDS")
    if not text:
        return 1.0
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= 0:
        raise ValueError(f"NEWS_ARCHIVE_DELAY_SECONDS must be a number of seconds >= 0, not {text!r}")
    return value


def archive_concurrency() -> int:
    """Requests to one archive host at once: `NEWS_ARCHIVE_CONCURRENCY`, default 1 (what a public archive bears)."""
    return max(1, _whole("NEWS_ARCHIVE_CONCURRENCY", 1, "requests at once"))


def archive_retry_after_max() -> float:
    """The longest `Retry-After` the CDX client waits (a longer one waits this long): default 60 s."""
    return _seconds("NEWS_ARCHIVE_RETRY_AFTER_MAX", 60.0)


def commoncrawl_index_url() -> str:
    """Common Crawl's index server (`collinfo.json`, one CDX API per crawl): `NEWS_COMMONCRAWL_INDEX_URL`."""
    return _url("NEWS_COMMONCRAWL_INDEX_URL", "https://index.commoncrawl.org")


def commoncrawl_data_url() -> str:
    """Where Common Crawl's files are read over HTTP (its public bucket): `NEWS_COMMONCRAWL_DATA_URL`."""
    return _url("NEWS_COMMONCRAWL_DATA_URL", "https://data.commoncrawl.org")


# Alerts (ingest/alerts.py): where notices go, and when a day's numbers are an anomaly.


def alert_emails() -> list[str]:
    """Recipients of failure and anomaly notices: `NEWS_ALERT_EMAIL`, comma-separated (empty: no e-mail)."""
    found = [a.strip() for a in _text("NEWS_ALERT_EMAIL").split(",") if a.strip()]
    bad = [a for a in found if "@" not in a or " " in a]
    if bad:
        raise ValueError(f"NEWS_ALERT_EMAIL must be comma-separated e-mail addresses, not {bad}")
    return found


def alert_sender() -> str:
    """The From of alert e-mails: `NEWS_ALERT_FROM`, default news-ingest@localhost."""
    return _text("NEWS_ALERT_FROM") or "news-ingest@localhost"


def smtp_server() -> dict[str, Any]:
    """The SMTP server alert e-mails go through: `NEWS_SMTP_HOST` (localhost), `NEWS_SMTP_PORT` (25), and, for a
    server that wants a login, `NEWS_SMTP_USER` and `NEWS_SMTP_PASSWORD` (then STARTTLS is required first, so a
    password never crosses the network in clear)."""
    port = _whole("NEWS_SMTP_PORT", 25, "a TCP port")
    if not 0 < port < 65536:
        raise ValueError(f"NEWS_SMTP_PORT must be a TCP port (1-65535), not {port}")
    user, password = _text("NEWS_SMTP_USER"), os.environ.get("NEWS_SMTP_PASSWORD", "")
    if bool(user) != bool(password):
        raise ValueError("NEWS_SMTP_USER and NEWS_SMTP_PASSWORD are set together or not at all")
    return {"host": _text("NEWS_SMTP_HOST") or "localhost", "port": port, "user": user, "password": password}


WEBHOOK_FORMATS = ("json", "slack")


def alert_webhook() -> tuple[str, str] | None:
    """`NEWS_ALERT_WEBHOOK`: a URL the notices are POSTed to as JSON (None: no webhook), with its
    `NEWS_ALERT_WEBHOOK_FORMAT`: `json` (default; the notice's fields and its text) or `slack` (a Slack incoming
    webhook's `{"text": …}`)."""
    url = _text("NEWS_ALERT_WEBHOOK")
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"NEWS_ALERT_WEBHOOK must be an http(s) URL, not {url!r}")
    kind = _text("NEWS_ALERT_WEBHOOK_FORMAT") or "json"
    if kind not in WEBHOOK_FORMATS:
        raise ValueError(f"NEWS_ALERT_WEBHOOK_FORMAT must be one of {WEBHOOK_FORMATS}, not {kind!r}")
    return url, kind


def _number(name: str, default: float, meaning: str) -> float:
    text = _text(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= 0:
        raise ValueError(f"{name} must be a number >= 0 ({meaning}), not {text!r}")
    return value


def alert_thresholds() -> dict[str, float]:
    """When a source's day is an anomaly against its earlier days (README, "Alerts", lists the defaults)."""
    return {
        "history_days": _whole("NEWS_ALERT_HISTORY_DAYS", 7, "earlier days compared with"),
        "min_history_days": _whole("NEWS_ALERT_MIN_HISTORY_DAYS", 3, "earlier days needed before any alert"),
        "volume_low": _number("NEWS_ALERT_VOLUME_LOW", 0.5, "share of the median day's articles"),
        "volume_high": _number("NEWS_ALERT_VOLUME_HIGH", 3.0, "multiple of the median day's articles"),
        "min_articles": _whole("NEWS_ALERT_MIN_ARTICLES", 5, "articles a day needs to be compared"),
        "coverage_drop": _number("NEWS_ALERT_COVERAGE_DROP", 0.2, "fall of a field's share of articles"),
        "removal_ratio": _number("NEWS_ALERT_REMOVAL_RATIO", 2.0, "multiple of the removals per article"),
        "removal_rise": _number("NEWS_ALERT_REMOVAL_RISE", 0.5, "more removals per article"),
    }
