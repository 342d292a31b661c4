"""WARC record offsets, the ones downstream readers seek to: every page written by RollingWarcWriter is found at
its recorded (file, offset) as one gzip member holding exactly its response record, byte for byte, followed by
its request record as the next member; the files roll at their size bound. Records are parsed here by hand (and
read back with warcio), so a wrong header, length, digest or member boundary fails. Fast, in-process."""

from __future__ import annotations

import hashlib
import re
import zlib
from base64 import b32encode
from datetime import UTC, datetime

import pytest
from warcio.archiveiterator import ArchiveIterator

from spiders import warc
from spiders.items import PageItem
from spiders.warc import RollingWarcWriter, gzip_member, page_records

DATE = "2025-03-10T09:00:00Z"
RECORD_ID = re.compile(rb"<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}>")


def sha1(*parts: bytes) -> bytes:
    return b"sha1:" + b32encode(hashlib.sha1(b"".join(parts)).digest())  # noqa: S324 - WARC convention


def item(i: int, body: bytes | None = None, **fields) -> PageItem:
    body = body if body is not None else (f"<html><p>page {i}</p>" + "x" * (i * 37 % 500) + "</html>").encode()
    base = {"url": f"http://news.example.org/a/{i}?q=1", "discovered_by": "sitemap", "status": 200,
            "fetched_at": DATE, "body": body, "response_headers": [("Content-Type", "text/html")],
            "request_headers": [("User-Agent", "news-ingest/0.1")]}  # fmt: skip
    return PageItem(**{**base, **fields})


def one_member(fh) -> tuple[bytes, int]:
    """The data of the gzip member starting at the file's position, and the member's compressed length."""
    start = fh.tell()
    data = fh.read()
    inflater = zlib.decompressobj(wbits=31)
    out = inflater.decompress(data)
    assert inflater.eof, "the offset is not the start of a complete gzip member"
    used = len(data) - len(inflater.unused_data)
    fh.seek(start + used)
    return out, used


def parse(record: bytes) -> tuple[dict[bytes, bytes], bytes, bytes]:
    """(WARC headers, HTTP head, payload) of one whole uncompressed record; asserts its framing."""
    head, sep, rest = record.partition(b"\r\n\r\n")
    assert sep and head.startswith(b"WARC/1.0\r\n")
    headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
    length = int(headers[b"Content-Length"])
    assert len(rest) == length + 4 and rest.endswith(b"\r\n\r\n"), "Content-Length does not frame the block"
    block = rest[:length]
    http, sep, payload = block.partition(b"\r\n\r\n")
    assert sep
    return headers, http + b"\r\n\r\n", payload


