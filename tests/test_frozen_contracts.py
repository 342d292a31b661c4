"""Contracts frozen as literal values, not read back from the modules they check: the page-level window filter,
the clean layer's schema, the shipped crawl limits, the report's status per source, the raw partition's success
marker, and news_daily's schedule, retries and the window each task hands on.

Each test here was checked by planting the bug it guards against (see bench/README.md, "Mutation testing").
"""

from __future__ import annotations

import importlib.util
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spiders.items import PageItem
from spiders.pipelines import WindowFilterPipeline

DAG_FILE = Path(__file__).resolve().parents[1] / "dags" / "news_daily.py"

# -- the page-level window filter ------------------------------------------------------------------------------

WINDOW = ("2025-06-02", "2025-06-03")  # [2025-06-02 00:00, 2025-06-03 00:00) UTC


def _filter():
    from scrapy.utils.test import get_crawler

    crawler = get_crawler(settings_dict={"NEWS_WINDOW_START": WINDOW[0], "NEWS_WINDOW_END": WINDOW[1]})
    return WindowFilterPipeline.from_crawler(crawler)


@pytest.mark.parametrize(
    ("published", "reason"),
    [
        ("2025-06-02T00:00:00Z", None),  # the first instant of the window
        ("2025-06-02T12:00:00Z", None),
        ("2025-06-02T23:59:59Z", None),  # the last second
        ("2025-06-03T01:30:00+02:00", None),  # 23:30 UTC on the 2nd
        ("2025-06-03T00:00:00Z", "out_of_window_page"),  # the day after starts here
        ("2025-06-03T09:00:00Z", "out_of_window_page"),  # the day after the window
        ("2025-06-04T09:00:00Z", "out_of_window_page"),
        ("2025-06-01T23:59:59Z", "out_of_window_page"),  # the day before
        ("2025-06-02T01:00:00+02:00", "out_of_window_page"),  # 23:00 UTC on the 1st
        ("2025-06-02", None),  # a bare date is its day's midnight UTC
        ("2025-06-03", "out_of_window_page"),
        ("not a date", "no_date"),
        (None, "no_date"),
    ],
)
def test_the_page_date_decides_in_a_half_open_utc_window(published, reason):
    item = PageItem(url="https://example.com/a", discovered_by="sitemap", published=published)
    assert _filter().process_item(item).reason == reason


def test_a_published_hint_from_discovery_beats_the_page_and_a_modification_hint_does_not():
    window = _filter()
    inside, after = "2025-06-02T10:00:00Z", "2025-06-03T10:00:00Z"
    trusted = PageItem("u", "news-sitemap", date_hint=after, date_hint_is_published=True, published=inside)
    assert window.process_item(trusted).reason == "out_of_window_page"
    trusted = PageItem("u", "news-sitemap", date_hint=inside, date_hint_is_published=True, published=after)
    assert window.process_item(trusted).reason is None
    lastmod = PageItem("u", "sitemap", date_hint=inside, published=after)  # lastmod: the page's date decides
    assert window.process_item(lastmod).reason == "out_of_window_page"
    lastmod = PageItem("u", "sitemap", date_hint=after, published=inside)
    assert window.process_item(lastmod).reason is None
    undated = PageItem("u", "sitemap", date_hint=inside)  # no page date: the modification hint is all there is
    assert window.process_item(undated).reason is None
    undated = PageItem("u", "sitemap", date_hint=after)
    assert window.process_item(undated).reason == "out_of_window_page"
    rejected = PageItem("u", "sitemap", published=after, reason="offsite")  # an earlier reject stays as it is
    assert window.process_item(rejected).reason == "offsite"


# -- the clean layer's schema ----------------------------------------------------------------------------------

UTC_US = pa.timestamp("us", tz="UTC")
_SAME = {pa.large_string(): pa.string(), pa.string_view(): pa.string()}


