"""Appeals by language: the multilingual corpus, the choice of lexicons, the text layer's cost and
the contribution of each appeal signal.

  python bench/appeal_langs.py --corpus              # per-language tables, dev and held-out
  python bench/appeal_langs.py --selection           # which lexicons to use for an article
  python bench/appeal_langs.py --speed [--pages 300] [--baseline-ref main ...]
  python bench/appeal_langs.py --ablation [--jobs 2] # each signal/layer off, on AEB + WCXB dev

--corpus: tests/data/appeals/{dev,heldout,heldout2} (README there), cleaned as plain text by
  `cleaners.strip_text`: appeal lines kept and news lines lost, per language.
--selection: the same corpus cleaned with lexicons chosen four ways: the detected language plus
  English (what the cleaner does), every lexicon, the detected language alone, English alone.
--speed: the text layer (`strip_paragraphs`, lexicons of the declared language) on the paragraphs
  bare `trafilatura.extract` gives for AEB and WCXB pages, CPU time per paragraph and as a share
  of bare extraction's CPU time on the same pages, measured side by side; with --baseline-ref,
  the text layer of those git revisions (their cleaners/appeals.py and lexicons) on the same
  paragraphs too, the rounds alternating between all variants.
--ablation: `clean_html` on AEB (181) and WCXB dev article pages (711), with one signal or layer
  switched off per row: AEB and WCXB F1 and appeal-like snippets leaked (bench/clean_quality.py's
  metrics), and how many removals the row lost.
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def corpus() -> None:
    import cleaners
    from tests.appeal_corpus import SPLITS, score_split, table

    for split in SPLITS:  # counts only: the held-out lines are never printed
        print(f"\n## {split}: appeal lines kept, news lines lost (negatives: news about appeals, quotes)")
        print(table(score_split(split, lambda t: cleaners.strip_text(t)[0])))


def selection() -> None:
    from cleaners import appeals
    from cleaners.language import detect_languages
    from cleaners.lexicons import languages
    from tests.appeal_corpus import Tally, load, score_case

    def strip_with(choose):
        def strip(text: str) -> str:
            paras = [ln for ln in text.splitlines() if ln.strip()]
            kept, _ = appeals.strip_paragraphs(paras, languages=choose(text))
            return "\n".join(kept)

        return strip

    ways = {
        "detected + en (default)": lambda t: detect_languages(t),
        "every lexicon": lambda t: languages(),
        "detected only": None,
        "en only": lambda t: [],
    }
    for lang in languages():  # compile every lexicon and load the detector before timing
        appeals.matcher((lang,))
    detect_languages("warm up the detector with a sentence")
    print("(paragraph language: a paragraph holding another lexicon language's appeal phrase is scored in it)")
    print(f"{'lexicons':46} {'split':8} {'appeals kept':>13} {'news lost':>10} {'clean langs':>12} {'ms/case':>8}")
    rows = [(name, choose, True) for name, choose in ways.items()]
    rows += [
        (f"{name}, no paragraph language", choose, False) for name, choose in ways.items() if name != "every lexicon"
    ]
    for name, choose, foreign in rows:
        appeals.FOREIGN = foreign
        for split in ("dev", "heldout"):
            total, clean, n, t0 = Tally(), 0, 0, time.process_time()
            for _lang, cases in load(split).items():
                t = Tally()
                for case in cases:
                    if choose is None:  # detected only: no English fallback
                        saved, appeals.FALLBACK = appeals.FALLBACK, ()
                        try:
                            t.add(score_case(case, strip_with(lambda x: detect_languages(x))))
                        finally:
                            appeals.FALLBACK = saved
                    else:
                        t.add(score_case(case, strip_with(choose)))
                    n += 1
                total.add(t)
                clean += t.clean
            ms = 1000 * (time.process_time() - t0) / n
            print(
                f"{name:46} {split:8} {len(total.appeals_kept):>6}/{total.appeals:<6} "
                f"{len(total.news_lost):>4}/{total.news:<5} {clean:>12} {ms:8.2f}"
            )


def _pages(limit: int) -> list[tuple[str, bytes]]:
    from clean_quality import load_jobs

    _, _, jobs = load_jobs(Path("/work/shared/data"))
    jobs = jobs[:: max(1, len(jobs) // limit)][:limit] if limit else jobs
    return [(key, gzip.decompress(Path(path).read_bytes())) for key, path, _ in jobs]


def _baseline(ref: str):
    """The text layer of git revision `ref` (with its lexicons), imported as a package of its own."""
    package = "baseline_" + "".join(c if c.isalnum() else "_" for c in ref)
    tmp = Path(tempfile.mkdtemp()) / package
    tmp.mkdir()
    (tmp / "__init__.py").write_text("")
    listed = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", ref, "cleaners/lexicons"], cwd=ROOT, capture_output=True, check=True
    )
    lexicon_files = [n.removeprefix("cleaners/") for n in listed.stdout.decode().split()]
    if lexicon_files:
        (tmp / "lexicons").mkdir()
    for name in ("appeals.py", "article.py", "language.py", *lexicon_files):
        src = subprocess.run(["git", "show", f"{ref}:cleaners/{name}"], cwd=ROOT, capture_output=True)
        if src.returncode == 0:  # (older revisions have no language module)
            (tmp / name).write_bytes(src.stdout)
    sys.path.insert(0, str(tmp.parent))
    return importlib.import_module(f"{package}.appeals")


def speed(pages: int, refs: list[str], rounds: int = 5) -> None:
    import trafilatura

    from cleaners import appeals

    docs, bare = [], []
    for _key, html in _pages(pages):
        t0 = time.process_time()
        text = trafilatura.extract(html) or ""
        bare.append(time.process_time() - t0)
        paras = [" ".join(ln.split()) for ln in text.split("\n") if ln.strip()]
        if paras:
            docs.append(paras)
    n_par = sum(len(d) for d in docs)
    variants = {"text layer (this checkout)": lambda d: appeals.strip_paragraphs(d, declared="en")}
    variants["text layer, language detected"] = lambda d: appeals.strip_paragraphs(d)
    olds = {f"text layer at {ref}": _baseline(ref) for ref in refs}
    for name, old in olds.items():
        variants[name] = old.strip_paragraphs
    for d in docs[:20]:  # warm: lexicons compiled, detector loaded
        for f in variants.values():
            f(d)
    rounds_: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(rounds):  # alternate the variants; clear the per-paragraph caches between rounds
        for name, f in variants.items():
            appeals._score.cache_clear()
            appeals._tokens.cache_clear()
            if name in olds:
                for cached in ("_score", "_tokens", "score"):
                    if hasattr(getattr(olds[name], cached, None), "cache_clear"):
                        getattr(olds[name], cached).cache_clear()
            t0 = time.process_time()
            for d in docs:
                f(d)
            rounds_[name].append(time.process_time() - t0)
    bare_total = sum(bare)
    per_page = 1000 * bare_total / len(bare)
    print(f"{len(docs)} pages, {n_par} paragraphs; bare trafilatura.extract {per_page:.1f} ms/page CPU")
    print(f"{'variant':36} {'µs/paragraph':>13} {'ms/page':>8} {'of bare':>8}")
    for name, ts in rounds_.items():
        t = statistics.median(ts)
        print(f"{name:36} {1e6 * t / n_par:13.1f} {1000 * t / len(docs):8.2f} {t / bare_total:8.1%}")
    ours = statistics.median(rounds_["text layer (this checkout)"])
    for name in olds:
        ratio = ours / statistics.median(rounds_[name])
        print(f"this checkout / {name.removeprefix('text layer at ')}: {ratio:.2f}x CPU")


ABLATIONS = {
    "everything on": {},
    "- signal: appeal endpoints (paths)": {"signals_off": ["endpoint"]},
    "- signal: vendor hosts": {"signals_off": ["vendor"]},
    "- signal: dismiss controls": {"signals_off": ["dismiss"]},
    "- all link/form signals": {"no": ["by_signals"]},
    "- class/id tokens": {"no": ["by_tokens"]},
    "- heading + call-to-action button": {"no": ["by_heading_cta"]},
    "- e-mail sign-up forms": {"no": ["by_email_form"]},
    "- text layer (lexicons)": {"no_text": True},
    "- paragraphs scored in their own language": {"no_foreign": True},
    "lexicons: every language for every page": {"all_langs": True},
}


def _configure(cfg: dict) -> None:
    from cleaners.attrs import attr_values

    from cleaners import appeals, extract, signals, structure

    for name in cfg.get("signals_off", []):
        signals.ENABLED.discard(name)
    for method in cfg.get("no", []):
        if method == "by_tokens":  # still fetch the attribute values the metadata step reuses

            def scan_only(self) -> None:
                self.values = attr_values(self.tree, structure.SCAN_ATTRS)

            structure.Pruner.by_tokens = scan_only
        else:
            setattr(structure.Pruner, method, lambda self: None)
    if cfg.get("no_text"):
        extract.strip_paragraphs = lambda paras, **_: (list(paras), [])
    if cfg.get("no_foreign"):
        appeals.FOREIGN = False
    if cfg.get("all_langs"):
        from cleaners.lexicons import languages

        appeals.article_languages = lambda paras, declared=None: languages()


def _clean(job: tuple[str, str, str | None]) -> tuple[str, str, int]:
    import cleaners

    key, path, url = job
    art = cleaners.clean_html(gzip.decompress(Path(path).read_bytes()), url=url)
    return key, art.text, len(art.removed)


def ablation(jobs_n: int) -> None:
    from clean_quality import evaluate, load_jobs

    aeb_gt, wcxb_gt, jobs = load_jobs(Path("/work/shared/data"))
    base_removed = None
    print(f"{'configuration':44} {'AEB F1':>7} {'WCXB F1':>8} {'leaked':>7} {'removals':>9}")
    for name, cfg in ABLATIONS.items():
        with ProcessPoolExecutor(jobs_n, initializer=_configure, initargs=(cfg,)) as pool:
            out = list(pool.map(_clean, jobs, chunksize=4))
        results = {k: (t, t) for k, t, _ in out}
        removed = sum(n for _, _, n in out)
        base_removed = removed if base_removed is None else base_removed
        m = evaluate(aeb_gt, wcxb_gt, results)["ours"]
        print(f"{name:44} {m['aeb_f1']:7.4f} {m['wcxb_f1']:8.4f} {m['appeal_leak']:6.2%} {removed - base_removed:+9d}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", action="store_true")
    ap.add_argument("--selection", action="store_true")
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--ablation", action="store_true")
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--baseline-ref", action="append", default=[])
    ap.add_argument("--rounds", type=int, default=5, help="--speed: alternating rounds (median)")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    if not (args.corpus or args.selection or args.speed or args.ablation):
        args.corpus = args.selection = True
    if args.corpus:
        corpus()
    if args.selection:
        selection()
    if args.speed:
        speed(args.pages, args.baseline_ref, args.rounds)
    if args.ablation:
        ablation(args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