def check_page(path, offset: int, page: PageItem, date: str = DATE) -> tuple[int, dict, dict]:
    """Seek to `offset`, read the page's two records back exactly; returns the offset after them."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        response, used1 = one_member(fh)
        request, used2 = one_member(fh)
    headers, http, payload = parse(response)
    assert list(headers)[:4] == [b"WARC-Type", b"WARC-Record-ID", b"WARC-Date", b"WARC-Target-URI"]
    assert headers[b"WARC-Type"] == b"response"
    assert RECORD_ID.fullmatch(headers[b"WARC-Record-ID"])
    assert headers[b"WARC-Date"] == date.encode()
    assert headers[b"WARC-Target-URI"] == page.url.encode()
    assert payload == page.body
    assert headers[b"WARC-Payload-Digest"] == sha1(page.body)
    assert headers[b"WARC-Block-Digest"] == sha1(http, payload)
    assert headers[b"Content-Type"] == b"application/http; msgtype=response"
    rheaders, rhttp, rpayload = parse(request)
    assert rheaders[b"WARC-Type"] == b"request" and rpayload == b""
    assert rheaders[b"WARC-Concurrent-To"] == headers[b"WARC-Record-ID"] != rheaders[b"WARC-Record-ID"]
    assert RECORD_ID.fullmatch(rheaders[b"WARC-Record-ID"])
    assert rheaders[b"WARC-Date"] == date.encode()
    assert rheaders[b"WARC-Payload-Digest"] == sha1(b"")
    assert rheaders[b"WARC-Block-Digest"] == sha1(rhttp)
    assert rheaders[b"Content-Type"] == b"application/http; msgtype=request"
    return offset + used1 + used2, headers, {"http": http, "request": rhttp, "rheaders": rheaders}


def test_every_recorded_offset_seeks_to_its_page_and_the_pages_tile_the_files(tmp_path):
    writer = RollingWarcWriter(tmp_path, max_bytes=2500)
    pages = [item(i) for i in range(15)] + [item(15, b""), item(16, bytes(range(256)) * 40)]
    written = [writer.write(p) for p in pages]
    writer.close()
    assert writer.files == [f"part-{n:05d}.warc.gz" for n in range(len(writer.files))] and len(writer.files) > 3
    assert sorted(p.name for p in tmp_path.iterdir()) == writer.files
    ends: dict[str, int] = {}
    for page, (name, offset) in zip(pages, written, strict=True):
        assert offset == ends.get(name, 0), "a page does not start where the one before it ended"
        ends[name], _, _ = check_page(tmp_path / name, offset, page)
        # and warcio, as a reader would, from the same offset
        with open(tmp_path / name, "rb") as fh:
            fh.seek(offset)
            records = ArchiveIterator(fh, check_digests="raise")
            first = next(iter(records))
            assert first.rec_type == "response" and first.content_stream().read() == page.body
    for name in writer.files:
        assert ends[name] == (tmp_path / name).stat().st_size  # nothing else in the file
    assert writer.bytes_written == sum((tmp_path / n).stat().st_size for n in writer.files)


def test_a_file_rolls_once_it_has_reached_its_bound_not_before(tmp_path):
    for extra, second_in in ((0, "x-00001.warc.gz"), (1, "x-00000.warc.gz")):
        folder = tmp_path / str(extra)
        folder.mkdir()
        writer = RollingWarcWriter(folder, max_bytes=10**9, prefix="x-")
        assert writer.write(item(1)) == ("x-00000.warc.gz", 0)
        size = writer.bytes_written
        writer.max_bytes = size + extra  # (the record IDs are random: sizes vary by a byte or two)
        second = writer.write(item(2))
        assert second == (second_in, 0 if extra == 0 else size)
        writer.close()
        writer.close()  # twice is harmless
        assert writer.bytes_written == sum(f.stat().st_size for f in folder.iterdir())
        assert writer.files == sorted({"x-00000.warc.gz", second_in})
        check_page(folder / second[0], second[1], item(2))


def test_a_failed_write_abandons_the_file_and_the_next_page_starts_a_new_one(tmp_path):
    writer = RollingWarcWriter(tmp_path, max_bytes=10**9)
    writer.write(item(1))
    good = writer.bytes_written

    class Broken:
        def __init__(self, fh):
            self.fh = fh

        def write(self, data):
            raise OSError("disk full")

        def close(self):
            self.fh.close()
            raise OSError("close failed too")

    writer._fh = Broken(writer._fh)
    with pytest.raises(OSError, match="disk full"):
        writer.write(item(2))
    assert writer._fh is None
    assert writer.write(item(3)) == ("part-00001.warc.gz", 0)
    writer.close()
    assert writer.bytes_written == good + (tmp_path / "part-00001.warc.gz").stat().st_size
    check_page(tmp_path / "part-00001.warc.gz", 0, item(3))


def test_the_date_is_the_given_one_else_the_fetch_time_else_now(tmp_path):
    writer = RollingWarcWriter(tmp_path, max_bytes=10**9)
    at1 = writer.write(item(1), "2024-01-02T03:04:05Z")
    at2 = writer.write(item(2))
    undated = item(3, fetched_at=None)
    before = datetime.now(UTC).replace(microsecond=0)
    at3 = writer.write(undated)
    after = datetime.now(UTC)
    writer.close()
    path = tmp_path / "part-00000.warc.gz"
    check_page(path, at1[1], item(1), "2024-01-02T03:04:05Z")
    check_page(path, at2[1], item(2), DATE)
    with open(path, "rb") as fh:
        fh.seek(at3[1])
        record, _ = one_member(fh)
    when = parse(record)[0][b"WARC-Date"].decode()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", when)
    assert before <= datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) <= after


def test_the_http_blocks_are_the_ones_that_went_over_the_wire():
    page = item(
        1,
        b"<p>caf\xc3\xa9</p>",
        url="http://news.example.org/path/to?a=1&b=2",
        status=404,
        protocol="HTTP/1.0",
        response_headers=[("Content-Type", "text/html"), ("content-encoding", "gzip"), ("Transfer-Encoding", "x"),
                          ("CONTENT-LENGTH", "3"), ("Connection", "close"), ("X-Raw", "caf\xe9")],
        request_method="POST",
        request_headers=[("HOST", "other.example.org"), ("Accept", "*/*")],
    )  # fmt: skip
    response, request = page_records(page, DATE)
    headers, http, payload = parse(b"".join(response))
    assert http == (b"HTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\nX-Raw: caf\xe9\r\n"
                    b"Content-Length: 12\r\n\r\n")  # fmt: skip
    assert payload == page.body and int(headers[b"Content-Length"]) == len(http) + len(payload)
    _, rhttp, _ = parse(b"".join(request))
    assert rhttp == b"POST /path/to?a=1&b=2 HTTP/1.1\r\nHost: news.example.org\r\nAccept: */*\r\n\r\n"


@pytest.mark.parametrize(
    ("status", "line"), [(None, b"HTTP/1.1 200 OK"), (200, b"HTTP/1.1 200 OK"), (599, b"HTTP/1.1 599 Unknown")]
)
def test_the_status_line(status, line):
    response, _ = page_records(item(1, status=status), DATE)
    assert parse(b"".join(response))[1].startswith(line + b"\r\n")


def test_a_url_without_a_path_or_query_asks_for_the_root():
    _, request = page_records(item(1, url="http://news.example.org"), DATE)
    assert parse(b"".join(request))[1].startswith(b"GET / HTTP/1.1\r\nHost: news.example.org\r\n")
    _, request = page_records(item(1, url="http://news.example.org/a?"), DATE)
    assert parse(b"".join(request))[1].startswith(b"GET /a HTTP/1.1\r\n")


def test_non_latin1_header_text_is_kept_as_utf8_and_a_non_ascii_url_is_escaped_on_the_request_line():
    page = item(1, url="http://news.example.org/caf\u00e9/\u20ac", response_headers=[("X-Title", "\u20ac")])
    response, request = page_records(page, DATE)
    headers, http, _ = parse(b"".join(response))
    assert b"X-Title: \xe2\x82\xac\r\n" in http
    assert headers[b"WARC-Target-URI"] == page.url.encode("utf-8")
    rheaders, rhttp, _ = parse(b"".join(request))
    assert rhttp.startswith(b"GET /caf%C3%A9/%E2%82%AC HTTP/1.1\r\n")
    assert rheaders[b"WARC-Target-URI"] == page.url.encode("utf-8")


def test_an_archived_page_names_its_archive_and_its_request_went_to_the_archive():
    archived = "http://web.archive.org/web/20250310090000id_/http://news.example.org/a/1"
    page = item(1, archive="wayback", captured_at="2025-03-10T09:00:00Z", archive_url=archived)
    response, request = page_records(page, DATE)
    headers, _, _ = parse(b"".join(response))
    assert headers[b"WARC-Target-URI"] == page.url.encode()
    assert headers[b"News-Archive"] == b"wayback"
    assert headers[b"News-Archive-Capture-Date"] == b"2025-03-10T09:00:00Z"
    assert headers[b"News-Archive-URL"] == archived.encode()
    rheaders, rhttp, _ = parse(b"".join(request))
    assert rheaders[b"WARC-Target-URI"] == archived.encode()
    assert rhttp.startswith(b"GET /web/20250310090000id_/http://news.example.org/a/1 HTTP/1.1\r\n"
                            b"Host: web.archive.org\r\n")  # fmt: skip
    # the fields left empty are not written; a live page has none
    partial = item(1, archive="cc-news")
    headers, _, _ = parse(b"".join(page_records(partial, DATE)[0]))
    assert headers[b"News-Archive"] == b"cc-news"
    assert b"News-Archive-Capture-Date" not in headers and b"News-Archive-URL" not in headers
    assert warc.archive_fields(item(1)) == b""
    assert warc.archive_fields(page) == (b"\r\nNews-Archive: wayback\r\nNews-Archive-Capture-Date: 2025-03-10T09:00:00Z"
                                         b"\r\nNews-Archive-URL: " + archived.encode())  # fmt: skip


@pytest.mark.parametrize("size", [0, 1, 200, 251, 600, 5000, 40_000, 70_000, 300_000])
@pytest.mark.parametrize("level", [6, 9])
def test_a_member_is_what_zlib_gives_for_a_whole_window(size, level):
    """The window is sized to the data, yet the output is the same as with zlib's full window and memory."""
    data = bytes((i * 7919 + i // 13) % 251 for i in range(size))
    parts = [data[: size // 3], data[size // 3 :]]
    standard = zlib.compressobj(level, zlib.DEFLATED, 31)
    assert gzip_member(parts, level) == standard.compress(data) + standard.flush()
    assert zlib.decompress(gzip_member(parts, 1), 31) == data


def test_the_shipped_gzip_level_is_6():
    assert warc.GZIP_LEVEL == 6
    data = b"<p>some words, some words, some more words</p>" * 50
    standard = zlib.compressobj(6, zlib.DEFLATED, 31)
    assert gzip_member([data]) == standard.compress(data) + standard.flush()
    assert len(gzip_member([data], 0)) > len(data)  # level 0 stores: the level is passed through


def test_the_digests_are_sha1_base32():
    assert warc._digest(b"ab", b"c") == sha1(b"abc") == b"sha1:" + b32encode(hashlib.sha1(b"abc").digest())  # noqa: S324
    assert warc.EMPTY_DIGEST == b"sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"


def test_an_ascii_url_goes_on_the_request_line_as_it_was_sent():
    _, request = page_records(item(1, url="http://news.example.org/a|b^{c}"), DATE)
    assert parse(b"".join(request))[1].startswith(b"GET /a|b^{c} HTTP/1.1\r\n")


def test_a_new_writer_has_written_nothing(tmp_path):
    writer = RollingWarcWriter(tmp_path, max_bytes=10**9)
    assert writer.bytes_written == 0 and writer.files == []
    assert writer.write(item(1)) == ("part-00000.warc.gz", 0)


@pytest.mark.parametrize("level", [0, 9])
def test_both_records_are_compressed_at_the_writers_level(tmp_path, level):
    writer = RollingWarcWriter(tmp_path, max_bytes=10**9, level=level)
    page = item(1, b"<p>" + b"the same words again " * 400 + b"</p>")
    writer.write(page)
    writer.close()
    with open(tmp_path / "part-00000.warc.gz", "rb") as fh:
        for _ in range(2):  # the response record, then the request record
            data, used = one_member(fh)
            assert (used > len(data)) is (level == 0)  # level 0 stores; 6 or 9 would compress
