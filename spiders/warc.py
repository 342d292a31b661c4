"""Gzip WARC files of bounded size: `part-00000.warc.gz`, `part-00001.warc.gz`, …"""

from __future__ import annotations

import uuid
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from spiders.items import PageItem

# Hop-by-hop or transfer details that no longer describe the (decoded) body we store.
DROP_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length", "connection"})


class RollingWarcWriter:
    """Writes a response record (then its request record) per page; starts a new file past `max_bytes`."""

    def __init__(self, folder: Path, max_bytes: int, prefix: str = "part-") -> None:
        self.folder, self.max_bytes, self.prefix = folder, max_bytes, prefix
        self.files: list[str] = []
        self._fh: BinaryIO | None = None
        self._writer: WARCWriter | None = None

    def _roll(self) -> None:
        self.close()
        name = f"{self.prefix}{len(self.files):05d}.warc.gz"
        self.files.append(name)
        self._fh = open(self.folder / name, "wb")  # noqa: SIM115 - kept open across items, closed in close()
        self._writer = WARCWriter(self._fh, gzip=True)

    def write(self, item: PageItem) -> tuple[str, int]:
        """Append the page; returns (file name, byte offset of its response record)."""
        if self._fh is None or self._fh.tell() >= self.max_bytes:
            self._roll()
        assert self._fh is not None and self._writer is not None
        writer, offset = self._writer, self._fh.tell()
        headers = [(k, v) for k, v in item.response_headers if k.lower() not in DROP_HEADERS]
        headers.append(("Content-Length", str(len(item.body))))
        status = item.status or 200
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        http = StatusAndHeaders(f"{status} {phrase}", headers, protocol=item.protocol)
        record_id = f"<urn:uuid:{uuid.uuid4()}>"
        date = {"WARC-Date": item.fetched_at} if item.fetched_at else {}
        response = writer.create_warc_record(
            item.url,
            "response",
            payload=BytesIO(item.body),
            length=len(item.body),
            http_headers=http,
            warc_headers_dict={"WARC-Record-ID": record_id, **date},
        )
        writer.write_record(response)
        parts = urlsplit(item.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        req_headers = [
            ("Host", parts.netloc),
            *[(k, v) for k, v in item.request_headers if k.lower() != "host"],
        ]
        request = writer.create_warc_record(
            item.url,
            "request",
            payload=BytesIO(b""),
            length=0,
            http_headers=StatusAndHeaders(
                f"{item.request_method} {path} HTTP/1.1", req_headers, is_http_request=True
            ),
            warc_headers_dict={"WARC-Concurrent-To": record_id, **date},
        )
        writer.write_record(request)
        return self.files[-1], offset

    @property
    def bytes_written(self) -> int:
        done = sum((self.folder / f).stat().st_size for f in self.files[:-1])
        return done + (self._fh.tell() if self._fh else 0)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh, self._writer = None, None
