"""The installable wheel (`make dist`): the runtime only, its dependencies declared as ranges that hold the pins.

The install into a host's Airflow is tests/test_install.py.
"""

from __future__ import annotations

import ast
import re
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = {"newsconfig": "newsconfig", "cleaners": "cleaners", "spiders": "spiders", "ingest": "ingest"}
RUNTIME_DIRS = {**RUNTIME, "news_ingest_dags": "dags"}  # installed name -> checkout folder
NOT_RUNTIME = ("moto", "demo_site", "localrun", "tests", "bench", "pytest", "werkzeug", "psutil")
DEV_TOOLS = {"pytest", "pytest-timeout", "ruff", "moto"}


def _names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        return z.namelist()


def _metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        return Parser().parsestr(z.read(name).decode())


def test_wheel_holds_the_runtime_and_nothing_else(wheel):
    names = _names(wheel)
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == set(RUNTIME_DIRS), f"unexpected top-level entries: {tops - set(RUNTIME_DIRS)}"
    assert not [n for n in names if re.search(r"(^|/)(tests?|bench|demo_site|localrun|layouts)(/|$)", n)]
    # every runtime module of the checkout is in it (a forgotten subpackage would break the installed DAG)
    expected = {
        f"{installed}/{p.relative_to(ROOT / folder).as_posix()}"
        for installed, folder in RUNTIME_DIRS.items()
        for p in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert expected - set(names) == set(), "runtime modules missing from the wheel"
    assert any(n.startswith("cleaners/lexicons/") and n.endswith(".yaml") for n in names), "lexicons not shipped"


def test_installed_code_never_imports_demo_or_test_code(wheel):
    offenders = []
    with zipfile.ZipFile(wheel) as z:
        for name in (n for n in z.namelist() if n.endswith(".py")):
            for node in ast.walk(ast.parse(z.read(name))):
                modules = []
                if isinstance(node, ast.Import):
                    modules = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    modules = [node.module or ""]
                offenders += [f"{name}: {m}" for m in modules if m.split(".")[0] in NOT_RUNTIME]
    assert offenders == []


def test_metadata_declares_runtime_ranges_and_extras(wheel):
    meta = _metadata(wheel)
    assert meta["Requires-Python"] in (">=3.11,<3.14", "<3.14,>=3.11")
    requires = [Requirement(r) for r in meta.get_all("Requires-Dist")]
    runtime = {r.name: r for r in requires if r.marker is None}
    assert {"apache-airflow", "scrapy", "trafilatura", "boto3", "deltalake", "duckdb"} <= set(runtime)
    assert DEV_TOOLS.isdisjoint(runtime), "a dev tool or moto in the runtime"
    for r in runtime.values():  # ranges, not pins: a host's constraints must be able to choose
        assert not any(s.operator in ("==", "===") for s in r.specifier), r
    extras = set(meta.get_all("Provides-Extra"))
    assert {"demo", "celery", "postgres"} <= extras
    moto = next(r for r in requires if r.name == "moto")
    assert moto.marker.evaluate({"extra": "demo"}) and not moto.marker.evaluate({"extra": ""})


def test_every_pin_lies_in_its_declared_range():
    """requirements.txt's exact pins (what the tests run) satisfy the ranges the package declares."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = [Requirement(r) for r in project["project"]["dependencies"]]
    declared += [Requirement(r) for group in project["project"]["optional-dependencies"].values() for r in group]
    declared += [Requirement(r) for r in project["dependency-groups"]["dev"]]
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            pins[req.name] = next(iter(req.specifier)).version
    unpinned = [r.name for r in declared if r.name not in pins]
    assert unpinned == [], f"declared but not pinned in requirements.txt: {unpinned}"
    outside = [f"{r.name}=={pins[r.name]} not in {r.specifier}" for r in declared if pins[r.name] not in r.specifier]
    assert outside == []


def test_images_install_the_wheel_and_the_readme_loader():
    """The images (not built here: no container runtime) install the wheel, never the checkout's dev pins, and
    put exactly the README's DAG loader (run by tests/test_install.py) into their DAG folder."""
    from tests.readme import block

    assert (ROOT / "deploy" / "dags" / "news_ingest.py").read_text() == block("dag-loader").text
    for name in ("Dockerfile", "Dockerfile.airflow"):
        text = (ROOT / "deploy" / name).read_text()
        installs = " ".join(re.findall(r"pip install[^\n]*(?:\\\n[^\n]*)*", text))
        assert "news_ingest-*.whl" in text and "deploy/dags/news_ingest.py" in text, name
        assert "requirements.txt" not in text and "-e ." not in installs, f"{name} installs the dev pins"
        assert re.search(r"apache-airflow==\$\{AIRFLOW_VERSION\}", installs), f"{name} leaves Airflow unpinned"
