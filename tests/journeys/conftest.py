"""A newcomer's machine for the journey tests: a fresh copy of the checkout, an empty home, a clean environment.

`checkout` copies what a clone of this branch holds (the tracked files and the new ones not ignored, as
they are now, with their times) into a temporary folder, and links the suite's virtual environment as its
`.venv` (a new one would take minutes to install; the Makefile sees it up to date and installs nothing).
`newcomer_env` is a shell's environment on that machine: `HOME` an empty folder, the system PATH (no `.venv/bin`), no
`AIRFLOW_*`, `NEWS_*` or `AWS_*` from the test process. Tests add the configuration a user would export.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
INSTALL_INPUTS = ("requirements.txt", "requirements.lock", "pyproject.toml")  # the Makefile's .installed inputs


def _tracked_and_new_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return [name for name in out.decode().split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="session")
def checkout(tmp_path_factory) -> Path:
    """A fresh copy of the checkout, with the suite's virtual environment as its `.venv`."""
    installed = VENV / ".installed"
    stale = [
        n for n in INSTALL_INPUTS if not installed.exists() or (ROOT / n).stat().st_mtime > installed.stat().st_mtime
    ]
    if stale:
        pytest.fail(f"{VENV} is older than {stale}: run `make install` first (the copy must not reinstall into it)")
    if Path(sys.prefix).resolve() != VENV.resolve():
        pytest.fail(f"run the suite with {VENV}/bin/python (make test), not {sys.prefix}")
    copy = tmp_path_factory.mktemp("fresh") / "news-ingest"
    for name in _tracked_and_new_files():
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)  # keeps the times: make compares them with .venv/.installed
    (copy / ".venv").symlink_to(VENV, target_is_directory=True)
    return copy


@pytest.fixture(scope="session")
def home(tmp_path_factory) -> Path:
    """The newcomer's home directory: empty, and checked to stay so."""
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="session")
def newcomer_env(checkout: Path, home: Path) -> dict[str, str]:
    """A shell's environment in the copy: PATH without the virtual environment, HOME empty, no project settings.

    PYTHONPATH puts the copy's packages first, as the editable install of a real clone would (the linked
    `.venv` has this checkout's editable install).
    """
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",  # a fresh machine's: system python3, make, git, curl; no .venv/bin
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": str(checkout),
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
    }
    return env
