"""A data engineer's journey through the README, on a fresh copy of the checkout with an empty home directory.

One local Airflow, started with the README's own command (`make airflow`), serves every check in this module,
in order: it comes up on loopback with generated secrets and a login; the README's REST trigger of a 2023 day,
its backfill of the two days after and, while they run, `make demo` in the same checkout; the README's
re-clean of the backfilled days (no request reaches the site); a trigger without a date (yesterday); a run
for today, refused before any task; then Ctrl-C, after which no process is left and the home directory is
still empty. The "user's" S3 is a moto server and their "sites" are demo sites, both on loopback.

Every command a user types is a named block of README.md, run by bash in the copy as it is written there.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from ingest import downstream, table
from ingest import s3 as s3io
from tests.readme import block

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
ROOT = Path(__file__).resolve().parents[2]
BUCKET = "my-news-bucket"  # the README's example bucket: its reader blocks run as written
DAG = "news_daily"
PUBLISHERS = ("millbrook", "eastmere")  # two of the demo site's three: enough, and half the work of three
ARCHIVE_DAY = date(2023, 4, 28)  # the archive site's newest day; its articles go back to 2023-04-25
REST_DAY, BACKFILL_DAYS = date(2023, 4, 26), [date(2023, 4, 27), date(2023, 4, 28)]  # as the README's blocks say
READY = re.compile(r"ready: (?P<url>http://127\.0\.0\.1:\d+)\s+user (?P<user>\S+)\s+password (?P<password>\S+)")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_block(name: str, checkout: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the README block `name` with bash in the checkout, as a user pastes it; fail with its output."""
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block(name).text], cwd=checkout, env=env, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, f"README block {name!r} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


@dataclass
class Rest:
    """The REST API as `admin`, logged in with the password `make airflow` printed."""

    url: str
    password: str
    token: str = ""

    def login(self, password: str | None = None) -> str:
        body = json.dumps({"username": "admin", "password": password or self.password}).encode()
        request = urllib.request.Request(f"{self.url}/auth/token", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=20) as resp:
            return json.loads(resp.read())["access_token"]

    def call(self, method: str, path: str, body: Any = None, accept: str = "application/json") -> Any:
        self.token = self.token or self.login()
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json", "Accept": accept}
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw or b"null") if accept == "application/json" else raw.decode()

    def runs(self) -> dict[str, dict]:
        return {r["dag_run_id"]: r for r in self.call("GET", f"/api/v2/dags/{DAG}/dagRuns?limit=100")["dag_runs"]}

    def wait(self, run_ids: set[str], timeout: float) -> dict[str, dict]:
        deadline, runs = time.monotonic() + timeout, {}
        while time.monotonic() < deadline:
            runs = {k: v for k, v in self.runs().items() if k in run_ids}
            if len(runs) == len(run_ids) and all(r["state"] in ("success", "failed") for r in runs.values()):
                return runs
            time.sleep(5)
        raise AssertionError(f"runs not finished after {timeout:.0f} s: {[(k, v['state']) for k, v in runs.items()]}")

    def tasks(self, run_id: str) -> list[dict]:
        return self.call("GET", f"/api/v2/dags/{DAG}/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"]

    def log(self, run_id: str, task_id: str, map_index: int = -1, try_number: int = 1) -> str:
        """A task attempt's log as the UI shows it: each event, and an exception's type and message."""
        path = f"/api/v2/dags/{DAG}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}?map_index={map_index}"
        lines = []
        for entry in self.call("GET", path)["content"]:
            if not isinstance(entry, dict):
                lines.append(str(entry))
                continue
            lines.append(str(entry.get("event", "")))
            lines += [f"{e.get('exc_type')}: {e.get('exc_value')}" for e in entry.get("error_detail") or []]
        return "\n".join(lines)


@dataclass
class Journey:
    checkout: Path
    env: dict[str, str]
    home: Path
    proc: subprocess.Popen
    output: Path
    rest: Rest
    sites: dict[str, Any]
    sources: Path
    runs: dict[str, str] = field(default_factory=dict)  # what -> run id
    family: set[int] = field(default_factory=set)

    def use_site(self, name: str) -> None:
        """Point the sources file at one of the demo sites (the archive of 2023 or the current one)."""
        site = self.sites[name]
        entries = [e for e in site.sources() if e["name"] in PUBLISHERS]
        for entry in entries:
            entry["politeness"] = {"download_delay": 0, "autothrottle": False}
        self.sources.write_text(yaml.safe_dump({"sources": entries}, sort_keys=False))


