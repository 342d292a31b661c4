"""Deterministic cross-article state: the clean of day D builds on the state published by the latest earlier day,
never on a read-modify-written file. Real WARC raw partitions in the moto S3 server, the real cleaners."""

from __future__ import annotations

import io
import threading
import time
from datetime import date, timedelta

import pytest
import yaml
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from ingest import partition, pipeline, table
from ingest import s3 as s3io

D1 = date(2026, 11, 18)
D2, D3 = D1 + timedelta(days=1), D1 + timedelta(days=2)
# a line that the site prints under some articles: 3 of day 2's articles carry it, 1 of day 3's
HOUSE_LINE = "The Calder Gazette is published by the Calder Gazette Trust, an independent newsroom on the coast."
TOPICS = ["harbour", "school", "council", "bridge", "library", "festival", "ferry", "market", "museum", "park"]


def page(day: date, n: int, house: bool) -> bytes:
    topic = TOPICS[n % len(TOPICS)]
    paragraphs = [
        f"The {topic} committee met on {day:%A %d %B} to discuss item {n} of the agenda in the town hall of Calder.",
        f"Residents asked on {day:%d %B} about the {topic} budget, and the chair of item {n} promised an answer soon.",
        f"A decision on proposal {n} about the {topic} is expected {day.day + n} days after {day:%d %B}, they said.",
    ]
    if house:
        paragraphs.append(HOUSE_LINE)
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = (
        f"<html><head><title>{topic.title()} item {n}</title></head><body><article>"
        f"<h1>{topic.title()} committee discusses item {n}</h1>{body}</article></body></html>"
    )
    return html.encode()


def raw_partition(s3, bucket, tmp_path, day: date, count: int, houses: set[int]) -> None:
    path = tmp_path / f"{day}" / "part-00000.warc.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for n in range(count):
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                f"https://calder.example/{day}/{n}",
                "response",
                payload=io.BytesIO(page(day, n, n in houses)),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": f"{day}T12:00:00Z"},
            )
            writer.write_record(record)
    partition.publish(s3, bucket, "raw", "calder", day, [path], {"crawl": {}}, f"crawl-{day}")


@pytest.fixture
def raw_days(bucket, tmp_path, monkeypatch):
    """Three raw days of the source `calder` (15 + 15 + 15 articles), in the current bucket."""
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [{"name": "calder", "feeds": ["https://calder.example/rss"],
                                                    "allowed_domains": ["calder.example"]}]}))  # fmt: skip
    monkeypatch.setenv("NEWS_SOURCES", str(sources))
    s3 = s3io.client()
    raw_partition(s3, bucket, tmp_path, D1, 15, set())
    raw_partition(s3, bucket, tmp_path, D2, 15, {2, 6, 11})
    raw_partition(s3, bucket, tmp_path, D3, 15, {4})
    return bucket


def run_day(day: date, attempt: str, unfinished=None, before_publish=None) -> dict:
    cleaned = pipeline.clean("calder", day, attempt, unfinished)
    validated = pipeline.validate(cleaned, quiet=False)
    if before_publish:
        before_publish()
    return pipeline.publish(validated, f"run-{attempt}")


def day_rows(bucket: str, day: date) -> list[dict]:
    data = table.open_table(bucket).to_pyarrow_table(filters=[("source", "=", "calder"), ("dt", "=", day)])
    return sorted(data.to_pylist(), key=lambda r: r["url"])


def house_line_removed(rows: list[dict]) -> bool:
    return any(r["text"] for r in rows) and not any(HOUSE_LINE in r["text"] for r in rows)


