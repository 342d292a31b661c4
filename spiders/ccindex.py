"""Archive discovery from Common Crawl's index (issue #16): the crawls whose capture dates overlap the window
(`collinfo.json`), then each crawl's CDX index (the pywb API: `url=<domain>/*`, `from`/`to`, status 200, HTML,
JSON lines) read page by page after asking how many pages it has (`showNumPages=true`). A candidate points at its
record in a WARC file of the crawl: the file's URL under the data endpoint (the public bucket over HTTP), and the
record's byte range, which the spider fetches with a `Range` request.

Everything spiders.cdx counts is counted here too, plus `no_crawl` for a window no crawl covers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

from spiders.cdx import TIMESTAMP, Candidate, CdxClient, Discovery, normalise_original


def json_lines(body: bytes) -> list[dict]:
    """A page of JSON lines; a line that does not parse (a page cut short) raises ValueError."""
    return [json.loads(line) for line in body.decode("utf-8").splitlines() if line.strip()]


class CcIndexClient(CdxClient):
    """Common Crawl's index server at `index_url`; WARC files read from `data_url` (`<data_url>/<filename>`)."""

    def __init__(self, index_url: str, data_url: str, **kwargs) -> None:
        super().__init__(index_url.rstrip("/") + "/collinfo.json", data_url, archive="commoncrawl", **kwargs)
        self._crawls: list[dict] | None = None

    @classmethod
    def from_config(cls, **overrides) -> CcIndexClient:
        from newsconfig import env

        settings = {
            "page_size": env.archive_page_size(), "max_pages": env.archive_max_pages(),
            "retry_after_max": env.archive_retry_after_max(), "delay": env.archive_delay(),
            "user_agent": f"news-ingest/0.1 (+{env.contact()})",
        }  # fmt: skip
        return cls(env.commoncrawl_index_url(), env.commoncrawl_data_url(), **{**settings, **overrides})

    def crawls(self, begin: datetime, end: datetime, found: Discovery) -> list[dict]:
        """The crawls (collinfo.json entries) whose capture dates overlap [begin, end)."""
        if self._crawls is None:
            listed = self._page([], found)
            if listed is None:
                found.complete = False
                return []
            self._crawls = [c for c in listed if isinstance(c, dict) and c.get("cdx-api")]
        overlapping = []
        for crawl in self._crawls:
            try:
                start = datetime.fromisoformat(str(crawl["from"])).replace(tzinfo=UTC)
                stop = datetime.fromisoformat(str(crawl["to"])).replace(tzinfo=UTC)
            except (KeyError, ValueError):
                found.errors["bad_crawl_entry"] += 1
                continue
            if start < end and begin <= stop:
                overlapping.append(crawl)
        return overlapping

    def captures(self, domain: str, begin: datetime, end: datetime, found: Discovery) -> Iterator[dict]:
        crawls = self.crawls(begin, end, found)
        if not crawls and found.complete:
            found.errors["no_crawl"] += 1
        for crawl in crawls:
            api = crawl["cdx-api"]
            query = [
                ("url", f"{domain}/*"), ("from", begin.strftime(TIMESTAMP)), ("to", end.strftime(TIMESTAMP)),
                ("output", "json"), ("filter", "status:200"), ("filter", "mime:text/html"),
            ]  # fmt: skip
            size = self._page([*query, ("showNumPages", "true")], found, endpoint=api, expect=dict)
            if size is None or not isinstance(size.get("pages"), int):
                if size is not None:  # an answer without a page count (a failed request is counted already)
                    found.errors["no_page_count"] += 1
                found.complete = False
                continue
            pages = size["pages"]
            if pages > self.max_pages:
                found.errors["too_many_pages"] += 1
                found.complete = False
            for page in range(min(pages, self.max_pages)):
                rows = self._page([*query, ("page", str(page))], found, endpoint=api, parse=json_lines)
                if rows is None:
                    found.complete = False
                    continue  # pages are independent: the next one can still be read
                found.pages += 1
                if not rows:
                    found.errors["empty_page"] += 1
                    continue
                for row in rows:
                    if isinstance(row, dict):
                        yield row
                    else:
                        found.rejected["bad_row"] += 1

    def _candidate(self, row: dict, begin: datetime, end: datetime) -> Candidate | None:
        stamp, original, filename = str(row.get("timestamp") or ""), str(row.get("url") or ""), row.get("filename")
        try:
            when = datetime.strptime(stamp[:14], TIMESTAMP).replace(tzinfo=UTC)
            offset, length = int(row["offset"]), int(row["length"])
        except (KeyError, TypeError, ValueError):
            return None
        if not filename or not original.startswith(("http://", "https://")) or offset < 0 or length <= 0:
            return None
        if not begin <= when < end:
            return None
        return Candidate(
            url=normalise_original(original),
            archive=self.archive,
            captured_at=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            archive_url=f"{self.raw_base}/{str(filename).lstrip('/')}",
            offset=offset,
            length=length,
        )