def _expected(site, day: date) -> dict[str, dict[str, Any]]:
    """Per publisher, the site's articles published on `day` (UTC), by URL."""
    out: dict[str, dict[str, Any]] = {name: {} for name in PUBLISHERS}
    for article in site.site.articles:
        if article.publisher in PUBLISHERS and article.published.astimezone(UTC).date() == day:
            out[article.publisher][site.url(article)] = article
    return out


def _check_partitions(bucket: str, site, day: date) -> int:
    """Every publisher's partition for `day` holds exactly the site's articles of that day, without appeals;
    read back as an analyst does (ingest.downstream)."""
    con = downstream.connect()
    rows = con.execute(
        f"SELECT source, url, text, published_at FROM delta_scan('{downstream.clean_uri(bucket)}') "
        f"WHERE dt = DATE '{day}'"
    ).fetchall()
    expected = _expected(site, day)
    assert sum(len(v) for v in expected.values()) >= 2, f"the demo site has no article on {day}"
    for source, articles in expected.items():
        mine = [r for r in rows if r[0] == source]
        assert sorted(r[1] for r in mine) == sorted(articles), f"{source} dt={day}: wrong articles"
        for _, url, text, published in mine:
            assert published.astimezone(UTC).date() == day
            assert all(p in text for p in articles[url].paragraphs), f"article text lost in {url}"
            assert not [a for a in articles[url].appeals if a in text], f"appeal left in {url}"
    return len(rows)


def _read_as_documented(checkout: Path, env: dict[str, str], counts: dict[date, int]) -> None:
    """Every reader block of the README ("Reading it") runs as written on the table the runs wrote: the bucket is
    the README's own `my-news-bucket`. The unfiltered one shows each day's articles; the others filter on the
    README's example source and day, so here they must run and find none."""
    reader_env = {**env, "AWS_ALLOW_HTTP": "true"}
    for name in ("read-duckdb-python", "read-pandas", "read-pyarrow", "read-polars"):
        done = subprocess.run(
            [sys.executable, "-c", block(name).text], cwd=checkout, env=reader_env, capture_output=True, text=True,
            timeout=180,
        )  # fmt: skip
        assert done.returncode == 0, f"README block {name!r} failed:\n{done.stderr[-3000:]}"
        if name == "read-duckdb-python":
            for day, n in counts.items():
                shown = [line for line in done.stdout.splitlines() if str(day) in line]
                assert sum(int(re.findall(r"\d+", line.rsplit(str(day), 1)[1])[0]) for line in shown) == n, done.stdout
    rows = downstream.connect().execute(block("read-duckdb-sql").text).fetchall()  # the README's days: from 2026-11
    assert all(dt >= date(2026, 11, 1) for _, dt, _ in rows), rows


@pytest.fixture(scope="module")
def journey(checkout, newcomer_env, home, tmp_path_factory):
    from demo_site import DemoSite
    from localrun.local_s3 import local_s3_env

    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    state = tmp_path_factory.mktemp("journey")
    with (
        local_s3_env(BUCKET) as s3server,
        DemoSite(ARCHIVE_DAY) as archive,
        DemoSite(yesterday) as current,
    ):
        sources = state / "sources.yaml"
        # what this user exports before `make airflow` (README, "Configuration")
        env = {
            **newcomer_env,
            **s3server.env,
            "NEWS_BUCKET": BUCKET,
            "NEWS_SOURCES": str(sources),
            "NEWS_TASK_RETRIES": "1",
            "NEWS_RETRY_DELAY_SECONDS": "2",
            "AIRFLOW__API__PORT": str(free_port()),
            # only the runs this journey makes (the scheduler would add yesterday's at once)
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        }
        output = state / "make-airflow.out"
        with open(output, "wb") as out:
            proc = subprocess.Popen(
                ["bash", "-c", block("airflow-local").text], cwd=checkout, env=env, stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,  # its own terminal group
            )  # fmt: skip
        journey = Journey(checkout, env, home, proc, output, Rest("", ""), {"archive": archive, "current": current},
                          sources)  # fmt: skip
        journey.use_site("archive")
        try:
            deadline = time.monotonic() + 300
            while not (match := READY.search(output.read_text(errors="replace"))):
                assert proc.poll() is None, f"make airflow exited {proc.returncode}:\n{output.read_text()}"
                assert time.monotonic() < deadline, f"make airflow not ready after 300 s:\n{output.read_text()}"
                time.sleep(1)
            journey.rest = Rest(match["url"], match["password"])
            yield journey
        finally:
            if proc.poll() is None:  # a failed test: stop it as Ctrl-C would, then for good
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(90)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            for pid in journey.family:
                try:
                    psutil.Process(pid).kill()
                except psutil.Error:
                    pass