def test_recleaning_a_day_gives_identical_rows_from_the_earlier_days_state(raw_days):
    bucket = raw_days
    for day in (D1, D2, D3):
        run_day(day, f"first-{day}")
    first = day_rows(bucket, D3)
    assert len(first) == 15 and sum(len(day_rows(bucket, d)) for d in (D1, D2, D3)) >= 40
    assert house_line_removed(first), "day 3 learnt the house line from day 2's state"
    commit = table.history(bucket)[0]
    assert commit["state_from"] == D2.isoformat()
    s3 = s3io.client()
    state_before = s3io.get_bytes(s3, bucket, pipeline.state_key("calder", D3))
    for again in range(2):
        run_day(D3, f"again-{again}")
        assert day_rows(bucket, D3) == first, "a re-clean changed a row"
        assert s3io.get_bytes(s3, bucket, pipeline.state_key("calder", D3)) == state_before
    assert s3io.get_bytes_or_none(s3, bucket, "state/source=calder/boilerplate.json") is None


def _side_by_side(bucket: str, wait: bool) -> None:
    """Days 2 and 3 at once, as two runs of a backfill; day 2's publish is slowed so day 3 would overtake it."""
    run_day(D1, "side-d1")
    day2_done = threading.Event()
    errors = []

    def unfinished(days):
        return int(D2 in days and not day2_done.is_set())

    def day2():
        try:
            run_day(D2, "side-d2", before_publish=lambda: time.sleep(3))
        except Exception as exc:
            errors.append(exc)
        finally:
            day2_done.set()

    def day3():
        try:
            run_day(D3, "side-d3", unfinished if wait else None)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=day2), threading.Thread(target=day3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors


def test_backfill_days_side_by_side_give_the_rows_of_days_one_after_the_other(raw_days, monkeypatch):
    side_bucket, in_order = raw_days, f"{raw_days}-seq"
    s3 = s3io.client()
    s3io.ensure_bucket(s3, in_order)
    for key in s3io.list_objects(s3, side_bucket, "raw/"):  # the same raw days, keys and all
        s3.copy_object(Bucket=in_order, Key=key, CopySource={"Bucket": side_bucket, "Key": key})
    started = time.monotonic()
    _side_by_side(side_bucket, wait=True)
    waited = time.monotonic() - started

    monkeypatch.setenv("NEWS_BUCKET", in_order)
    for day in (D1, D2, D3):
        run_day(day, f"in-order-{day}")
    expected = {d: day_rows(in_order, d) for d in (D2, D3)}
    assert {d: day_rows(side_bucket, d) for d in (D2, D3)} == expected
    assert house_line_removed(expected[D3])
    assert waited >= 3, "day 3's clean did not wait for day 2"


def test_without_the_wait_day_3_overtakes_day_2_and_its_rows_differ(raw_days):
    """The control: the property above needs the wait (a clean of D3 that runs before D2 is published)."""
    _side_by_side(raw_days, wait=False)
    rows = day_rows(raw_days, D3)
    assert not house_line_removed(rows), "without day 2's state the house line stays in day 3"
    assert table.history(raw_days)[-1]  # the table is there; only the state differed
    assert [c["state_from"] for c in table.history(raw_days) if c.get("dt") == D3.isoformat()] == [D1.isoformat()]


def test_the_wait_is_bounded(monkeypatch):
    monkeypatch.setenv("NEWS_STATE_DAYS", "3")
    monkeypatch.setenv("NEWS_NEAR_DUP_DAYS", "2")
    asked = []
    with pytest.raises(pipeline.EarlierDaysUnfinished, match="still unfinished"):
        pipeline.wait_for_earlier_days(D3, lambda days: asked.append(days) or 1, timeout=1.5, poll=0.2)
    assert asked[0] == [D2, D1, D1 - timedelta(days=1)]
    assert pipeline.wait_for_earlier_days(D3, lambda days: 0, timeout=0) is None
    # the near-duplicates' window is waited for too when it is the longer one
    monkeypatch.setenv("NEWS_NEAR_DUP_DAYS", "4")
    asked.clear()
    with pytest.raises(pipeline.EarlierDaysUnfinished):
        pipeline.wait_for_earlier_days(D3, lambda days: asked.append(days) or 1, timeout=0.5, poll=0.2)
    assert asked[0] == [D2, D1, D1 - timedelta(days=1), D1 - timedelta(days=2)]
