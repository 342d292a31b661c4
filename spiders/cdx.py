"""Archive discovery: a source's article URLs for a date window, from the Wayback Machine's CDX API.

One query per allowed domain: `url=<domain>/*`, `from`/`to` on capture times, `filter=statuscode:200`,
`filter=mimetype:text/html`, `collapse=urlkey` (one capture per URL), `output=json`, read page by page with
`limit` and `showResumeKey=true`. The window is on publication dates and an article is often archived days
after it appeared, so captures up to NEWS_ARCHIVE_CAPTURE_LAG_DAYS past the window's end are asked for; never
captures of today (an archive is not asked for today's pages): the query ends at the start of the UTC day.
The spider later decides on each page's own publication date.

Every problem is counted by reason in `Discovery.errors`, never raised: a 429/503 (waited for, `Retry-After`
honoured up to NEWS_ARCHIVE_RETRY_AFTER_MAX), another HTTP error, a page that is not JSON (cut short: read
again once), an empty page after a resume key, a resume key seen before (a loop), the page limit. A run whose
discovery did not read every page is `complete=False`, so the report can say what it may have missed.
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from spiders.urls import host_of, in_domains, strip_tracking

log = logging.getLogger(__name__)
TIMESTAMP = "%Y%m%d%H%M%S"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_ERROR_BODY = 2048


@dataclass(frozen=True)
class Candidate:
    """An article URL an archive holds a capture of, and where to read that capture."""

    url: str  # the original URL, as the publisher served it
    archive: str  # "wayback", "commoncrawl", ...
    captured_at: str  # when the archive captured it, ISO 8601 UTC (`…Z`)
    archive_url: str  # the capture in raw form (Wayback: `<base>/<timestamp>id_/<url>`; Common Crawl: its WARC file)
    offset: int | None = None  # Common Crawl: the record's byte range in that file
    length: int | None = None


@dataclass
class Discovery:
    """What archive discovery found for a source and window, and what it could not read, by reason."""

    candidates: list[Candidate] = field(default_factory=list)
    offered: int = 0  # capture rows the archive returned
    requests: int = 0  # HTTP requests made to the archive's index
    pages: int = 0  # index pages read
    rejected: Counter = field(default_factory=Counter)  # rows not kept, by reason
    errors: Counter = field(default_factory=Counter)  # index problems, by reason
    complete: bool = True  # every page of every query was read

    def summary(self) -> dict:
        return {
            "offered": self.offered, "candidates": len(self.candidates), "requests": self.requests,
            "pages": self.pages, "rejected": dict(self.rejected), "errors": dict(self.errors),
            "complete": self.complete,
        }  # fmt: skip


@dataclass(frozen=True)
class UrlRules:
    """A source's rules for which URLs are articles (the spider applies the same ones to feed entries)."""

    domains: tuple[str, ...]
    allow: tuple[re.Pattern, ...] = ()
    deny: tuple[re.Pattern, ...] = ()

    @classmethod
    def of(cls, source) -> UrlRules:
        return cls(
            tuple(source.allowed_domains),
            tuple(re.compile(p) for p in source.article_url_patterns),
            tuple(re.compile(p) for p in source.deny_url_patterns),
        )

    def reason(self, url: str) -> str | None:
        if not in_domains(host_of(url), self.domains):
            return "offsite"
        if any(p.search(url) for p in self.deny):
            return "denied_pattern"
        if self.allow and not any(p.search(url) for p in self.allow):
            return "not_article_pattern"
        return None


