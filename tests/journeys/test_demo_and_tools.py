"""The README's other commands on a fresh copy of the checkout with an empty home: `make demo SERVE=1` (the demo,
then its servers and an Airflow UI on the demo's run until Ctrl-C) and the command-line tools' examples."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.readme import block

READY = re.compile(r"ready: (?P<url>http://127\.0\.0\.1:\d+)\s+user admin\s+password (?P<password>\S+)")
EXPORTS = re.compile(r"export (AWS_\S+=\S+(?: \S+=\S+)*)")


def _home_files(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in home.rglob("*"))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_make_demo_serve_keeps_the_demo_up_with_an_airflow_ui_until_ctrl_c(checkout, newcomer_env, home, tmp_path):
    output = tmp_path / "demo-serve.out"
    with open(output, "wb") as out:
        proc = subprocess.Popen(
            ["bash", "-c", block("demo-serve").text], cwd=checkout, env=newcomer_env, stdout=out,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        while not (ready := READY.search(output.read_text(errors="replace"))):
            assert proc.poll() is None, f"make demo SERVE=1 exited {proc.returncode}:\n{output.read_text()}"
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(1)
        printed = output.read_text()
        assert "== read back with DuckDB" in printed and "servers stopped" not in printed
        # the UI/API on the demo's state: the demo's run is there, behind a login
        body = json.dumps({"username": "admin", "password": ready["password"]}).encode()
        login = urllib.request.Request(f"{ready['url']}/auth/token", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(login, timeout=20) as resp:
            token = json.loads(resp.read())["access_token"]
        runs = urllib.request.Request(
            f"{ready['url']}/api/v2/dags/news_daily/dagRuns", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(runs, timeout=20) as resp:
            listed = json.loads(resp.read())["dag_runs"]
        assert [r["state"] for r in listed] == ["success"], listed
        # the S3 endpoint still answers, with the printed settings
        exports = dict(item.split("=", 1) for item in EXPORTS.search(printed)[1].split())
        assert exports["NEWS_BUCKET"] == "news-demo"
        import boto3

        s3 = boto3.client(
            "s3", endpoint_url=exports["AWS_ENDPOINT_URL"], aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"], region_name=exports["AWS_DEFAULT_REGION"],
        )  # fmt: skip
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="news-demo", Prefix="clean/")["Contents"]]
        assert any(k.endswith(".parquet") for k in keys), keys
        family = {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
        proc.wait(120)
    left = [pid for pid in family if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert left == [], "processes left after Ctrl-C"
    assert "stopped." in output.read_text()
    assert _home_files(home) == [], "written to HOME"


def test_the_cleaners_example_runs_as_written(checkout, newcomer_env, home):
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block("cleaners-extract").text], cwd=checkout, env=newcomer_env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [record] = [json.loads(line) for line in done.stdout.splitlines()]
    assert record["error"] is None and "Alder River" in record["text"] and record["removed"]
    assert _home_files(home) == [], "written to HOME"