def _logical(t: pa.DataType) -> pa.DataType:
    """The type as a reader sees it: string kinds as string, lists as lists whatever their item's name."""
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return pa.list_(_logical(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([(f.name, _logical(f.type)) for f in t])
    return _SAME.get(t, t)


def _columns(schema: pa.Schema) -> list[tuple[str, pa.DataType, bool]]:
    return [(f.name, _logical(f.type), f.nullable) for f in schema]
EXPECTED_SCHEMA = pa.schema(
    [
        ("url", pa.string()),
        ("canonical_url", pa.string()),
        ("source", pa.string()),
        ("title", pa.string()),
        ("authors", pa.list_(pa.string())),
        ("published_at", UTC_US),
        ("language", pa.string()),
        ("text", pa.string()),
        ("removed", pa.list_(pa.struct([("text", pa.string()), ("rule", pa.string()), ("layer", pa.string())]))),
        ("fingerprint", pa.string()),
        ("fetched_at", UTC_US),
        ("cleaner_version", pa.string()),
        ("warc_file", pa.string()),
        ("warc_offset", pa.int64()),  # offsets into WARC parts of up to 256 MiB and more: never int32
        ("dt", pa.date32()),
        # schema version 3: issue #15's columns, then issue #16's provenance
        ("site_name", pa.string()),
        ("image_url", pa.string()),
        ("section", pa.string()),
        ("keywords", pa.list_(pa.string())),
        ("modified_at", UTC_US),
        ("language_detected", pa.string()),
        ("free_access", pa.bool_()),
        ("truncated", pa.bool_()),
        ("access_signals", pa.list_(pa.string())),
        ("rights", pa.struct([
            ("x_robots_tag", pa.string()), ("meta_robots", pa.string()), ("noai", pa.bool_()),
            ("noimageai", pa.bool_()), ("noindex", pa.bool_()), ("noarchive", pa.bool_()),
            ("tdm_reservation", pa.bool_()), ("tdm_policy", pa.string()), ("tdm_from", pa.string()),
            ("ai_agents_disallowed", pa.list_(pa.string())), ("reserved", pa.bool_()),
            ("reserved_by", pa.list_(pa.string())),
        ])),  # fmt: skip
        ("minhash", pa.binary()),
        ("near_duplicate_of", pa.string()),
        ("provenance", pa.string()),
        ("capture", pa.struct([("archive", pa.string()), ("archive_url", pa.string()), ("captured_at", UTC_US)])),
    ],
    metadata={"news_ingest.schema_version": "3"},
)


def _row() -> dict:
    at = datetime(2025, 6, 2, 9, tzinfo=UTC)
    return {
        "url": "https://example.com/a", "canonical_url": "https://example.com/a", "source": "s", "title": "T",
        "authors": ["A"], "published_at": at, "language": "en", "text": "Body.",
        "removed": [{"text": "Donate", "rule": "appeal:x", "layer": "appeals"}], "fingerprint": "f",
        "fetched_at": at, "cleaner_version": "1", "warc_file": "part-00000.warc.gz", "warc_offset": 5_000_000_000,
        "dt": date(2025, 6, 2),
    }  # fmt: skip


def test_the_parquet_schema_is_the_frozen_one(tmp_path):
    from ingest import parquet

    assert parquet.SCHEMA.equals(EXPECTED_SCHEMA, check_metadata=True), parquet.SCHEMA
    path = tmp_path / "rows.parquet"
    assert parquet.write_rows([_row()], path) == 1
    written = pq.read_table(path)
    assert _columns(written.schema) == _columns(EXPECTED_SCHEMA), written.schema
    assert written.schema.metadata == EXPECTED_SCHEMA.metadata
    assert written.column("warc_offset").to_pylist() == [5_000_000_000]  # past 2**31: an int32 would not hold it


def test_the_delta_table_has_the_frozen_columns(bucket):
    from ingest import table

    rows = pa.Table.from_pylist([_row()], schema=EXPECTED_SCHEMA)
    table.publish(bucket, "s", date(2025, 6, 2), rows, {"run_id": "contract"})
    got = table.open_table(bucket).schema().to_arrow()
    # delta-rs may hand strings back as large or view types: the logical types, in order
    assert [c[:2] for c in _columns(pa.schema(got))] == [c[:2] for c in _columns(EXPECTED_SCHEMA)]
    assert table.open_table(bucket).metadata().configuration["news_ingest.schema_version"] == "3"
    assert table.open_table(bucket).metadata().partition_columns == ["source", "dt"]


# -- the shipped crawl limits ----------------------------------------------------------------------------------

SHIPPED = {
    "DOWNLOAD_MAXSIZE": 10 * 1024 * 1024,  # also the bound of a gunzipped sitemap
    "DOWNLOAD_WARNSIZE": 2 * 1024 * 1024,
    "DOWNLOAD_TIMEOUT": 30,
    "NEWS_MAX_HEADER_BYTES": 256 * 1024,
    "NEWS_MAX_HEADERS": 1000,
    "NEWS_ROBOTS_MAX_BYTES": 512 * 1024,
    "NEWS_ROBOTS_MAX_CRAWL_DELAY": 30.0,
    "NEWS_SITEMAP_MAX_DEPTH": 4,
    "NEWS_MAX_DOCUMENTS": 2000,
    "NEWS_MAX_ENTRIES": 50_000,
    "URLLENGTH_LIMIT": 2083,
    "REDIRECT_MAX_TIMES": 5,
    "RETRY_TIMES": 2,
    "RETRY_BACKOFF_MAX": 30.0,
    "RETRY_AFTER_MAX": 60.0,
    "NEWS_WARC_MAX_BYTES": 256 * 1024 * 1024,
    "NEWS_PAGE_THREAD_FROM": 128 * 1024,
    "NEWS_PAGE_BUDGET_SECONDS": 10.0,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
    "METAREFRESH_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
    "ROBOTSTXT_OBEY": True,
    "TWISTED_DNS_RESOLVER": "spiders.resolver.GuardedResolver",
}


def test_the_shipped_limits_are_these_values():
    from spiders import settings

    assert {name: getattr(settings, name) for name in SHIPPED} == SHIPPED
    from spiders.discovery import MAX_ENTRIES

    assert MAX_ENTRIES == 50_000


# -- the report's status per source ----------------------------------------------------------------------------


def test_the_summary_names_failed_and_partial_sources_and_their_stage():
    from ingest.report import summarise, to_text

    ok = {"stored": 3, "finish_reason": "finished", "rejected": {"duplicate": 1}}
    per_source = {
        "alpha": {"crawl": {"summary": ok}, "clean": {"stats": {"articles": 3}}, "validate": {},
                  "publish": {"keys": ["k"], "version": 4}, "error": None},
        "beta": {"crawl": {"summary": ok}, "clean": {"stats": {"articles": 2}}, "validate": None, "publish": None,
                 "error": "QualityGateError: too few articles"},
        "gamma": {"crawl": None, "clean": None, "validate": None, "publish": None, "error": "CrawlError: boom"},
        "delta": {"crawl": {"summary": {**ok, "failed_fetches": {"http_503": 2}}},
                  "clean": {"stats": {"articles": 1}}, "validate": {}, "publish": {"keys": []}, "error": None},
        "eps": {"crawl": {"summary": {**ok, "finish_reason": "time_budget", "unfinished": 7}},
                "clean": {"stats": {"articles": 1}}, "validate": {}, "publish": {"keys": []}, "error": None},
        "zeta": {"crawl": {"summary": {**ok, "lost_documents": {"too_large": 1}}},
                 "clean": {"stats": {"articles": 1}}, "validate": {}, "publish": {"keys": []}, "error": None},
    }  # fmt: skip
    report = summarise(date(2025, 6, 2), "run-1", per_source)
    status = {n: (s["status"], s["failed_stage"]) for n, s in report["sources"].items()}
    assert status == {
        "alpha": ("published", None),
        "beta": ("failed", "validate"),
        "gamma": ("failed", "crawl"),
        "delta": ("published_with_failures", None),
        "eps": ("published_with_failures", None),
        "zeta": ("published_with_failures", None),
    }
    assert report["failed"] == ["beta", "gamma"]
    assert report["published_with_failures"] == ["delta", "eps", "zeta"]
    assert report["sources"]["beta"]["error"] == "QualityGateError: too few articles"
    assert report["sources"]["alpha"]["table_version"] == 4
    assert report["rejected_by_reason"] == {"duplicate": 5}
    assert report["failed_fetches_by_reason"] == {"http_503": 2}
    assert report["discovery_errors_by_reason"] == {"too_large": 1}
    text = to_text({**report, "report_keys": ["a", "b"]})
    assert "failed sources: beta, gamma" in text and "beta: validate failed: QualityGateError" in text


# -- the raw partition's success marker ------------------------------------------------------------------------


def test_read_manifest_needs_the_success_marker(bucket, tmp_path):
    from ingest import partition
    from ingest import s3 as s3io

    s3, day = s3io.client(), date(2025, 6, 2)
    part = tmp_path / "index.jsonl.gz"
    part.write_bytes(b"x")
    manifest = partition.publish(s3, bucket, "raw", "src", day, [part], {"run": "r"}, "a1")
    assert partition.read_manifest(s3, bucket, "raw", "src", day) == manifest
    s3.delete_object(Bucket=bucket, Key=partition.partition_prefix("raw", "src", day) + partition.SUCCESS)
    assert partition.read_manifest(s3, bucket, "raw", "src", day) is None, "a manifest without _SUCCESS was read"
    assert partition.read_manifest(s3, bucket, "raw", "other", day) is None


# -- news_daily: schedule, retries, and the window each task is given ------------------------------------------


def _dag(monkeypatch):
    for name in ("NEWS_TASK_RETRIES", "NEWS_RETRY_DELAY_SECONDS", "NEWS_CRAWL_TIMEOUT_SECONDS"):
        monkeypatch.delenv(name, raising=False)  # the shipped defaults (the test session lowers them)
    spec = importlib.util.spec_from_file_location("dagfile_news_daily_contract", DAG_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_news_daily_schedule_and_retries_are_the_shipped_ones(monkeypatch):
    from airflow.timetables.base import DataInterval, TimeRestriction
    from airflow.timetables.interval import CronDataIntervalTimetable

    dag = _dag(monkeypatch).news_daily_dag
    assert dag.catchup is False and dag.max_active_runs == 2
    assert dag.start_date == datetime(1990, 1, 1, tzinfo=UTC)
    assert (dag.timetable.expression, str(dag.timetable.timezone)) == ("0 0 * * *", "UTC")
    # the DAG's timetable as the scheduler runs it: the run after the one for 2026-12-02 is for 2026-12-03,
    # made at 2026-12-04 00:00
    timetable = CronDataIntervalTimetable(dag.timetable.expression, dag.timetable.timezone)
    assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"
    before = DataInterval(datetime(2026, 12, 2, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC))
    info = timetable.next_dagrun_info(
        last_automated_data_interval=before, restriction=TimeRestriction(earliest=None, latest=None, catchup=True)
    )
    assert (info.logical_date, info.run_after) == (datetime(2026, 12, 3, tzinfo=UTC), datetime(2026, 12, 4, tzinfo=UTC))
    assert info.data_interval == DataInterval(datetime(2026, 12, 3, tzinfo=UTC), datetime(2026, 12, 4, tzinfo=UTC))
    for task in dag.tasks:
        assert task.retries == 2, task.task_id
        assert task.retry_delay == timedelta(seconds=30), task.task_id
        assert task.retry_exponential_backoff and task.max_retry_delay == timedelta(minutes=30), task.task_id
    assert dag.get_task("per_source.crawl").execution_timeout == timedelta(hours=2)
    assert dag.get_task("per_source.clean").execution_timeout == timedelta(hours=4)
    assert dag.get_task("report").execution_timeout == timedelta(hours=1)


@pytest.mark.parametrize(
    ("logical", "run_after", "day"),
    [
        (datetime(2026, 12, 3, tzinfo=UTC), datetime(2026, 12, 4, tzinfo=UTC), date(2026, 12, 3)),  # scheduled
        (datetime(2023, 4, 28, tzinfo=UTC), datetime(2026, 12, 4, 17, tzinfo=UTC), date(2023, 4, 28)),  # REST, manual
        (datetime(2023, 4, 28, tzinfo=UTC), datetime(2023, 4, 29, tzinfo=UTC), date(2023, 4, 28)),  # backfill
        (None, datetime(2026, 12, 4, 17, tzinfo=UTC), date(2026, 12, 3)),  # triggered without a logical date
    ],
)
def test_the_crawl_task_asks_for_one_utc_day_and_its_partition(monkeypatch, logical, run_after, day):
    module = _dag(monkeypatch)
    context = {
        "logical_date": logical,
        "dag_run": SimpleNamespace(run_after=run_after, run_id="r"),
        "params": {"recrawl": True, "discover": "live"},
        "ti": SimpleNamespace(run_id="r", map_index=0, try_number=1, xcom_push=lambda **kw: None),
    }
    monkeypatch.setattr(module, "get_current_context", lambda: context)
    calls = []
    from ingest import pipeline

    monkeypatch.setattr(pipeline, "crawl", lambda *args: calls.append(args) or {})
    module.news_daily_dag.get_task("per_source.crawl").python_callable(source="alpha")
    assert calls == [("alpha", day, day + timedelta(days=1), True, "r-0-1", "live")]


@pytest.mark.parametrize("settings", [{}, {"NEWS_WINDOW_START": "2025-06-02"}, {"NEWS_WINDOW_END": "2025-06-03"}])
def test_the_window_filter_needs_both_ends(settings):
    from scrapy.exceptions import NotConfigured
    from scrapy.utils.test import get_crawler

    with pytest.raises(NotConfigured, match="^no window$"):
        WindowFilterPipeline.from_crawler(get_crawler(settings_dict=settings))


def test_the_summary_of_one_source_field_by_field():
    from ingest.report import summarise

    crawl = {"stored": 3, "finish_reason": "finished", "rejected": {"duplicate": 1}, "elapsed_seconds": 12.5,
             "time_budget_seconds": 2880.0, "failed_fetches": {"http_503": 2}, "failed_documents": {"timeout": 1},
             "lost_documents": {"timeout": 1}}  # fmt: skip
    clean = {"articles": 1, "rejected": {"duplicate": 2, "empty text": 1}, "removed_by_rule": {"appeal:x": 3}}
    stages = {"crawl": {"summary": crawl}, "clean": {"stats": clean}, "validate": {},
              "publish": {"keys": ["k1"], "version": 7}, "error": None}  # fmt: skip
    assert summarise(date(2025, 6, 2), "run-1", {"delta": stages}) == {
        "dt": "2025-06-02",
        "run_id": "run-1",
        "failed": [],
        "published_with_failures": ["delta"],
        "rejected_by_reason": {"duplicate": 3, "empty text": 1},
        "removed_by_rule": {"appeal:x": 3},
        "failed_fetches_by_reason": {"http_503": 2, "timeout": 1},
        "discovery_errors_by_reason": {"timeout": 1},
        "language_disagreements": {},
        "flags": {},
        "sources": {
            "delta": {
                "status": "published_with_failures", "failed_stage": None, "error": None, "fetched": 3,
                "articles": 1, "rejected": {"duplicate": 3, "empty text": 1}, "removed_by_rule": {"appeal:x": 3},
                "keys": ["k1"], "table_version": 7,
                "failed_fetches": {"total": 3, "articles": {"http_503": 2}, "documents": {"timeout": 1}},
                "discovery_errors": {"timeout": 1}, "finish_reason": "finished", "unfinished": 0,
                "elapsed_seconds": 12.5, "time_budget_seconds": 2880.0, "language_disagreements": {}, "flags": {},
                "coverage": None, "not_modified": 0, "archive": None,
            }
        },
    }  # fmt: skip


@pytest.mark.parametrize(
    ("crawl", "status", "fetched"),
    [
        ({"fetched": 4}, "published", 4),  # a summary from before `stored`; no finish reason: not partial
        ({"stored": 2, "finish_reason": "finished"}, "published", 2),
        ({"stored": 2, "finish_reason": "finished", "unfinished": 1}, "published_with_failures", 2),
        ({"stored": 2, "finish_reason": "closespider_timeout"}, "published_with_failures", 2),
        ({"stored": 2, "failed_documents": {"http_404": 1}}, "published_with_failures", 2),  # no lost_documents yet
        ({"stored": 2, "lost_documents": {}, "failed_documents": {}}, "published", 2),
        ({"stored": 2, "failed_fetches": {"http_503": 1}}, "published_with_failures", 2),  # one is enough
    ],
)
def test_what_makes_a_published_source_partial(crawl, status, fetched):
    from ingest.report import summarise

    stages = {"crawl": {"summary": crawl}, "clean": {"stats": {}}, "validate": {}, "publish": {}, "error": None}
    source = summarise(date(2025, 6, 2), "r", {"s": stages})["sources"]["s"]
    assert (source["status"], source["fetched"], source["keys"]) == (status, fetched, [])
    if crawl.get("failed_documents"):
        assert source["discovery_errors"] == {"http_404": 1}
