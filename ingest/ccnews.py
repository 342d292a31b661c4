"""CC-NEWS month backfill (issue #16): stream a month's CC-NEWS WARC files, keep the records of configured
sources, and write them as the raw partitions of each (source, day) the pages say they were published on; the
daily DAG then cleans those days with `recrawl: false`.

    python -m ingest.ccnews 2023-03 [--sources a,b] [--max-files N]

A month is many files of about 1 GB: each is read as a stream (warcio over the HTTP body, record by record), never
held whole; a kept record goes straight to a local chunk. Resume: each file's chunk (its kept records and their
index lines) is uploaded to `archives/cc-news/<YYYY-MM>/files/<file>/` when the file is done, so a run that stops,
fails or is killed goes on with the first file that has no chunk. Once every file has one, the chunks are routed
to the partitions, one publish per (source, day). A record cut short or corrupt, not a response, off every source,
not an article, undated, dated outside the month, or a URL kept before: counted by reason in the summary.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import logging
import sys
import tempfile
import urllib.request
import zlib
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from ingest import partition
from ingest import s3 as s3io
from newsconfig import env as config

log = logging.getLogger(__name__)
ARCHIVE = "cc-news"
PREFIX = "archives/cc-news"


def month_bounds(month: str) -> tuple[date, date]:
    """[first day, first day of the next month) of `YYYY-MM`."""
    first = datetime.strptime(month, "%Y-%m").date()
    return first, (
        first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)
    )


def _open(url: str, timeout: float = 120.0):
    request = urllib.request.Request(url, headers={"User-Agent": f"news-ingest/0.1 (+{config.contact()})"})
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - an http(s) endpoint from configuration


def file_paths(data_url: str, month: str) -> list[str]:
    """The month's WARC files, from its `warc.paths.gz` listing."""
    year, mm = month.split("-")
    with _open(f"{data_url}/crawl-data/CC-NEWS/{year}/{mm}/warc.paths.gz") as answer:
        text = gzip.decompress(answer.read()).decode("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


class Router:
    """Which source, if any, keeps a record: its host among the source's domains, its URL an article URL."""

    def __init__(self, sources) -> None:
        from spiders.cdx import UrlRules

        self.rules = [(s.name, UrlRules.of(s)) for s in sources]

    def source_of(self, url: str) -> tuple[str | None, str | None]:
        """(source, None), or (None, the reason no source keeps it)."""
        best = "offsite"
        for name, rules in self.rules:
            reason = rules.reason(url)
            if reason is None:
                return name, None
            if reason != "offsite":
                best = reason
        return None, best


def _stream_file(url: str, router: Router, start: date, end: date, out: Path, counts: Counter) -> int:
    """Read one WARC file as a stream; write the kept records to `out` (a chunk: WARC + index). Returns records read."""
    from spiders import pages
    from spiders.items import PageItem
    from spiders.records import intact
    from spiders.warc import CaptureWriter, page_records

    out.mkdir(parents=True, exist_ok=True)
    writer = CaptureWriter(out, 1 << 40, out / "index.jsonl.gz", thread=False)
    read = 0
    try:
        with _open(url) as answer:
            records = ArchiveIterator(answer, check_digests=True)
            try:
                for record in records:
                    read += 1
                    source, reason = None, "not_a_response"
                    target = record.rec_headers.get_header("WARC-Target-URI") or ""
                    if record.rec_type == "response" and record.http_headers is not None:
                        source, reason = router.source_of(target)
                    if source is None:  # read through all the same: a record cut short is counted as such
                        while record.raw_stream.read(1 << 16):
                            pass
                        counts["corrupt_record" if not intact(record) else reason or "offsite"] += 1
                        continue
                    body = record.content_stream().read()
                    if not intact(record):  # corrupt, or cut short (a file that ends mid-record)
                        counts["corrupt_record"] += 1
                        continue
                    if record.http_headers.get_statuscode() != "200":
                        counts["error_capture"] += 1
                        continue
                    published, canonical, _how = pages.read(body, target, lambda b=body, u=target: _selector(b, u))
                    if published is None:
                        counts["no_date"] += 1
                        continue
                    if not start <= published.astimezone(UTC).date() < end:
                        counts["out_of_window_page"] += 1
                        continue
                    captured = record.rec_headers.get_header("WARC-Date") or ""
                    where = f"{url}#offset={records.get_record_offset()}"  # the record in the CC-NEWS file
                    item = PageItem(
                        url=target, discovered_by=ARCHIVE, canonical_url=canonical, status=200,
                        content_hash=hashlib.sha256(body).hexdigest(), published=published.isoformat(),
                        fetched_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), body=body,
                        response_headers=[(k, v) for k, v in record.http_headers.headers],
                        archive=ARCHIVE, captured_at=captured, archive_url=where,
                    )  # fmt: skip
                    line = item.index_line() | {"source": source}
                    writer.page(line, page_records(item, item.fetched_at), len(body))
                    counts["kept"] += 1
            except (ArchiveLoadFailed, EOFError, OSError, ValueError, zlib.error) as err:
                counts["corrupt_file"] += 1  # the rest of the file cannot be read: what came before is kept
                log.warning("CC-NEWS file %s unreadable after %d records: %s", url, read, err)
    finally:
        writer.close()
    return read


def _selector(body: bytes, url: str):
    from parsel import Selector

    return Selector(text=body.decode("utf-8", "replace"), base_url=url)


def _chunk_prefix(month: str, path: str) -> str:
    return f"{PREFIX}/{month}/files/{Path(path).name}/"


