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
    # the raw layer's commit, whole module: publish order, manifest, _SUCCESS, read_manifest, and the sweeps
    # (a sweep that deletes a folder a manifest lists loses data too)
    "ingest/partition.py": {
        "before": ["tests/test_partition.py",
                   "tests/test_commit_faults.py::test_a_lost_answer_to_the_manifest_write_is_one_commit",
                   "tests/test_frozen_contracts.py::test_read_manifest_needs_the_success_marker"],
        "after": ["tests/test_partition_contract.py", "tests/test_partition.py",
                  "tests/test_commit_faults.py::test_a_lost_answer_to_the_manifest_write_is_one_commit",
                  "tests/test_frozen_contracts.py::test_read_manifest_needs_the_success_marker"],
    },
    # write_rows is the module's only function (SCHEMA is module-level: mutmut does not mutate it; it is frozen
    # as a literal in tests/test_schema_contract.py and tests/test_frozen_contracts.py)
    "ingest/parquet.py": {
        "before": ["tests/test_frozen_contracts.py::test_the_parquet_schema_is_the_frozen_one"],
        "after": ["tests/test_schema_contract.py",
                  "tests/test_frozen_contracts.py::test_the_parquet_schema_is_the_frozen_one"],
    },
    "ingest/table.py": {
        # the Delta commit; credentials (storage_options), history and maintenance (compact, vacuum) are not counted
        # (run with --mutants and the counted names to skip them). Left out: three stress tests of 5-7 s each
        # (20 free-running trials, 20 republishes under a DuckDB reader, a publish stopped before each write)
        "only": r"\.x_(publish|_committed|_own_version|mark_schema_version|partition_predicate|commit_metadata)__",
        "before": ["tests/test_table.py", "tests/test_commit_faults.py",
                   "tests/test_frozen_contracts.py::test_the_delta_table_has_the_frozen_columns",
                   "-k", "not free_running and not during_20_republishes and not stopped_before"],
        "after": ["tests/test_table_contract.py", "tests/test_table.py", "tests/test_commit_faults.py",
                  "tests/test_frozen_contracts.py::test_the_delta_table_has_the_frozen_columns",
                  "-k", "not free_running and not during_20_republishes and not stopped_before"],
    },
    "spiders/dedup.py": {
        "before": ["tests/test_spider_dedup.py", "tests/test_spider_memory.py::test_digest_set_answers_as_a_set"],
        "after": ["tests/test_spider_memory.py::test_digest_set_answers_as_a_set", "tests/test_dedup_contract.py"],
    },
    "spiders/warc.py": {
        "only": "x_gzip_member|x__record|x_page_records|x_archive_fields|x__http_block|x__digest|RollingWarcWriter",
        "before": ["tests/test_spider_capture.py", "-k", "not crawl"],
        "after": ["tests/test_spider_capture.py", "tests/test_warc_offsets.py", "-k", "not crawl"],
    },
    "spiders/discovery.py": {
        "only": "x_gunzip_bounded|x_parse_document",  # the bounds: gunzip size, entry count, what a cut document gives
        "before": ["tests/test_spider_memory.py", "-k", "not articles"],
        "after": ["tests/test_spider_memory.py", "tests/test_discovery_bounds.py", "-k", "not articles"],
    },
    "spiders/spiders/news.py": {
        # the limits, the window and the bounds at discovery (the article callbacks and archives are not scoped)
        "only": "(__init__|_configure|_document_request|parse_document|_follow_index|_consider|_url_reason"
                "|_allowed_host)__mutmut",
        "before": ["tests/test_spider.py"],
        "after": ["tests/test_discovery_bounds.py"],
    },
    "ingest/runs.py": {
        "only": "x_run_day",
        "before": ["tests/test_run_days.py",
                   "tests/test_frozen_contracts.py::test_the_crawl_task_asks_for_one_utc_day_and_its_partition",
                   "-k", "not refused_runs and not bad_setting"],
        "after": ["tests/test_run_days.py", "tests/test_run_window.py",
                  "tests/test_frozen_contracts.py::test_the_crawl_task_asks_for_one_utc_day_and_its_partition",
                  "-k", "not refused_runs and not bad_setting"],
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
