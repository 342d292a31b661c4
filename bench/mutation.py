"""Mutation testing of the critical modules with mutmut, one module at a time with only its relevant fast tests.

    .venv/bin/python bench/mutation.py [MODULE ...]      (make mutation: every module below)

Each module is run in a copy of the checkout in a temporary folder (mutmut writes a `mutants/` tree next to
the code), with a [tool.mutmut] section naming that module and its tests; the result per module (mutants
generated, killed, survived, timed out, other) is printed as a table row, and the survivors are listed by name
(`mutmut show NAME` in the copy shows the change; the copy is kept with --keep). Not part of `make test`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPY = ["spiders", "ingest", "cleaners", "newsconfig", "dags", "demo_site", "tests", "sources.yaml", "airflow.cfg",
        "airflow_local_settings.py", "pyproject.toml", "README.md"]  # fmt: skip
# module -> the fast tests that guard it ("before": the tests that existed when issue #18 was filed)
MODULES = {
    "spiders/urls.py": {
        "before": ["tests/test_spider_guard.py::test_internal_service_is_never_contacted"],
        "after": ["tests/test_address_contract.py"],
    },
    "spiders/pipelines.py": {
        "only": "WindowFilterPipeline",  # the window filter; the capture pipeline is another module's concern
        "before": ["tests/test_spider_capture.py"],
        "after": ["tests/test_spider_capture.py", "tests/test_frozen_contracts.py", "-k", "window or capture or hint"],
    },
    "ingest/report.py": {
        "only": "x_summarise|x_failed_fetches",  # the status per source; the HTML and text pages are layout
        "before": ["tests/test_report.py"],
        "after": ["tests/test_report.py",
                  "tests/test_frozen_contracts.py", "-k", "report or summary or partial"],
    },
    "cleaners/appeals.py": {
        # the in-process appeal tests; the plugin clears the module's caches while mutmut maps tests to functions
        "before": ["-p", "tests.mutation_caches", "tests/test_appeal_rules_en.py", "tests/test_lexicons.py",
                   "tests/test_appeal_corpus.py"],
        "after": ["-p", "tests.mutation_caches", "tests/test_appeal_rules_en.py", "tests/test_lexicons.py",
                  "tests/test_appeal_corpus.py", "tests/test_appeal_mutants.py"],
    },
}


def run(module: str, tests: list[str], keep: bool, only: str = "", children: int = 1,
        names: list[str] | None = None) -> tuple[Counter, list[str], float]:
    """Counts by status of the module's mutants (those whose name matches `only`), the survivors, seconds."""
    work = Path(tempfile.mkdtemp(prefix="mutation-"))
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=shutil.ignore_patterns("__pycache__", ".airflow*"))
        elif src.exists():
            shutil.copy2(src, work / name)
    config = (
        "\n[tool.mutmut]\n"
        'source_paths = ["spiders", "ingest", "cleaners", "newsconfig", "dags", "demo_site"]\n'
        f"only_mutate = [{module!r}]\n"
        f"pytest_add_cli_args_test_selection = {tests!r}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]\n'
        # a busy machine must not turn a slow-but-passing test run into a "timeout"
        "timeout_constant = 30\n"
        # forked children crashed inside delta-rs (its runtime does not survive fork), counting mutants "killed"
        'process_isolation = "forkserver"\n'
        f"also_copy = {[n for n in COPY if n not in ('tests', 'pyproject.toml')]!r}\n"
    ).replace("'", '"')
    with open(work / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write(config)
    env = {**os.environ, "AIRFLOW_HOME": str(work / ".airflow"), "AIRFLOW_CONFIG": str(work / "airflow.cfg")}
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    started = time.monotonic()
    subprocess.run([mutmut, "run", "--max-children", str(children), *(names or [])],
                   cwd=work, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    out = subprocess.run([mutmut, "results", "--all", "true"], cwd=work, env=env, capture_output=True, text=True)
    counts, survivors = Counter(), []
    for line in out.stdout.splitlines():
        match = re.match(r"\s*(\S+): (.+)$", line)
        if match and re.search(only, match[1]):
            counts[match[2].strip()] += 1
            if match[2].strip() == "survived":
                survivors.append(match[1])
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept {work}", file=sys.stderr)
    return counts, survivors, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=list(MODULES))
    parser.add_argument("--tests", choices=["before", "after"], default="after")
    parser.add_argument("--keep", action="store_true", help="keep each module's copy (to `mutmut show` a mutant)")
    parser.add_argument("--max-children", type=int, default=1, help="mutants tested at once (1 on a shared machine)")
    parser.add_argument("--mutants", nargs="*", default=None, help="only these mutant names (a rerun of survivors)")
    args = parser.parse_args()
    print("| module | tests | mutants | killed | survived | other | killed % | minutes |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for module in args.modules:
        spec = MODULES[module]
        counts, survivors, elapsed = run(module, spec[args.tests], args.keep, spec.get("only", ""),
                                         args.max_children, args.mutants)
        total = sum(counts.values())
        other = total - counts["killed"] - counts["survived"]
        share = 100 * counts["killed"] / total if total else 0.0
        print(f"| {module} | {args.tests} | {total} | {counts['killed']} | {counts['survived']} | {other} "
              f"| {share:.0f} % | {elapsed / 60:.1f} |", flush=True)  # fmt: skip
        for name in survivors:
            print(f"  survived: {name}", file=sys.stderr)
        if other:
            print(f"  other: {dict(counts)}", file=sys.stderr)


if __name__ == "__main__":
    main()
