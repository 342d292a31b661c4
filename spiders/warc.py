"""Gzip WARC files of bounded size: `part-00000.warc.gz`, `part-00001.warc.gz`, …

Each page is a WARC/1.0 response record followed by its request record, each compressed as its own gzip
member, so a reader can seek to the response's offset (which the index records) and read from there, e.g.
with warcio's ArchiveIterator. The records are built here (headers, SHA-1 digests) rather than through
warcio's writer, which costs several times more per page and always compresses at level 9.

`page_records` builds the (uncompressed) records, `RollingWarcWriter` compresses and appends them, and
`CaptureWriter` does that and writes the index lines, in order (large pages on a thread of its own).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import threading
import zlib
from base64 import b32encode
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from queue import SimpleQueue
from typing import IO, BinaryIO
from urllib.parse import urlsplit
from uuid import UUID

from w3lib.url import safe_url_string

from spiders.items import PageItem

# Hop-by-hop or transfer details that no longer describe the (decoded) body we store.
DROP_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length", "connection"})
log = logging.getLogger(__name__)

GZIP_LEVEL = 6  # zlib's default: on news pages (AEB) 0.6% larger than level 9, in ~60% of the time


def _digest(*parts: bytes) -> bytes:
    h = hashlib.sha1()  # noqa: S324 - WARC digests are SHA-1 by convention, not for security
    for part in parts:
        h.update(part)
    return b"sha1:" + b32encode(h.digest())


EMPTY_DIGEST = _digest(b"")


def warc_date() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _record_id() -> bytes:
    return b"<urn:uuid:%s>" % str(UUID(bytes=os.urandom(16), version=4)).encode()


def _http_block(first_line: str, headers: list[tuple[str, str]]) -> bytes:
    """An HTTP message head as bytes: header text came from the wire as latin-1 and goes back as it was."""
    text = "".join([first_line, "\r\n", *(f"{k}: {v}\r\n" for k, v in headers), "\r\n"])
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:  # not from the wire (latin-1 covers every byte): keep it readable
        return text.encode("utf-8")


def _record(
    rec_type: bytes, url: bytes, date: bytes, record_id: bytes, http: bytes, payload: bytes, extra: bytes
) -> list[bytes]:
    payload_digest = _digest(payload) if payload else EMPTY_DIGEST
    head = b"".join(
        [
            b"WARC/1.0\r\nWARC-Type: ", rec_type,
            b"\r\nWARC-Record-ID: ", record_id,
            b"\r\nWARC-Date: ", date,
            b"\r\nWARC-Target-URI: ", url, extra,
            b"\r\nWARC-Payload-Digest: ", payload_digest,
            b"\r\nWARC-Block-Digest: ", _digest(http, payload),
            b"\r\nContent-Type: application/http; msgtype=", rec_type,
            b"\r\nContent-Length: %d\r\n\r\n" % (len(http) + len(payload)),
        ]
    )  # fmt: skip
    return [head, http, payload, b"\r\n\r\n"]


# Where a page read from a web archive came from (issue #16): extension fields of its response record, beside
# WARC-Target-URI, which stays the original URL. WARC-Date stays the time of our fetch from the archive.
ARCHIVE_HEADER = "News-Archive"  # "wayback", "commoncrawl", "cc-news"
ARCHIVE_CAPTURE_HEADER = "News-Archive-Capture-Date"  # when the archive captured the page (ISO 8601 UTC)
ARCHIVE_URL_HEADER = "News-Archive-URL"  # the capture's URL in the archive (Wayback's raw `id_` form, …)


def archive_fields(item: PageItem) -> bytes:
    if not item.archive:
        return b""
    fields = ((ARCHIVE_HEADER, item.archive), (ARCHIVE_CAPTURE_HEADER, item.captured_at or ""),
              (ARCHIVE_URL_HEADER, item.archive_url or ""))  # fmt: skip
    return b"".join(b"\r\n%s: %s" % (k.encode(), v.encode("utf-8")) for k, v in fields if v)


def page_records(item: PageItem, date: str) -> tuple[list[bytes], list[bytes]]:
    """The response record and the request record of a stored page, each as a list of byte strings.

    `date` is the WARC-Date (the fetch time, `YYYY-MM-DDThh:mm:ssZ`).
    """
    url, when = item.url.encode("utf-8"), date.encode("ascii")
    record_id = _record_id()
    status = item.status or 200
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    headers = [(k, v) for k, v in item.response_headers if k.lower() not in DROP_HEADERS]
    headers.append(("Content-Length", str(len(item.body))))
    http = _http_block(f"{item.protocol} {status} {phrase}", headers)
    response = _record(b"response", url, when, record_id, http, item.body, archive_fields(item))
    # Scrapy's URLs are already escaped; any other is, as it went on the wire.
    sent = item.archive_url or item.url  # the request that was made: to the archive, for an archived page
    parts = urlsplit(sent if sent.isascii() else safe_url_string(sent))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    req_headers = [("Host", parts.netloc), *[(k, v) for k, v in item.request_headers if k.lower() != "host"]]
    request_http = _http_block(f"{item.request_method} {path} HTTP/1.1", req_headers)
    request = _record(
        b"request", sent.encode("utf-8"), when, _record_id(), request_http, b"", b"\r\nWARC-Concurrent-To: " + record_id
    )
    return response, request


def gzip_member(parts: list[bytes], level: int = GZIP_LEVEL) -> bytes:
    """One complete gzip member holding `parts`. zlib releases the GIL while it compresses."""
    data = b"".join(parts)
    # A window no larger than the data needs: the same output, without setting up 256 KiB of state.
    wbits = min(15, max(9, (len(data) + 262).bit_length()))
    compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + wbits, min(8, wbits - 7))  # 16+: gzip framing
    return compressor.compress(data) + compressor.flush()


class RollingWarcWriter:
    """Appends a page's records; starts a new file once the current one has reached `max_bytes`.

    Not thread-safe: one thread writes (the capture pipeline's writer thread, or the caller).
    """

    def __init__(self, folder: Path, max_bytes: int, prefix: str = "part-", level: int = GZIP_LEVEL) -> None:
        self.folder, self.max_bytes, self.prefix, self.level = folder, max_bytes, prefix, level
        self.files: list[str] = []
        self._fh: BinaryIO | None = None
        self._size = 0  # bytes in the current file: the next record's offset
        self._done = 0  # bytes in the closed files

    def _roll(self) -> None:
        self.close()
        name = f"{self.prefix}{len(self.files):05d}.warc.gz"
        self._fh = open(self.folder / name, "wb", buffering=1 << 20)  # noqa: SIM115 - closed in close()
        self.files.append(name)
        self._size = 0

    def write(self, item: PageItem, date: str | None = None) -> tuple[str, int]:
        """Append the page; returns (file name, byte offset of its response record)."""
        response, request = page_records(item, date or item.fetched_at or warc_date())
        return self.write_records(gzip_member(response, self.level), gzip_member(request, self.level))

    def write_records(self, *members: bytes) -> tuple[str, int]:
        """Append already compressed records (one page's); returns (file name, offset of the first)."""
        if self._fh is None or self._size >= self.max_bytes:
            self._roll()
        assert self._fh is not None
        offset = self._size
        try:
            for member in members:
                self._fh.write(member)
                self._size += len(member)
        except BaseException:
            self._abandon()  # a record may be cut short: the next one starts a new file
            raise
        return self.files[-1], offset

    def _abandon(self) -> None:
        try:
            self.close()
        except OSError:
            pass
        finally:
            self._fh = None

    @property
    def bytes_written(self) -> int:
        return self._done + self._size

    def close(self) -> None:
        if self._fh is not None:
            fh, self._fh = self._fh, None
            self._done += self._size
            self._size = 0
            fh.close()


class CaptureWriter:
    """The WARC parts and their index (`index.jsonl.gz`), appended in the order pages are submitted.

    `page(line, records, size)` writes a stored page: its records go to the current part, then its index
    line gets `warc_file` and `warc_offset` and goes to the index, so the line always carries the exact
    offset. `line(line)` writes the index line of a reject.

    Compressing a page costs about as much as everything else the crawl does for it once pages reach a few
    tens of KiB, and zlib and file writes release the GIL: with `thread=True` a writer thread compresses and
    writes pages of `thread_from` bytes or more (and whatever is submitted while it has work queued, to
    keep the order), so the crawl goes on meanwhile; it only waits when more than `queue_bytes` are queued.
    Smaller pages are written by the caller: handing them over costs more than it saves (GIL hand-offs).

    A failed write does not stop the crawl: it is logged, the page's line says `capture_error` (if the
    index can still be written), the next page starts a new part; `failed` counts the lines concerned
    (pages or rejects), `failed_pages`/`failed_bytes` the stored pages among them. `close()` writes what is
    queued, joins the thread and closes the files; a failure there counts in `close_errors`.
    """

    def __init__(
        self,
        folder: Path,
        max_bytes: int,
        index_path: Path,
        level: int = GZIP_LEVEL,
        thread: bool = True,
        thread_from: int = 32 << 10,
        queue_bytes: int = 16 << 20,
    ) -> None:
        self.warc = RollingWarcWriter(folder, max_bytes, level=level)
        self.level, self.thread_from, self.queue_bytes = level, thread_from, queue_bytes
        self.failed = self.failed_pages = self.failed_bytes = self.close_errors = 0
        self._index: IO[str] = gzip.open(index_path, "wt", encoding="utf-8", compresslevel=6)  # noqa: SIM115
        self._jobs: SimpleQueue[tuple[dict, tuple[list[bytes], list[bytes]] | None, int] | None] = SimpleQueue()
        self._room = threading.Condition()  # guards the two counts below
        self._pending = 0  # jobs handed to the thread and not finished; only the thread lowers it
        self._queued = 0  # body bytes of those jobs
        self._stopped = False  # the writer thread has ended
        self._thread: threading.Thread | None = None
        if thread:
            self._thread = threading.Thread(target=self._run, name="capture-writer", daemon=True)
            self._thread.start()

    def page(self, line: dict, records: tuple[list[bytes], list[bytes]], size: int) -> None:
        """Write a stored page: `records` from `page_records`, `size` its body length."""
        # Unlocked read: only this (the submitting) thread raises _pending, so 0 means the writer is idle.
        if self._thread is None or (size < self.thread_from and not self._pending):
            self._write(line, records, size)
            return
        with self._room:
            while self._queued and self._queued + size > self.queue_bytes and not self._stopped:
                self._room.wait()
            self._hand_over(size)
        self._jobs.put((line, records, size))

    def line(self, line: dict) -> None:
        """Write the index line of a URL that is not stored."""
        if self._thread is None or not self._pending:
            self._write(line, None, 0)
            return
        with self._room:
            self._hand_over(0)
        self._jobs.put((line, None, 0))

    def _hand_over(self, size: int) -> None:
        if self._stopped:  # only if the thread died of something unforeseen: never lose lines quietly
            raise RuntimeError("the capture writer thread has stopped")
        self._pending += 1
        self._queued += size

    def _run(self) -> None:
        try:
            while (job := self._jobs.get()) is not None:
                self._write(*job)
                with self._room:
                    self._pending -= 1
                    self._queued -= job[2]
                    self._room.notify()
        finally:
            with self._room:
                self._stopped = True
                self._room.notify_all()

    def _write(self, line: dict, records: tuple[list[bytes], list[bytes]] | None, size: int) -> None:
        failed = False
        if records is not None:
            try:
                members = [gzip_member(r, self.level) for r in records]
                line["warc_file"], line["warc_offset"] = self.warc.write_records(*members)
            except Exception:  # noqa: BLE001 - the page becomes a reject; the crawl goes on
                log.exception("cannot write %s to %s", line.get("url"), self.warc.folder)
                line.update(warc_file=None, warc_offset=None, reason="capture_error")
                failed = True
        try:
            self._index.write(json.dumps(line, ensure_ascii=False) + "\n")
        except Exception:  # noqa: BLE001 - counted; the summary shows it
            log.exception("cannot write the index line of %s", line.get("url"))
            failed = True
        if failed:
            self.failed += 1
            if records is not None:
                self.failed_pages += 1
                self.failed_bytes += size

    def close(self) -> None:
        """Write what is queued, stop the thread, close the files."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
        if self._index.closed:
            return
        for close in (self.warc.close, self._index.close):
            try:
                close()
            except Exception:  # noqa: BLE001 - counted; the summary shows it
                log.exception("cannot close the capture files in %s", self.warc.folder)
                self.close_errors += 1
