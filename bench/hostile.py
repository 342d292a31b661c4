"""Every hostile case of issue #12 (tests/hostile_site.py) crawled on its own, beside the same well-formed
articles, and a crawl of those articles alone as the baseline: what each case counted, its crawl's wall
time and CPU time and the crawl process's peak memory, with the ratio to the baseline measured in the same
run.

    .venv/bin/python bench/hostile.py [--repeat N] [CASE ...]

Times are medians over N rounds (default 1), the cases alternating within a round; the load average is
printed with the table. A case's extra wall time is its own waiting (a silent robots.txt waits for
DOWNLOAD_TIMEOUT twice, a Crawl-delay site 2 s a request); its CPU time and memory are what it cost.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hostile_site import CASES, HostileWeb, crawl  # noqa: E402

DAY = date(2025, 6, 2)


def one(cases: list[str]) -> tuple[dict, float]:
    """One crawl of the given cases; (its result, the crawl subprocess's CPU seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp, HostileWeb(DAY, cases) as web:
        result = crawl(web, Path(tmp), timeout=600)
        result["counted"] = CASES[cases[0]].counted(result) if cases else f"{result['summary']['stored']} stored"
        result["all_stored"] = all(
            any(e["url"] == u and e["warc_file"] for e in result["index"]) for u in web.good
        )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return result, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("cases", nargs="*", default=list(CASES))
    args = parser.parse_args()
    runs: dict[str, list[tuple[dict, float]]] = {name: [] for name in ["baseline", *args.cases]}
    for _ in range(args.repeat):
        for name in runs:
            runs[name].append(one([] if name == "baseline" else [name]))
    base_wall = statistics.median(r["seconds"] for r, _ in runs["baseline"])
    base_cpu = statistics.median(cpu for _, cpu in runs["baseline"])
    base_mem = statistics.median(r["peak_mib"] for r, _ in runs["baseline"])
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {args.repeat} round(s), medians")
    print("| case | what | counted | wall s (× baseline) | CPU s (× baseline) | peak MiB (× baseline) | good stored |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, results in runs.items():
        wall = statistics.median(r["seconds"] for r, _ in results)
        cpu = statistics.median(c for _, c in results)
        mem = statistics.median(r["peak_mib"] for r, _ in results)
        what = "well-formed articles only" if name == "baseline" else CASES[name].what
        stored = "yes" if all(r["all_stored"] for r, _ in results) else "NO"
        print(f"| {name} | {what} | {results[-1][0]['counted']} | {wall:.1f} ({wall / base_wall:.2f}×) | "
              f"{cpu:.2f} ({cpu / base_cpu:.2f}×) | {mem:.0f} ({mem / base_mem:.2f}×) | {stored} |")  # fmt: skip
    print(f"measured {time.strftime('%Y-%m-%d %H:%M')}")


if __name__ == "__main__":
    main()
