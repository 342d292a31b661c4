"""A page read by byte range from a web archive's WARC file (Common Crawl, issue #16): the one gzip record the
range holds, checked and turned back into the HTTP response it captured, so the rest of the crawl treats it as any
fetched page. A record that is cut short, corrupt, of another URL, or not a 200 page is a reason, never a crash."""

from __future__ import annotations

import io
import zlib

from scrapy.http import HtmlResponse, Response
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from spiders.cdx import normalise_original
from spiders.urls import strip_tracking
from spiders.warc import DROP_HEADERS

HTML = ("text/html", "application/xhtml+xml")


def intact(record) -> bool:
    """Whether a record read to its end (from an ArchiveIterator with check_digests) is whole: its digest checked
    out (False: not what it says), or it has none. A record with a digest that was never checked was cut short."""
    head = record.rec_headers
    digests = head.get_header("WARC-Block-Digest") or head.get_header("WARC-Payload-Digest")
    return record.digest_checker.passed is True or (record.digest_checker.passed is None and not digests)


def archived_response(response: Response, url: str) -> tuple[Response | None, str | None]:
    """(the captured response of `url`, None) or (None, the reason it cannot be had) from a range response."""
    if response.status != 206:  # the whole file came: the server ignored the range
        return None, "archive_range_ignored"
    try:
        records = ArchiveIterator(io.BytesIO(response.body), check_digests=True)
        record = next(iter(records), None)
        if record is None:
            return None, "archive_corrupt_record"
        if record.rec_type != "response" or record.http_headers is None:
            return None, "archive_not_a_response"
        target = record.rec_headers.get_header("WARC-Target-URI") or ""
        status = int(record.http_headers.get_statuscode() or 0)
        body = record.content_stream().read()
    except (ArchiveLoadFailed, zlib.error, EOFError, ValueError, OSError, StopIteration):
        return None, "archive_corrupt_record"
    if not intact(record):
        return None, "archive_corrupt_record"
    if strip_tracking(normalise_original(target)) != strip_tracking(url):
        return None, "archive_wrong_record"
    if 300 <= status < 400:
        return None, "archive_redirect"
    if status != 200:
        return None, "archive_error_capture"
    headers = [(k, v) for k, v in record.http_headers.headers if k.lower() not in DROP_HEADERS]
    content_type = (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip().lower()
    kind = HtmlResponse if content_type in HTML else Response
    return kind(url=url, status=200, headers=headers, body=body, request=response.request, protocol="HTTP/1.1"), None
