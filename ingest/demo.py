"""`make demo`: the whole daily run, offline, on embedded defaults.

Starts a local S3 endpoint and the demo news site on loopback, runs the real DAG with
`airflow dags test`, shows what was written and reads it back as a downstream analyst would,
then stops what it started.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

from ingest import downstream
from ingest import s3 as s3io
from ingest.local_s3 import local_s3_env
from newsconfig import env as config

BUCKET = "news-demo"
STATE = config.PROJECT_ROOT / ".state" / "demo"


def airflow_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment for Airflow commands: state inside the checkout, never in the home directory."""
    env = {**os.environ, **extra}
    env.setdefault("AIRFLOW_HOME", str(config.PROJECT_ROOT / ".airflow"))
    env.setdefault("AIRFLOW_CONFIG", str(config.PROJECT_ROOT / "airflow.cfg"))
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    return env


def run_airflow(args: list[str], env: dict[str, str], log: Path) -> None:
    """Run an Airflow command, its output to a log file; on failure show the end of it and stop."""
    with open(log, "w") as fh:
        done = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            timeout=1800,
            check=False,
        )
    if done.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-40:]
        raise SystemExit(
            f"`airflow {' '.join(args)}` failed (exit {done.returncode}); end of {log}:\n" + "\n".join(tail)
        )


def write_demo_sources(demo, path: Path) -> None:
    """The demo site's sources, with politeness relaxed: it is our own server on loopback."""
    demo.write_sources(path)
    doc = yaml.safe_load(path.read_text())
    for source in doc["sources"]:
        source["politeness"] = {"download_delay": 0, "autothrottle": False}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def main() -> int:
    from demo_site import DemoSite

    day = datetime.now(UTC).date() - timedelta(days=1)  # the last complete UTC day
    logical = day + timedelta(days=1)  # `dags test` with a data-interval timetable runs [logical-1d, logical)
    STATE.mkdir(parents=True, exist_ok=True)
    sources = STATE / "sources.yaml"
    with local_s3_env(BUCKET) as s3server, DemoSite(day) as demo:
        write_demo_sources(demo, sources)
        print(f"local S3 endpoint  {s3server.endpoint}  bucket {BUCKET}")
        for name, url in demo.base_urls.items():
            print(f"demo site          {url}  ({name})")
        env = airflow_env(
            {
                **s3server.env,
                "NEWS_BUCKET": BUCKET,
                "NEWS_SOURCES": str(sources),
                "NEWS_TASK_RETRIES": "1",
                "NEWS_RETRY_DELAY_SECONDS": "2",
            }
        )
        run_airflow(["db", "migrate"], env, STATE / "db-migrate.log")
        print(
            f"\nrunning: airflow dags test news_daily {logical}  (data interval [{day}, {logical}), "
            f"partition dt={day}); log in {STATE / 'dags-test.log'}"
        )
        run_airflow(["dags", "test", "news_daily", logical.isoformat()], env, STATE / "dags-test.log")
        show(day)
    print("\nservers stopped; demo done.")
    return 0


def show(day: date) -> None:
    s3 = s3io.client()
    names = [s["name"] for s in yaml.safe_load((STATE / "sources.yaml").read_text())["sources"]]
    con = downstream.connect()
    counts = {(source, dt): rows for source, dt, rows in downstream.rows_per_day(con, BUCKET)}
    print(f"\n== articles per source, dt={day}")
    for name in names:
        print(f"  {name:<20} {counts.get((name, day), 'not published')}")
    example = next((n for n in names if counts.get((n, day))), None)
    if example:
        show_article(downstream.day_rows(con, BUCKET, example, day)[0])
    print("\n== S3 keys written")
    for key, size in sorted(s3io.list_objects(s3, BUCKET, "").items()):
        print(f"  s3://{BUCKET}/{key}  ({size} bytes)")
    report = json.loads(s3io.get_bytes(s3, BUCKET, f"reports/dt={day}/report.json"))
    print(f"\n== report: failed sources {report['failed'] or 'none'}; removals by rule {report['removed_by_rule']}")
    print(f"\n== read back with DuckDB: rows per source and dt of the Delta table {downstream.clean_uri(BUCKET)}")
    for (source, dt), rows in counts.items():
        print("  ", (source, dt, rows))
    sample = con.execute(
        f"SELECT source, dt, published_at, title, len(text) AS chars, len(removed) AS removals "
        f"FROM delta_scan('{downstream.clean_uri(BUCKET)}') ORDER BY ALL LIMIT 5"
    ).fetchall()
    for row in sample:
        print("  ", row)


def show_article(row: dict) -> None:
    print(f"\n== one cleaned article: {row['title']!r}\n   {row['url']}  published {row['published_at']}")
    for paragraph in row["text"].split("\n\n")[:4]:
        print(textwrap.indent(textwrap.fill(paragraph, 100), "   | "), end="\n   |\n")
    print("   | …")
    print(f"\n== removed from it ({len(row['removed'])} spans)")
    for removal in row["removed"]:
        print(f"   [{removal['layer']}/{removal['rule']}] {removal['text'][:150]!r}")


if __name__ == "__main__":
    sys.exit(main())
