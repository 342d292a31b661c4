"""The clean and validate stages on a raw partition in S3 (moto over HTTP) holding hostile pages beside good ones:
charsets declared only in the HTTP header, a lying header, random bytes, an appeal-only page, a slow page.
Every good article is published, every bad page is counted with its reason, and the day validates."""

from __future__ import annotations

import io
import os
from datetime import date
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from ingest import partition, pipeline, table
from ingest import s3 as s3io

DAY = date(2026, 11, 20)
SOURCE = "hostile"
RU = [
    "Городской совет во вторник проголосовал за строительство второго моста через реку Ольховку.",
    "Новый переход обойдётся примерно в сорок восемь миллионов рублей и откроется весной будущего года.",
    "Член совета Руфь Абара сказала, что мост разгрузит движение на старом мосту у мельницы.",
    "Противники решения считают, что деньги лучше потратить на ремонт существующих дорог.",
]
EN = [
    "The Norvale city council voted seven to two on Tuesday to build a second bridge across the Alder River.",
    "The new crossing is expected to cost about 48 million dollars and to open to traffic in 2027.",
    "Council member Ruth Abara said the vote would relieve traffic on the Main Street bridge.",
    "Engineers will begin soil surveys in June, and the city expects to choose a construction firm soon.",
]
SUPPORT = [
    "Independent local journalism needs readers like you.",
    "Please support us with a donation today. Every contribution helps.",
    "Become a member for just $5 a month and read without ads.",
    "Sign up for our newsletter to get the best stories in your inbox every morning.",
    "Donate now",
]
SCRIPT = "<script>var config = {" + ", ".join(f'"key{i}": "value number {i}"' for i in range(900)) + "};</script>"


def html(paragraphs: list[str], title: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<html><head>{SCRIPT}<title>{title}</title></head><body><article>{body}</article></body></html>"


def pages() -> list[tuple[str, bytes, str, str | None]]:
    """(url, body, Content-Type, expected reason or None)."""
    out = [
        (f"https://hostile.example/en/{i}", html([f"Story {i}. {p}" for p in EN], f"Story {i}").encode(),
         "text/html; charset=utf-8", None)
        for i in range(6)
    ]  # fmt: skip
    ru = html(RU, "Новости")
    out += [
        ("https://hostile.example/ru/1251", ru.encode("cp1251"), "text/html; charset=windows-1251", None),
        ("https://hostile.example/ru/koi8", ru.encode("koi8-r"), "text/html; charset=KOI8-R", None),
        ("https://hostile.example/ru/lie", ru.encode("utf-8"), "text/html; charset=iso-8859-1", None),
        ("https://hostile.example/support", html(SUPPORT, "Support us").encode(), "text/html", "appeal_only"),
        ("https://hostile.example/random", os.urandom(200_000).replace(b"\x00", b"\x07"), "text/html", "binary"),
    ]  # fmt: skip
    return out


def write_raw_partition(bucket: str, tmp: Path) -> None:
    warc = tmp / "part-00000.warc.gz"
    with open(warc, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body, ctype, _ in pages():
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
            writer.write_record(record)
    s3 = s3io.client()
    partition.publish(s3, bucket, "raw", SOURCE, DAY, [warc], {"crawl": {}}, "test")


@pytest.fixture
def sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(
        f"sources:\n  - name: {SOURCE}\n    feeds: [https://hostile.example/feed]\n"
        "    cleaning: {prune_css: [div.house-ad]}\n"
    )
    monkeypatch.setenv("NEWS_SOURCES", str(path))
    return path


def test_clean_and_validate_a_day_with_hostile_pages(bucket: str, sources: Path, tmp_path: Path) -> None:
    write_raw_partition(bucket, tmp_path)
    cleaned = pipeline.clean(SOURCE, DAY, attempt="a1")
    stats = cleaned["stats"]
    expected = pages()
    assert stats["documents"] == len(expected)
    assert stats["rejected"] == {"appeal_only": 1, "binary": 1}
    assert stats["articles"] == len(expected) - 2
    listed = {d["url"]: d["reason"] for d in stats["rejected_documents"]}
    assert listed == {"https://hostile.example/support": "appeal_only", "https://hostile.example/random": "binary"}
    validated = pipeline.validate(cleaned)  # the appeal-only page does not fail the source-day
    published = pipeline.publish(validated, run_id="test")
    assert published["rows"] == stats["articles"]
    day = table.open_table(bucket).to_pyarrow_table(columns=["url", "text"], filters=[("source", "=", SOURCE)])
    rows = {r["url"]: r["text"] for r in day.to_pylist()}
    for url in ("https://hostile.example/ru/1251", "https://hostile.example/ru/koi8", "https://hostile.example/ru/lie"):
        assert all(p in rows[url] for p in RU), url  # decoded, not mojibake
    assert all(f"https://hostile.example/en/{i}" in rows for i in range(6))


def test_a_slow_page_is_too_slow_and_the_rest_of_the_day_is_cleaned(
    bucket: str, sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWS_CLEAN_DOC_SECONDS", "3")
    sources.write_text(
        f"sources:\n  - name: {SOURCE}\n    feeds: [https://hostile.example/feed]\n"
        "    cleaning: {prune_xpath: ['//p[count(preceding::p) + count(following::p) > count(//p)]']}\n"
    )
    # 15,000 paragraphs: ~10 s of CPU with the rule, well over the 3 s budget even on an idle machine
    slow = html([f"Paragraph {i} of a very long page." for i in range(15000)], "Slow").encode()
    good = [(f"https://hostile.example/en/{i}", html([f"Story {i}. {p}" for p in EN], "S").encode()) for i in range(5)]
    warc = tmp_path / "part-00000.warc.gz"
    with open(warc, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body in [*good[:2], ("https://hostile.example/slow", slow), *good[2:]]:
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
            )
    s3 = s3io.client()
    partition.publish(s3, bucket, "raw", SOURCE, DAY, [warc], {}, "t")
    stats = pipeline.clean(SOURCE, DAY, attempt="a1")["stats"]
    assert stats["rejected"] == {"too_slow": 1} and stats["articles"] == 5
    assert stats["rejected_documents"][0]["url"] == "https://hostile.example/slow"
