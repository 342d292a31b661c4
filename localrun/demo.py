"""`make demo`: the whole daily run, offline, on embedded defaults.

Starts a local S3 endpoint and the demo news site on loopback, runs the real DAG with
`airflow dags test news_daily <day>` (yesterday, UTC, unless --day says otherwise), shows what was written
and reads it back as a downstream analyst would, then stops what it started. With --serve it keeps them
running, with the Airflow UI and REST API on the demo's run, until Ctrl-C.

Its state is its own (`.state/demo/`, Airflow's in `.state/demo/airflow/`), and so are its S3 endpoint and
ports: it can run while `make airflow` runs, without either seeing the other's runs or reports.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

from ingest import downstream
from ingest import report as reporting
from ingest import s3 as s3io
from ingest.report import text_table
from localrun.local_s3 import local_s3_env
from newsconfig import env as config

BUCKET = "news-demo"
STATE = config.PROJECT_ROOT / ".state" / "demo"
AIRFLOW_STATE = STATE / "airflow"  # not .airflow/: `make airflow` may be running on that one


def airflow_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment for the demo's Airflow commands: its own state folder, never the home directory."""
    env = {**os.environ, **extra}
    env["AIRFLOW_HOME"] = str(AIRFLOW_STATE)
    env["AIRFLOW_CONFIG"] = str(config.PROJECT_ROOT / "airflow.cfg")
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(config.PROJECT_ROOT / "dags")
    AIRFLOW_STATE.mkdir(parents=True, exist_ok=True)
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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m localrun.demo", description=__doc__.split("\n\n")[1])
    parser.add_argument(
        "--day", type=date.fromisoformat, default=datetime.now(UTC).date() - timedelta(days=1),
        help="the UTC day to process, YYYY-MM-DD, before today (default: yesterday); the demo site publishes on it",
    )  # fmt: skip
    parser.add_argument(
        "--serve", action="store_true",
        help="keep the S3 endpoint, the demo site and an Airflow UI/REST API on the demo's state running until "
        "Ctrl-C (make demo SERVE=1)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.day >= datetime.now(UTC).date():
        parser.error(f"--day {args.day} has not ended yet: give a day before today (UTC)")
    return args


def main(argv: list[str] | None = None) -> int:
    from demo_site import DemoSite

    args = parse_args(argv)
    day = args.day
    STATE.mkdir(parents=True, exist_ok=True)
    sources = STATE / "sources.yaml"
    with local_s3_env(BUCKET) as s3server, DemoSite(day) as demo:
        write_demo_sources(demo, sources)
        print(f"local S3 endpoint  {s3server.endpoint}  bucket {BUCKET}")
        for name, url in demo.base_urls.items():
            print(f"demo site          {url}  ({name})")
        demo_env = {
            **s3server.env,
            "NEWS_BUCKET": BUCKET,
            "NEWS_SOURCES": str(sources),
            "NEWS_TASK_RETRIES": "1",
            "NEWS_RETRY_DELAY_SECONDS": "2",
        }
        env = airflow_env(demo_env)
        run_airflow(["db", "migrate"], env, STATE / "db-migrate.log")
        print(
            f"\nrunning: airflow dags test news_daily {day}  (processes the UTC day {day}: partition dt={day}); "
            f"log in {STATE / 'dags-test.log'}"
        )
        run_airflow(["dags", "test", "news_daily", day.isoformat()], env, STATE / "dags-test.log")
        show(day)
        if args.serve:
            return serve(demo_env, s3server.endpoint)
    print("\nservers stopped; demo done.")
    return 0


def serve(demo_env: dict[str, str], endpoint: str) -> int:
    """Keep everything up, with Airflow's UI and REST API on the demo's state, until Ctrl-C."""
    from localrun.local_airflow import LocalAirflow, free_port

    exports = " ".join(f"{k}={v}" for k, v in sorted(demo_env.items()) if k.startswith("AWS_") or k == "NEWS_BUCKET")
    print(
        f"\n== still running: S3 at {endpoint} (bucket {BUCKET}), the demo site, and Airflow (starting, about a "
        "minute).\n   Query the output from another shell, with this environment, as the README's "
        f'"Reading it" shows:\n     export {exports}\n'
        "   The demo's run is in the UI; runs triggered there crawl the demo site (no scheduled runs).",
        flush=True,
    )
    airflow = LocalAirflow(state=AIRFLOW_STATE, port=free_port(), env=demo_env, schedule=False)
    return airflow.run()


def show(day: date) -> None:

    s3 = s3io.client()
    names = [s["name"] for s in yaml.safe_load((STATE / "sources.yaml").read_text())["sources"]]
    con = downstream.connect()
    counts = {(source, dt): rows for source, dt, rows in downstream.rows_per_day(con, BUCKET)}
    print(f"\n== articles per source, dt={day}")
    rows = [[name, counts.get((name, day), "not published")] for name in names]
    print(text_table(["source", "articles"], rows, {1}))
    example = next((n for n in names if counts.get((n, day))), None)
    if example:
        show_article(downstream.day_rows(con, BUCKET, example, day)[0])
    print("\n== S3 keys written")
    objects = sorted(s3io.list_objects(s3, BUCKET, "").items())
    print(text_table(["key", "bytes"], [[f"s3://{BUCKET}/{key}", f"{size:,}"] for key, size in objects], {1}))
    report = json.loads(s3io.get_bytes(s3, BUCKET, f"reports/dt={day}/report.json"))
    print(f"\n== the run's report (s3://{BUCKET}/reports/dt={day}/report.html)")
    print(textwrap.indent(reporting.to_text(report), "   "))
    table = downstream.clean_uri(BUCKET)
    print(f"\n== read back with DuckDB from the Delta table {table}")
    print(text_table(["source", "dt", "articles"], [[s, d, n] for (s, d), n in counts.items()], {2}))
    sample = con.execute(
        f"SELECT source, dt, strftime(published_at, '%H:%M') AS published, len(text) AS chars, "
        f"len(removed) AS removed, title FROM delta_scan('{table}') ORDER BY ALL LIMIT 6"
    ).fetchall()
    headers = ["source", "dt", "published (UTC)", "text chars", "removed spans", "title"]
    print()
    print(text_table(headers, [[*r[:5], textwrap.shorten(r[5] or "", 60)] for r in sample], {3, 4}))


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