def capture_window(start: date, end: date, lag_days: int, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[from, to) of capture times to ask for: the window plus the lag, ending before today (UTC) at the latest."""
    today = (now or datetime.now(UTC)).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    begin = datetime(start.year, start.month, start.day, tzinfo=UTC)
    stop = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=lag_days)
    return begin, min(stop, today)


def normalise_original(url: str) -> str:
    """The original URL as the archive recorded it, without a default port (`http://host:80/`)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if (parts.scheme, parts.port) in (("http", 80), ("https", 443)):
        netloc = netloc.rsplit(":", 1)[0]
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


class CdxClient:
    """Reads a CDX API (the Wayback Machine's format), politely: one request at a time, `delay` apart."""

    def __init__(
        self,
        endpoint: str,
        raw_base: str,
        *,
        page_size: int = 1000,
        max_pages: int = 200,
        retries: int = 3,
        retry_after_max: float = 60.0,
        delay: float = 1.0,
        timeout: float = 60.0,
        user_agent: str = "news-ingest/0.1",
        archive: str = "wayback",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint, self.raw_base, self.archive = endpoint, raw_base.rstrip("/"), archive
        self.page_size, self.max_pages, self.retries = page_size, max_pages, retries
        self.retry_after_max, self.delay, self.timeout = retry_after_max, delay, timeout
        self.user_agent, self.sleep = user_agent, sleep
        self._last = 0.0

    @classmethod
    def from_config(cls, **overrides) -> CdxClient:
        from newsconfig import env

        settings = {
            "page_size": env.archive_page_size(), "max_pages": env.archive_max_pages(),
            "retry_after_max": env.archive_retry_after_max(), "delay": env.archive_delay(),
            "user_agent": f"news-ingest/0.1 (+{env.contact()})",
        }  # fmt: skip
        return cls(env.wayback_cdx_url(), env.wayback_url(), **{**settings, **overrides})

    def discover(self, rules: UrlRules, begin: datetime, end: datetime, found: Discovery | None = None) -> Discovery:
        """The article candidates among the captures of every allowed domain in [begin, end)."""
        found = found or Discovery()
        if begin >= end:
            found.errors["window_not_archived_yet"] += 1  # today's pages: not asked of an archive
            return found
        seen: set[str] = {strip_tracking(c.url) for c in found.candidates}
        for domain in rules.domains:
            for row in self.captures(domain, begin, end, found):
                found.offered += 1
                candidate = self._candidate(row, begin, end)
                if candidate is None:
                    found.rejected["bad_row"] += 1
                    continue
                if reason := rules.reason(candidate.url):
                    found.rejected[reason] += 1
                    continue
                key = strip_tracking(candidate.url)
                if key in seen:  # e.g. http and https, or a tracking parameter: one capture per article
                    found.rejected["duplicate"] += 1
                    continue
                seen.add(key)
                found.candidates.append(candidate)
        return found

    def _candidate(self, row: dict, begin: datetime, end: datetime) -> Candidate | None:
        stamp, original = row.get("timestamp") or "", row.get("original") or ""
        try:
            when = datetime.strptime(stamp[:14], TIMESTAMP).replace(tzinfo=UTC)
        except ValueError:
            return None
        if not original.startswith(("http://", "https://")) or not begin <= when < end:
            return None
        url = normalise_original(original)
        return Candidate(
            url=url,
            archive=self.archive,
            captured_at=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            archive_url=f"{self.raw_base}/{stamp}id_/{url}",
        )

    def captures(self, domain: str, begin: datetime, end: datetime, found: Discovery) -> Iterator[dict]:
        """Every capture row of `domain/*` in [begin, end), page by page; problems counted in `found`."""
        params = [
            ("url", f"{domain}/*"), ("from", begin.strftime(TIMESTAMP)),
            ("to", (end - timedelta(seconds=1)).strftime(TIMESTAMP)),  # CDX's `to` is inclusive
            ("output", "json"), ("filter", "statuscode:200"), ("filter", "mimetype:text/html"),
            ("collapse", "urlkey"), ("limit", str(self.page_size)), ("showResumeKey", "true"),
        ]  # fmt: skip
        resume: str | None = None
        keys_seen: set[str] = set()
        for page in range(self.max_pages):
            query = params + ([("resumeKey", resume)] if resume else [])
            rows = self._page(query, found)
            if rows is None:  # given up on this page: what follows it is unknown
                found.complete = False
                return
            found.pages += 1
            header, data, next_key = _split_page(rows)
            if header is None:
                if page > 0:  # a resume key that led nowhere
                    found.errors["empty_page"] += 1
                return
            for values in data:
                if not isinstance(values, list) or len(values) != len(header):
                    found.rejected["bad_row"] += 1
                    continue
                yield dict(zip(header, values, strict=True))
            if not next_key:
                return
            if next_key in keys_seen:
                found.errors["resume_loop"] += 1
                found.complete = False
                log.warning("CDX resume key %r came twice for %s: stopped", next_key, domain)
                return
            keys_seen.add(next_key)
            resume = next_key
        found.errors["too_many_pages"] += 1
        found.complete = False

    def _page(
        self,
        query: list[tuple[str, str]],
        found: Discovery,
        endpoint: str | None = None,
        parse: Callable[[bytes], object] = json.loads,
        expect: type = list,
    ) -> Any:
        """One index page, parsed (a JSON CDX page by default), after retries; None when it could not be had
        (counted). A page that does not parse was cut short on the way: it is read again."""
        url = f"{endpoint or self.endpoint}?{urlencode(query)}"
        for attempt in range(self.retries + 1):
            self._wait(0.0)
            found.requests += 1
            wait = min(2.0**attempt, self.retry_after_max)
            try:
                with urllib.request.urlopen(self._request(url), timeout=self.timeout) as answer:  # noqa: S310
                    body = answer.read()
            except urllib.error.HTTPError as e:
                e.read(MAX_ERROR_BODY)
                if e.code not in RETRY_STATUSES:
                    found.errors[f"http_{e.code}"] += 1
                    return None
                found.errors[f"retried_http_{e.code}"] += 1
                if (after := _retry_after(e.headers.get("Retry-After"))) is not None:
                    found.errors["retry_after_honoured"] += 1
                    wait = min(after, self.retry_after_max)
                if attempt == self.retries:
                    found.errors[f"http_{e.code}"] += 1
                    return None
                self._wait(wait)
                continue
            except (urllib.error.URLError, TimeoutError, OSError) as e:
                reason = "timeout" if "timed out" in str(e) else "connection_error"
                if attempt == self.retries:
                    found.errors[reason] += 1
                    return None
                found.errors[f"retried_{reason}"] += 1
                self._wait(wait)
                continue
            if not body.strip():
                return expect()  # no capture at all
            try:
                rows = parse(body)
            except (ValueError, UnicodeDecodeError):
                found.errors["truncated_page"] += 1  # cut short on the way: read it again
                if attempt == self.retries:
                    return None
                self._wait(wait)
                continue
            if not isinstance(rows, expect):
                found.errors["not_a_cdx_page"] += 1
                return None
            return rows
        return None

    def _request(self, url: str) -> urllib.request.Request:
        return urllib.request.Request(url, headers={"User-Agent": self.user_agent, "Accept": "application/json"})

    def _wait(self, extra: float) -> None:
        """Keep `delay` between requests, plus `extra` (a backoff or Retry-After)."""
        pause = max(self.delay - (time.monotonic() - self._last), 0.0) + extra
        if pause > 0:
            self.sleep(pause)
        self._last = time.monotonic()


def _split_page(rows: list) -> tuple[list[str] | None, list, str | None]:
    """(field names, capture rows, resume key) of a JSON CDX page: `[[fields], [row]..., [], [resume key]]`."""
    if not rows or not isinstance(rows[0], list) or not rows[0]:
        return None, [], None
    header, data, key = [str(f) for f in rows[0]], rows[1:], None
    if len(data) >= 2 and data[-2] == [] and isinstance(data[-1], list) and len(data[-1]) == 1:
        key, data = str(data[-1][0]), data[:-2]
    elif data and data[-1] == []:
        data = data[:-1]
    return header, data, key


def _retry_after(value: str | None) -> float | None:
    from spiders.middlewares import retry_after_seconds

    return max(retry_after_seconds(value), 0.0) if value and retry_after_seconds(value) is not None else None


def write_candidates(candidates: Iterable[Candidate], path: Path) -> Path:
    """Candidates as JSON Lines, for the crawl (the spider's `NEWS_ARCHIVE_CANDIDATES`)."""
    with open(path, "w", encoding="utf-8") as fh:
        for c in candidates:
            fh.write(json.dumps(asdict(c)) + "\n")
    return path


def read_candidates(path: str | Path) -> list[Candidate]:
    with open(path, encoding="utf-8") as fh:
        return [Candidate(**json.loads(line)) for line in fh if line.strip()]
