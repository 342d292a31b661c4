"""Reading a raw partition (gzip WARC parts + JSON Lines index) downloaded from S3."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from ingest.rights import response_headers
from spiders.warc import ARCHIVE_CAPTURE_HEADER, ARCHIVE_HEADER, ARCHIVE_URL_HEADER


@dataclass(frozen=True)
class RawRecord:
    warc_file: str  # the S3 key of the WARC part
    offset: int
    url: str
    fetched_at: str | None
    body: bytes
    content_type: str | None = None  # the HTTP Content-Type header as fetched (its charset decodes `body`)
    rights_headers: dict[str, str] = field(default_factory=dict)  # X-Robots-Tag, tdm-* (ingest.rights)
    # read from a web archive (spiders.warc's News-Archive* fields): the archive, its capture URL and time
    archive: str | None = None
    archive_url: str | None = None
    captured_at: str | None = None


def read_index(path: Path) -> list[dict]:
    """Index lines; a missing index (no article fetched) is an empty list."""
    if not path.exists():
        return []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def iter_responses(path: Path, warc_key: str) -> Iterator[RawRecord]:
    """Every response record of one WARC file, body read in full (pages are size-capped by the crawl)."""
    with open(path, "rb") as fh:
        records = ArchiveIterator(fh)
        for record in records:
            if record.rec_type != "response":
                continue
            body = record.content_stream().read()
            head = record.rec_headers
            yield RawRecord(
                warc_file=warc_key,
                offset=records.get_record_offset(),
                url=record.rec_headers.get_header("WARC-Target-URI"),
                fetched_at=record.rec_headers.get_header("WARC-Date"),
                body=body,
                content_type=content_type(record),
                rights_headers=response_headers(getattr(record, "http_headers", None)),
                archive=head.get_header(ARCHIVE_HEADER),
                archive_url=head.get_header(ARCHIVE_URL_HEADER),
                captured_at=head.get_header(ARCHIVE_CAPTURE_HEADER),
            )


def content_type(record) -> str | None:
    """The HTTP Content-Type header of a WARC response record, if it has one."""
    headers = getattr(record, "http_headers", None)
    return headers.get_header("Content-Type") if headers is not None else None