def backfill_month(month: str, sources: list[str] | None = None, max_files: int | None = None) -> dict:
    """Stream the month's CC-NEWS files into chunks (resuming), then publish the raw partitions once all are read.

    `max_files`: read at most this many files in this run (a budget); the next run goes on from there."""
    from newsconfig.sources import load_sources

    s3, bucket = s3io.client(), config.bucket()
    chosen = [s for s in load_sources(config.sources_path()) if (not sources or s.name in sources)]
    chosen = [s for s in chosen if ARCHIVE in s.archives]
    if not chosen:
        raise ValueError(f"no source opts in to {ARCHIVE} (`archives: [{ARCHIVE}]` in the sources file)")
    start, end = month_bounds(month)
    data_url = config.commoncrawl_data_url()
    paths = file_paths(data_url, month)
    router, counts = Router(chosen), Counter()
    summary = {"month": month, "sources": [s.name for s in chosen], "files": len(paths), "files_read": 0,
               "files_resumed": 0, "records_read": 0}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="ccnews-") as tmp:
        for path in paths:
            prefix = _chunk_prefix(month, path)
            if s3io.exists(s3, bucket, prefix + "_DONE"):
                summary["files_resumed"] += 1
                continue
            if max_files is not None and summary["files_read"] >= max_files:
                summary["stopped"] = "max_files"
                break
            out = Path(tmp) / Path(path).name
            summary["records_read"] += _stream_file(f"{data_url}/{path}", router, start, end, out, counts)
            for file in sorted(out.iterdir()):
                s3io.upload_file(s3, file, bucket, prefix + file.name)
            s3io.put_bytes(s3, bucket, prefix + "_DONE", b"")  # last: a chunk without it is read again
            summary["files_read"] += 1
        summary["records"] = dict(counts)
        if summary.get("stopped"):
            return summary
        summary["partitions"] = _publish(s3, bucket, month, paths, Path(tmp) / "publish", summary)
    return summary


def _publish(s3, bucket: str, month: str, paths: list[str], folder: Path, summary: dict) -> list[dict]:
    """Route every chunk's pages to their (source, day) partition and publish each; a URL kept twice is kept once.

    A page's compressed records (response and request, as the chunk has them) are copied byte for byte."""
    from ingest.rawio import read_index
    from spiders.urls import strip_tracking
    from spiders.warc import RollingWarcWriter

    parts: dict[tuple[str, date], tuple[RollingWarcWriter, list[dict]]] = {}
    seen: dict[str, set[str]] = defaultdict(set)
    counts: Counter = Counter()
    for path in paths:
        prefix = _chunk_prefix(month, path)
        chunk = folder / "chunks" / Path(path).name
        chunk.mkdir(parents=True, exist_ok=True)
        for key in s3io.list_objects(s3, bucket, prefix):
            s3io.download_file(s3, bucket, key, chunk / Path(key).name)
        lines = [line for line in read_index(chunk / "index.jsonl.gz") if line.get("warc_file")]
        for name in sorted({line["warc_file"] for line in lines}):
            mine = sorted((line for line in lines if line["warc_file"] == name), key=lambda line: line["warc_offset"])
            size = (chunk / name).stat().st_size
            with open(chunk / name, "rb") as fh:
                for i, line in enumerate(mine):
                    stop = mine[i + 1]["warc_offset"] if i + 1 < len(mine) else size
                    fh.seek(line["warc_offset"])
                    members = fh.read(stop - line["warc_offset"])  # one page's records: bounded by the page size
                    source, key = line.pop("source"), strip_tracking(line["url"])
                    if key in seen[source]:
                        counts["duplicate"] += 1
                        continue
                    seen[source].add(key)
                    day = datetime.fromisoformat(line["published"]).astimezone(UTC).date()
                    if (source, day) not in parts:
                        out = folder / "out" / source / day.isoformat()
                        out.mkdir(parents=True, exist_ok=True)
                        parts[(source, day)] = (RollingWarcWriter(out, 256 << 20), [])
                    writer, index = parts[(source, day)]
                    line["warc_file"], line["warc_offset"] = writer.write_records(members)
                    index.append(line)
    published = []
    attempt = f"ccnews-{month}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"
    for (source, day), (writer, index) in sorted(parts.items()):
        writer.close()
        out = folder / "out" / source / day.isoformat()
        with gzip.open(out / "index.jsonl.gz", "wt", encoding="utf-8") as fh:
            fh.writelines(json.dumps(line, ensure_ascii=False) + "\n" for line in index)
        files = sorted(out.glob("part-*.warc.gz")) + [out / "index.jsonl.gz"]
        crawl = {"source": source, "window": [day.isoformat(), None], "stored": len(index), "finish_reason": "finished",
                 "archive": {"stored": len(index)}, "discovered_by": ARCHIVE}  # fmt: skip
        partition.publish(s3, bucket, "raw", source, day, files, {"crawl": crawl, "cc_news_month": month}, attempt)
        published.append({"source": source, "dt": day.isoformat(), "stored": len(index)})
    summary["routing"] = dict(counts)
    return published


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest.ccnews", description=__doc__.split("\n\n")[0])
    parser.add_argument("month", help="YYYY-MM")
    parser.add_argument("--sources", default="", help="comma-separated source names (default: all that opt in)")
    parser.add_argument("--max-files", type=int, default=None, help="read at most this many files in this run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        month_bounds(args.month)
        summary = backfill_month(args.month, [s for s in args.sources.split(",") if s] or None, args.max_files)
    except ValueError as err:
        print(f"ingest.ccnews: error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
