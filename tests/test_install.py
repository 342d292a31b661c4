"""Install into the Airflow a user already runs: the wheel in a fresh virtual environment that holds
apache-airflow at the pinned version and its providers (nothing of this checkout), on Python 3.11 and 3.12 of
the machine by default, 3.13 on request (pyenv; a missing one is skipped, naming it).

pip's dry-run report must not upgrade, downgrade or reinstall any package Airflow brought; then the README's
install commands, the DAG loader file in a DAG folder of the host's own (no airflow.cfg of ours), no import
error, and `airflow dags test` of one day against the demo site and the S3 server on loopback. Package caches
(UV_CACHE_DIR, PIP_CACHE_DIR, set by the Makefile) make a repeat run take seconds per install.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.readme import block

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
HOSTS = ROOT / ".state" / "install-test"  # ignored; recreated by every run
PYENV = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
HOST_PACKAGES = ["apache-airflow==3.3.2", "apache-airflow-providers-standard", "apache-airflow-providers-celery"]
DAG_IDS = {"news_daily", "news_maintenance"}


def _python(version: str) -> Path | None:
    """An interpreter of this minor version: pyenv's newest, else one on PATH."""
    found = sorted(
        PYENV.glob(f"{version}.*/bin/python{version}"), key=lambda p: [int(x) for x in re.findall(r"\d+", p.parts[-3])]
    )
    if found:
        return found[-1]
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(directory) / f"python{version}"
        if candidate.is_file():
            return candidate
    return None


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 600) -> str:
    started = time.monotonic()
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{' '.join(map(str, args))} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    print(f"{time.monotonic() - started:6.1f} s  {' '.join(map(str, args))[:100]}")  # shown with pytest -s
    return done.stdout


@dataclass
class Host:
    """A host's Airflow: its venv, its environment, its DAG folder, and a working directory outside the checkout."""

    venv: Path
    env: dict[str, str]
    dags: Path
    cwd: Path

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 600) -> str:
        return _run(list(args), self.env, cwd or self.cwd, timeout)

    def bash(self, script: str, cwd: Path | None = None) -> str:
        return self.run("bash", "-euo", "pipefail", "-c", script, cwd=cwd)

    def freeze(self) -> dict[str, str]:
        out = self.run(str(self.venv / "bin" / "python"), "-m", "pip", "list", "--format", "json")
        return {_norm(p["name"]): p["version"] for p in json.loads(out)}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture
def host(request, tmp_path, s3_server, bucket, demo_sources):
    """A fresh venv with Airflow (from requirements.lock's constraints) and an environment of the host's own:
    taken after the S3 server, the bucket and the demo sources are exported, so that the DAG reads only those."""
    version = request.param
    python = _python(version)
    if python is None:
        pytest.skip(f"Python {version} is not on this machine (pyenv or PATH): not tested on it")
    venv = HOSTS / f"py{version}"
    base = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW") and k != "PYTHONPATH"}
    uv = str(ROOT / ".venv" / "bin" / "uv")
    _run([uv, "venv", "-q", "--clear", "--seed", "--python", str(python), str(venv)], base, tmp_path)
    lock = str(ROOT / "requirements.lock")
    _run(
        [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), *HOST_PACKAGES, "-c", lock],
        base,
        tmp_path,
    )
    home, dags = tmp_path / "airflow-home", tmp_path / "dags"
    dags.mkdir()
    env = {
        **base,
        "PATH": f"{venv / 'bin'}{os.pathsep}{base['PATH']}",
        "VIRTUAL_ENV": str(venv),
        "AIRFLOW_HOME": str(home),  # Airflow writes its default airflow.cfg there: none of the checkout's
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    assert env["NEWS_SOURCES"] == str(tmp_path / "sources.yaml") and env["AWS_ENDPOINT_URL"].startswith("http://127.")
    return Host(venv, env, dags, tmp_path)


# 3.11 and 3.12 in `make test` (about 2 min each); NEWS_TEST_PYTHONS="3.11 3.12 3.13" adds 3.13 (passes too)
PYTHONS = os.environ.get("NEWS_TEST_PYTHONS", "3.11 3.12").split()


@pytest.mark.parametrize("host", PYTHONS, indirect=True)
def test_wheel_installs_into_an_airflow_and_runs_a_day(host, wheel, bucket, demo_sources, demo_day):
    before = host.freeze()
    assert _norm("apache-airflow") in before and _norm("news-ingest") not in before
    report = host.cwd / "pip-report.json"
    host.run(
        str(host.venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "--dry-run",
        "--report",
        str(report),
        str(wheel),
    )
    planned = {
        _norm(i["metadata"]["name"]): i["metadata"]["version"] for i in json.loads(report.read_text())["install"]
    }
    assert _norm("news-ingest") in planned
    touched = {n: (before[n], v) for n, v in planned.items() if n in before}
    assert touched == {}, f"pip would change packages Airflow brought (name: (now, planned)): {touched}"

    # the README's commands, as a user runs them in the host's environment (`pip` is the host venv's)
    host.bash(block("install-wheel").text, cwd=ROOT)
    after = host.freeze()
    assert {n: v for n, v in before.items() if after.get(n) != v} == {}, "the install changed Airflow's packages"
    assert not {"moto", "pytest", "ruff", "demo-site"} & set(after), "dev or demo packages in the runtime install"

    (host.dags / "news_ingest.py").write_text(block("dag-loader").text)
    host.run("airflow", "db", "migrate")
    errors = host.bash(block("check-dags").text, cwd=host.dags)
    assert json.loads(errors.strip().splitlines()[-1]) == [], errors
    listed = json.loads(host.run("airflow", "dags", "list", "--local", "-o", "json").strip().splitlines()[-1])
    assert DAG_IDS <= {d["dag_id"] for d in listed}, listed

    out = host.run("airflow", "dags", "test", "news_daily", demo_day.isoformat(), timeout=900)
    from ingest import table

    published = {c["source"]: int(c["rows"]) for c in table.history(bucket) if c.get("dt") == demo_day.isoformat()}
    names = {p.name for p in demo_sources.site.publishers}
    assert set(published) == names and all(published.values()), (published, out[-3000:])
