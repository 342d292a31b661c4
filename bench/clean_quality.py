"""Quality benchmark: `cleaners.clean_html` beside bare `trafilatura.extract(html)` (default settings).

Data (see /work/shared/README.md and bench/README.md for licences and attribution):
  AEB  - article-extraction-benchmark (Zyte, MIT): 181 news pages + articleBody.
  WCXB - Web Content Extraction Benchmark dev split (Murrough Foley, CC-BY-4.0), `article` pages only.

Metric (AEB's): 4-gram shingles over lower-cased \\w+ tokens, per page tp/fp/fn normalised by their
sum, summed over pages; P = TP/(TP+FP), R = TP/(TP+FN), F1 from those. WCXB snippets: a `with`
snippet counts when its normalised text occurs in the output, a `without` snippet when it does not.
"Appeal-like" `without` snippets are selected by APPEAL_LIKE below, a fixed keyword rule that is
independent of the cleaner's detector.

Both extractors run in the same worker process on the same page. Usage:
  python bench/clean_quality.py [--data /work/shared/data] [--jobs 2] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

APPEAL_LIKE = re.compile(
    r"\b(?:subscrib\w*|newsletters?|sign[- ]?up|donat\w*|support us|support our|become a member|membership"
    r"|join us|contribut\w*|paywall|premium|log ?in to (?:read|continue))\b",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> set[tuple[str, ...]]:
    toks = _TOKEN.findall(text.lower())
    if len(toks) < n:
        return {tuple(toks)} if toks else set()
    return {tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)}


def page_counts(ref: str, pred: str) -> tuple[float, float, float]:
    r, p = shingles(ref), shingles(pred)
    tp, fp, fn = len(r & p), len(p - r), len(r - p)
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


def prf(counts: Iterable[tuple[float, float, float]]) -> tuple[float, float, float]:
    tp = fp = fn = 0.0
    for a, b, c in counts:
        tp, fp, fn = tp + a, fp + b, fn + c
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def norm(text: str) -> str:
    return " ".join(_TOKEN.findall(text.lower()))


def run_page(job: tuple[str, str, str | None]) -> tuple[str, str, str, float, float]:
    """(key, bare text, our text, bare seconds, our seconds) for one page."""
    import trafilatura

    import cleaners

    key, path, url = job
    html = gzip.decompress(Path(path).read_bytes())
    t0 = time.perf_counter()
    try:
        bare = trafilatura.extract(html) or ""
    except Exception:  # noqa: BLE001
        bare = ""
    t1 = time.perf_counter()
    ours = cleaners.clean_html(html, url=url).text
    t2 = time.perf_counter()
    return key, bare, ours, t1 - t0, t2 - t1


def load_jobs(data: Path) -> tuple[dict, dict, list]:
    aeb_gt = json.loads((data / "aeb/ground-truth.json").read_text())
    meta = json.loads((data / "wcxb-dev/metadata.json").read_text())["files"]
    wcxb_gt = {}
    for fid, m in sorted(meta.items()):
        gt_path = data / f"wcxb-dev/dev/ground-truth/{fid}.json"
        if m.get("split") == "dev" and m.get("page_type") == "article" and gt_path.exists():
            wcxb_gt[fid] = json.loads(gt_path.read_text())
    jobs = [(f"aeb/{k}", str(data / f"aeb/html/{k}.html.gz"), v.get("url")) for k, v in sorted(aeb_gt.items())]
    jobs += [(f"wcxb/{k}", str(data / f"wcxb-dev/dev/html/{k}.html.gz"), v.get("url")) for k, v in wcxb_gt.items()]
    return aeb_gt, wcxb_gt, jobs


def evaluate(aeb_gt: dict, wcxb_gt: dict, results: dict[str, tuple[str, str]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name, idx in (("bare", 0), ("ours", 1)):
        row: dict[str, float] = {}
        aeb = [
            page_counts(v["articleBody"], results[f"aeb/{k}"][idx]) for k, v in aeb_gt.items() if f"aeb/{k}" in results
        ]
        row["aeb_p"], row["aeb_r"], row["aeb_f1"] = prf(aeb)
        wc, with_hits, with_n, wo_hits, wo_n, leak, appeal_n = [], 0, 0, 0, 0, 0, 0
        for k, g in wcxb_gt.items():
            if f"wcxb/{k}" not in results:
                continue
            pred = results[f"wcxb/{k}"][idx]
            gt = g["ground_truth"]
            wc.append(page_counts(gt.get("main_content") or "", pred))
            npred = norm(pred)
            for s in gt.get("with") or []:
                if norm(s):
                    with_n += 1
                    with_hits += norm(s) in npred
            for s in gt.get("without") or []:
                if not norm(s):
                    continue
                wo_n += 1
                present = norm(s) in npred
                wo_hits += not present
                if APPEAL_LIKE.search(s):
                    appeal_n += 1
                    leak += present
        row["wcxb_p"], row["wcxb_r"], row["wcxb_f1"] = prf(wc)
        row["with_acc"] = with_hits / max(1, with_n)
        row["without_acc"] = wo_hits / max(1, wo_n)
        row["appeal_leak"] = leak / max(1, appeal_n)
        row["appeal_n"] = appeal_n
        out[name] = row
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/work/shared/data", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="only the first N pages of each set (quick look)")
    ap.add_argument("--dump", type=Path, help="write per-page outputs as JSON here (for inspection)")
    args = ap.parse_args(argv)

    aeb_gt, wcxb_gt, jobs = load_jobs(args.data)
    if args.limit:
        aeb_gt = dict(list(aeb_gt.items())[: args.limit])
        wcxb_gt = dict(list(wcxb_gt.items())[: args.limit])
        keep = {f"aeb/{k}" for k in aeb_gt} | {f"wcxb/{k}" for k in wcxb_gt}
        jobs = [j for j in jobs if j[0] in keep]
    t0 = time.time()
    results: dict[str, tuple[str, str]] = {}
    tb = to = 0.0
    with ProcessPoolExecutor(args.jobs) as pool:
        for key, bare, ours, sb, so in pool.map(run_page, jobs, chunksize=4):
            results[key] = (bare, ours)
            tb, to = tb + sb, to + so
    if args.dump:
        args.dump.write_text(json.dumps(results, ensure_ascii=False))
    m = evaluate(aeb_gt, wcxb_gt, results)
    b, o = m["bare"], m["ours"]
    print(
        f"pages: AEB {len(aeb_gt)}, WCXB dev article {len(wcxb_gt)}; wall {time.time() - t0:.0f}s; "
        f"extraction time ours/bare = {to / max(tb, 1e-9):.2f}"
    )
    print(f"appeal-like WCXB `without` snippets selected by APPEAL_LIKE: {int(o['appeal_n'])}")
    rows = [
        ("AEB precision", "aeb_p", None),
        ("AEB recall", "aeb_r", None),
        ("AEB F1", "aeb_f1", ">= 0.965"),
        ("WCXB article precision", "wcxb_p", None),
        ("WCXB article recall", "wcxb_r", ">= bare - 0.005"),
        ("WCXB article F1", "wcxb_f1", ">= bare + 0.01"),
        ("WCXB with-snippet present", "with_acc", None),
        ("WCXB without-snippet absent", "without_acc", None),
        ("WCXB appeal-like snippets leaked", "appeal_leak", "<= 0.02"),
    ]
    print(f"{'metric':34} {'bare':>7} {'ours':>7} {'delta':>7}  target")
    for label, k, target in rows:
        ok = ""
        if target:
            met = {
                "aeb_f1": o[k] >= 0.965,
                "wcxb_r": o[k] >= b[k] - 0.005,
                "wcxb_f1": o[k] >= b[k] + 0.01,
                "appeal_leak": o[k] <= 0.02,
            }[k]
            ok = f"{target} {'MET' if met else 'NOT MET'}"
        print(f"{label:34} {b[k]:7.4f} {o[k]:7.4f} {o[k] - b[k]:+7.4f}  {ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
