"""A 2023 backfill through the DAG whose articles come only from the loopback web archive: the README's
`archive-backfill` block (`airflow dags test` per day, `discover: archives`), run as a user pastes it."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, date
from pathlib import Path

import pytest

from ingest import partition, table
from ingest import s3 as s3io
from tests.archive_site import ArchiveSite, demo_captures, write_archive_sources
from tests.readme import block

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
ANCHOR = date(2023, 3, 15)
DAYS = [date(2023, 3, 13), date(2023, 3, 14)]  # the README block's days

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW_HOME = Path(os.environ["AIRFLOW_HOME"])  # the suite's (tests/conftest.py sets it before any test module)


def _checkout(tmp_path):
    """A folder laid out like the checkout for the block's `$PWD/.airflow`: the session's migrated Airflow state."""
    tmp_path.mkdir()
    for name in (".venv", "airflow.cfg", "dags"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / ".airflow").symlink_to(AIRFLOW_HOME)
    return tmp_path


def test_readme_archive_backfill_of_2023_takes_every_article_from_the_archive(airflow_db, bucket, tmp_path):
    assert '"discover": "archives"' in block("archive-backfill").text
    assert all(d.isoformat() in block("archive-backfill").text for d in DAYS)
    captures, articles = demo_captures(ANCHOR)
    sources = write_archive_sources(tmp_path / "sources.yaml")
    with ArchiveSite(captures) as archive:
        env = {**os.environ, **archive.env(), "NEWS_SOURCES": str(sources), "NEWS_BUCKET": bucket}
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block("archive-backfill").text], cwd=_checkout(tmp_path / "co"),
            env=env, capture_output=True, text=True, timeout=800,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    s3 = s3io.client()
    # what the archive was asked: capture indexes of the sources' domains, never for today, and raw captures only
    assert {q["url"] for q in archive.cdx_log} == {f"{n}.example/*" for n in articles}
    assert all(q["to"] < "2026" for q in archive.cdx_log)
    assert archive.raw_log and all("id_/" in p for p, _ in archive.raw_log if p != "/robots.txt")
    data = table.open_table(bucket).to_pyarrow_table().to_pylist()
    for day in DAYS:
        for source, by_url in articles.items():
            expected = {u for u, a in by_url.items() if a.published.astimezone(UTC).date() == day}
            rows = [r for r in data if r["source"] == source and r["dt"] == day]
            assert expected and {r["url"] for r in rows} == expected, (source, day, done.stdout[-2000:])
            for row in rows:
                assert row["provenance"] == "wayback" and row["capture"]["archive_url"].startswith(archive.web_url)
                assert "id_/" + row["url"] in row["capture"]["archive_url"]
                for appeal in by_url[row["url"]].appeals:
                    assert appeal not in row["text"]
            crawl = partition.read_manifest(s3, bucket, "raw", source, day)["crawl"]
            assert crawl["documents"] == 0, "a feed or sitemap of the live site was asked for"
            assert crawl["archive_discovery"]["wayback"]["candidates"] >= len(expected)
            report = json.loads(s3io.get_bytes(s3, bucket, f"reports/dt={day}/report.json"))
            summary = report["sources"][source]
            assert summary["status"] == "published" and summary["archive"]["stored"] == len(expected), summary
            assert summary["archive"]["candidates"]["wayback"] == crawl["archive_discovery"]["wayback"]["candidates"]


@pytest.mark.timeout(300)
def test_discover_archives_is_refused_for_sources_that_opt_in_to_none(airflow_db, bucket, demo_sources, demo_day):
    import importlib.util
    from datetime import datetime

    spec = importlib.util.spec_from_file_location("news_daily_archives", ROOT / "dags" / "news_daily.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    logical = datetime(demo_day.year, demo_day.month, demo_day.day, tzinfo=UTC)
    run = module.news_daily_dag.test(logical_date=logical, run_conf={"discover": "archives"})
    assert run.state == "failed"
    assert not demo_sources.request_log, "a refused run crawled"
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        refused = session.query(XComModel.value).filter_by(run_id=run.run_id, task_id="list_sources",
                                                           key="refused").one()[0]  # fmt: skip
    assert "discover=archives, but ['millbrook', 'eastmere', 'portcalder'] opt in to no archive" in str(refused)
