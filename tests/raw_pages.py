"""Raw partitions for clean-stage tests: pages with their HTTP headers in a WARC, published to the moto S3 server."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from ingest import partition
from ingest import s3 as s3io

STORY = [
    "The Norvale city council voted seven to two on Tuesday to build a second bridge across the Alder River.",
    "The new crossing is expected to cost about 48 million dollars and to open to traffic in 2027.",
    "Council member Ruth Abara said the vote would relieve traffic on the Main Street bridge.",
    "Engineers will begin soil surveys in June, and the city expects to choose a construction firm soon.",
]


def page(paragraphs: list[str], title: str = "Story", head: str = "", lang: str | None = "en") -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    attr = f' lang="{lang}"' if lang else ""
    return (
        f"<html{attr}><head><title>{title}</title>{head}</head><body><article><h1>{title}</h1>{body}</article>"
        "</body></html>"
    ).encode()


def write_raw(
    bucket: str,
    tmp: Path,
    source: str,
    day: date,
    pages: list[tuple[str, bytes, list[tuple[str, str]]]],
    index: list[dict] | None = None,
    sites: list[dict] | None = None,
) -> None:
    """`pages`: (url, body, extra HTTP headers); Content-Type text/html; charset=utf-8 unless given."""
    folder = tmp / f"raw-{source}-{day}"
    folder.mkdir(parents=True, exist_ok=True)
    warc = folder / "part-00000.warc.gz"
    with open(warc, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body, headers in pages:
            if not any(k.lower() == "content-type" for k, _ in headers):
                headers = [("Content-Type", "text/html; charset=utf-8"), *headers]
            http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))
    files = [warc]
    if index is not None:
        import gzip
        import json

        path = folder / "index.jsonl.gz"
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.writelines(json.dumps(e) + "\n" for e in index)
        files.append(path)
    if sites is not None:  # sites.jsonl.gz, as the spider writes it (spiders.robots.SiteFactsExtension)
        import gzip
        import json

        path = folder / "sites.jsonl.gz"
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.writelines(json.dumps(f) + "\n" for f in sites)
        files.append(path)
    partition.publish(s3io.client(), bucket, "raw", source, day, files, {"crawl": {}}, "test")


def sources_file(tmp: Path, monkeypatch, entries: str) -> Path:
    """A sources file of `entries` (YAML list items) set as NEWS_SOURCES."""
    path = tmp / "sources.yaml"
    path.write_text("sources:\n" + entries)
    monkeypatch.setenv("NEWS_SOURCES", str(path))
    return path


def clean_and_publish(source: str, day: date) -> dict:
    """The clean, validate and publish stages of (source, day); returns the clean stats."""
    from ingest import pipeline

    cleaned = pipeline.clean(source, day, attempt="a1")
    pipeline.publish(pipeline.validate(cleaned), run_id="test")
    return cleaned["stats"]


def published_rows(bucket: str, source: str) -> dict[str, dict]:
    from ingest import table

    data = table.open_table(bucket).to_pyarrow_table(filters=[("source", "=", source)])
    return {r["url"]: r for r in data.to_pylist()}