def test_make_airflow_runs_every_component_on_loopback_with_generated_secrets_and_a_login(journey: Journey):
    state = journey.checkout / ".airflow"
    printed = journey.output.read_text()
    assert journey.rest.password == (state / "admin-password").read_text().strip()
    for name in ("jwt_secret", "api_secret_key", "admin-password", "simple_auth_manager_passwords.json.generated"):
        assert (state / name).stat().st_mode & 0o077 == 0, f"{name} is readable by others"
    assert len((state / "jwt_secret").read_text().strip()) >= 32
    ignored = subprocess.run(["git", "check-ignore", "-q", ".airflow/jwt_secret"], cwd=ROOT, timeout=30)
    assert ignored.returncode == 0, "the state folder must be ignored by git"
    assert f"export AIRFLOW_HOME={state}" in printed

    family = [psutil.Process(journey.proc.pid), *psutil.Process(journey.proc.pid).children(recursive=True)]
    journey.family = {p.pid for p in family}
    commands = [" ".join(p.cmdline()) for p in family]
    for component in ("api.server", "scheduler", "dag-processor", "triggerer"):  # the API server retitles itself
        assert any(re.search(rf"airflow {component}", c) for c in commands), (component, commands)
    # every process but make is the virtual environment's python (PATH has no .venv/bin)
    python = os.path.realpath(ROOT / ".venv" / "bin" / "python")
    pythons = {os.path.realpath(p.exe()) for p in family if p.name() != "make"}
    assert pythons == {python}, pythons
    listening = {(p.pid, c.laddr.ip, c.laddr.port) for p in family for c in p.net_connections("inet")
                 if c.status == psutil.CONN_LISTEN}  # fmt: skip
    assert listening and {ip for _, ip, _ in listening} == {"127.0.0.1"}, listening

    rest = journey.rest
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"{rest.url}/api/v2/dags", timeout=20)
    assert anonymous.value.code == 401, "anonymous REST calls must be refused"
    with pytest.raises(urllib.error.HTTPError) as wrong:
        rest.login("not-the-password")
    assert wrong.value.code == 401
    assert rest.call("GET", f"/api/v2/dags/{DAG}")["is_paused"] is False


