"""The one item the spider yields: a page it fetched, or a URL it decided not to fetch (with a reason)."""

from __future__ import annotations

from dataclasses import dataclass, field

# The fields of an index line, in order; everything else on the item is capture payload. A page read from a web
# archive adds ARCHIVE_FIELDS to its line.
INDEX_FIELDS = (
    "url", "canonical_url", "status", "content_hash", "discovered_by", "date_hint", "published",
    "warc_file", "warc_offset", "fetched_at", "reason",
)  # fmt: skip
ARCHIVE_FIELDS = ("archive", "captured_at", "archive_url")


@dataclass
class PageItem:
    url: str
    discovered_by: str
    canonical_url: str | None = None
    status: int | None = None
    content_hash: str | None = None
    date_hint: str | None = None
    date_hint_is_published: bool = False
    published: str | None = None
    fetched_at: str | None = None
    reason: str | None = None  # set for a reject: the item is indexed but not stored
    # Where a stored page went. Only known once the capture writer has written it: it fills them in the
    # page's index line, not on the item.
    warc_file: str | None = None
    warc_offset: int | None = None
    # Read from a web archive instead of the live site (issue #16): which one, when it captured the page, and
    # the capture's URL there; `url` stays the original URL.
    archive: str | None = None
    captured_at: str | None = None
    archive_url: str | None = None
    # Capture payload, for the WARC records (never indexed).
    body: bytes = field(default=b"", repr=False)
    protocol: str = "HTTP/1.1"
    response_headers: list[tuple[str, str]] = field(default_factory=list, repr=False)
    request_method: str = "GET"
    request_headers: list[tuple[str, str]] = field(default_factory=list, repr=False)

    def reject(self, reason: str) -> PageItem:
        self.reason = reason
        return self

    def index_line(self) -> dict:
        fields = INDEX_FIELDS + ARCHIVE_FIELDS if self.archive else INDEX_FIELDS
        return {name: getattr(self, name) for name in fields}