def test_2023_days_by_rest_and_backfill_while_make_demo_runs_then_reclean(journey: Journey):
    rest, checkout, env = journey.rest, journey.checkout, journey.env
    archive = journey.sites["archive"]
    demo = subprocess.Popen(
        ["bash", "-c", block("demo").text], cwd=checkout, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        triggered = json.loads(run_block("rest-trigger", checkout, env).stdout)
        assert triggered["logical_date"].startswith(REST_DAY.isoformat()), triggered
        backfill_made = datetime.now(UTC).isoformat()
        run_block("backfill", checkout, env, timeout=180)
        demo_out, _ = demo.communicate(timeout=900)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, demo_out
    # labelled rows a person reads, from the demo's own S3 endpoint and state
    assert re.search(r"source\s+dt\s+articles\n\s+-+", demo_out), demo_out
    assert "servers stopped; demo done." in demo_out

    backfill = [f"backfill__{d + timedelta(days=1)}T00:00:00+00:00" for d in BACKFILL_DAYS]
    runs = rest.wait({triggered["dag_run_id"], *backfill}, timeout=900)
    assert {k: r["state"] for k, r in runs.items()} == dict.fromkeys(runs, "success"), _failures(rest, runs)
    assert {r["logical_date"][:10] for r in runs.values()} == {d.isoformat() for d in [REST_DAY, *BACKFILL_DAYS]}
    spans = sorted((runs[b]["start_date"], runs[b]["end_date"]) for b in backfill)
    assert spans[0][1] <= spans[1][0], "--max-active-runs 1: the backfill's days ran one after the other"

    bucket = env["NEWS_BUCKET"]
    counts = {day: _check_partitions(bucket, archive, day) for day in [REST_DAY, *BACKFILL_DAYS]}
    _read_as_documented(checkout, env, counts)

    # make demo ran beside it with its own state: neither saw the other's runs or reports
    assert set(rest.runs()) == {triggered["dag_run_id"], *backfill}
    with sqlite3.connect(checkout / ".state" / "demo" / "airflow" / "airflow.db") as db:
        demo_runs = db.execute("SELECT logical_date, state FROM dag_run").fetchall()
    assert len(demo_runs) == 1 and demo_runs[0][1] == "success", demo_runs
    s3 = s3io.client()
    for day, run_id in [(REST_DAY, triggered["dag_run_id"]), (BACKFILL_DAYS[0], backfill[0])]:
        report = json.loads(s3io.get_bytes(s3, bucket, f"reports/dt={day}/report.json"))
        assert report["run_id"] == run_id and report["failed"] == []
    assert sorted({k.split("/")[1] for k in s3io.list_objects(s3, bucket, "reports/")}) == [
        f"dt={d}" for d in sorted([REST_DAY, *BACKFILL_DAYS])
    ]

    # visible in Airflow: mapped tasks named by source, crawl progress in the task log, the report's location
    run_id = triggered["dag_run_id"]
    labels = {(t["task_id"], t["rendered_map_index"]) for t in rest.tasks(run_id) if t["map_index"] >= 0}
    stages = ("crawl", "clean", "validate", "publish")
    assert labels == {(f"per_source.{s}", p) for s in stages for p in PUBLISHERS}, labels
    crawl_log = rest.log(run_id, "per_source.crawl", map_index=0)
    assert "crawl progress: " in crawl_log and "finished: finished" in crawl_log, crawl_log[-3000:]
    report_log = rest.log(run_id, "report")
    assert f"report: s3://{bucket}/reports/dt={REST_DAY}/report.json" in report_log
    link = re.search(r"report in a browser \(link valid 168 h\): (\S+)", report_log)
    assert link, report_log[-3000:]
    with urllib.request.urlopen(link[1], timeout=20) as resp:  # opens without credentials, as in a browser
        page = resp.read().decode()
    assert "<table>" in page and "millbrook" in page and '{"' not in page

    # the README's re-clean of the backfilled days: from the raw partitions, no request to the site. Airflow runs
    # one backfill per DAG at a time: the first must be marked complete (the scheduler does so soon after its runs)
    _wait_backfill_done(rest, backfill_made, timeout=300)
    before = {d: _clean_commits(bucket, d) for d in BACKFILL_DAYS}
    requests = len(archive.request_log)
    started = datetime.now(UTC).isoformat()
    run_block("reclean", checkout, env, timeout=180)
    _wait_backfill_done(rest, started, timeout=600)
    assert len(archive.request_log) == requests, "re-cleaning fetched from the site"
    for day in BACKFILL_DAYS:
        after = _clean_commits(bucket, day)
        assert set(after) == set(PUBLISHERS) and all(after[p] > before[day][p] for p in PUBLISHERS), (
            f"dt={day} was not re-cleaned: versions {before[day]} -> {after}"
        )
        _check_partitions(bucket, archive, day)
    listed = run_block("list-runs", checkout, env).stdout
    assert all(b in listed for b in backfill), listed


def test_a_trigger_without_a_date_processes_yesterday(journey: Journey):
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    journey.use_site("current")
    known = set(journey.rest.runs())
    run_block("cli-trigger", journey.checkout, journey.env, timeout=180)
    new = set(journey.rest.runs()) - known
    assert len(new) == 1, new
    runs = journey.rest.wait(new, timeout=600)
    run = runs[next(iter(new))]
    assert run["state"] == "success" and run["logical_date"] is None, _failures(journey.rest, runs)
    assert _check_partitions(journey.env["NEWS_BUCKET"], journey.sites["current"], yesterday) >= 2


def test_a_run_for_today_is_refused_before_any_task_with_what_to_do(journey: Journey):
    today = datetime.now(UTC).date()
    rest = journey.rest
    run = rest.call("POST", f"/api/v2/dags/{DAG}/dagRuns", {"logical_date": f"{today}T00:00:00Z"})
    done = rest.wait({run["dag_run_id"]}, timeout=300)[run["dag_run_id"]]
    assert done["state"] == "failed"
    tasks = {(t["task_id"], t["map_index"]): t for t in rest.tasks(run["dag_run_id"])}
    assert tasks[("list_sources", -1)]["state"] == "failed" and tasks[("list_sources", -1)]["try_number"] == 1
    assert tasks[("report", -1)]["state"] == "failed"
    assert not [
        k for k, t in tasks.items() if k[0].startswith("per_source") and t["state"] not in (None, "upstream_failed")
    ]
    log = rest.log(run["dag_run_id"], "list_sources")
    assert f"dt={today}" in log and "has not ended yet" in log and "or with none for yesterday" in log, log[-2000:]
    # a param of the wrong type is refused when the run is made, naming it
    with pytest.raises(urllib.error.HTTPError) as bad:
        rest.call("POST", f"/api/v2/dags/{DAG}/dagRuns", {"logical_date": None, "conf": {"sources": "millbrook"}})
    assert bad.value.code == 400 and "sources" in bad.value.read().decode()
    # the same day twice is refused by Airflow itself, not run twice
    with pytest.raises(urllib.error.HTTPError) as again:
        rest.call("POST", f"/api/v2/dags/{DAG}/dagRuns", {"logical_date": f"{REST_DAY}T00:00:00Z"})
    assert again.value.code == 409


def test_ctrl_c_stops_every_component_and_nothing_was_written_to_home(journey: Journey):
    family = journey.family | {p.pid for p in psutil.Process(journey.proc.pid).children(recursive=True)}
    os.killpg(journey.proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C: the whole foreground group
    journey.proc.wait(120)
    assert "stopped." in journey.output.read_text()
    left = []
    for pid in family:
        try:
            proc = psutil.Process(pid)
            if proc.status() != psutil.STATUS_ZOMBIE:
                left.append(" ".join(proc.cmdline()))
        except psutil.Error:
            continue
    assert left == [], f"still running after Ctrl-C: {left}"
    assert sorted(str(p.relative_to(journey.home)) for p in journey.home.rglob("*")) == [], "written to HOME"


# -- helpers -------------------------------------------------------------------------------------------------


def _failures(rest: Rest, runs: dict[str, dict]) -> str:
    lines = []
    for run_id, run in runs.items():
        if run["state"] != "success":
            bad = [(t["task_id"], t["map_index"], t["state"]) for t in rest.tasks(run_id) if t["state"] != "success"]
            lines.append(f"{run_id}: {run['state']}: {bad}")
    return "\n".join(lines)


def _clean_commits(bucket: str, day: date) -> dict[str, int]:
    """Per publisher, the table version of the latest commit of its partition for `day`."""
    out: dict[str, int] = {}
    for commit in table.history(bucket):  # newest first
        if commit.get("dt") == day.isoformat() and commit.get("source") in PUBLISHERS:
            out.setdefault(commit["source"], commit["version"])
    return out


def _wait_backfill_done(rest: Rest, since: str, timeout: float) -> None:
    """Until the backfill created after `since` has completed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        backfills = rest.call("GET", f"/api/v2/backfills?dag_id={DAG}")["backfills"]
        mine = [b for b in backfills if b["created_at"] >= since]
        if mine and all(b["completed_at"] for b in mine):
            return
        time.sleep(5)
    raise AssertionError(f"the re-clean backfill did not complete in {timeout:.0f} s")
