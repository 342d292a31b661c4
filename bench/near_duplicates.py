"""Near-duplicate detection measured (the choice behind ingest/neardup.py): precision and recall on pairs built
from real article texts (the ground-truth article bodies of /work/shared/data: aeb and wcxb-dev articles).

Positives (should be near-duplicates): each article against a copy edited as wire copies are at another
source or on a later day: a dateline added, its last paragraph dropped, one sentence in ten reworded
(words swapped), a line appended ("This story has been updated."), paragraphs re-split.
Negatives (should not): each article against (a) another article sharing a topic tag (wcxb-dev's tags), the
most similar by word overlap among them, and (b) a follow-up: another article's text with the first
paragraph of this one in front (a new story that reuses the background paragraph).

Methods: datasketch MinHash (ingest/neardup.py: NUM_PERM values over SHINGLE_WORDS-word shingles) at several
thresholds; a 64-bit SimHash of 3-word shingles (hand-written, blake2b) at several Hamming distances; and the
exact Jaccard of the same shingles (the reference MinHash estimates). Prints P/R/F1 per setting and the CPU
time per article (median of 3 passes).

    .venv/bin/python bench/near_duplicates.py [--data /work/shared/data] [--limit N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cleaners.article import normalise  # noqa: E402
from ingest import neardup  # noqa: E402

MIN_WORDS = 120


def load(data: Path) -> list[tuple[str, str, set[str]]]:
    """(id, text, topic tags) of every ground-truth article of at least MIN_WORDS words."""
    out = []
    for key, value in sorted(json.loads((data / "aeb/ground-truth.json").read_text()).items()):
        out.append((f"aeb/{key}", value.get("articleBody") or "", set()))
    meta = json.loads((data / "wcxb-dev/metadata.json").read_text())["files"]
    for fid, m in sorted(meta.items()):
        path = data / f"wcxb-dev/dev/ground-truth/{fid}.json"
        if m.get("page_type") == "article" and path.exists():
            doc = json.loads(path.read_text())
            tags = set(doc.get("_internal", {}).get("page_type", {}).get("tags") or [])
            out.append((f"wcxb/{fid}", doc["ground_truth"].get("main_content") or "", tags))
    return [a for a in out if len(a[1].split()) >= MIN_WORDS]


def edited(text: str, rng: random.Random) -> str:
    """A wire copy as another source runs it: dateline, last paragraph cut, light rewording, a trailer."""
    paragraphs = [p for p in text.split("\n") if p.strip()]
    if len(paragraphs) > 3:
        paragraphs = paragraphs[:-1]
    out = []
    for p in paragraphs:
        sentences = p.split(". ")
        for i, s in enumerate(sentences):
            words = s.split()
            if len(words) > 6 and rng.random() < 0.1:
                j = rng.randrange(len(words) - 1)
                words[j], words[j + 1] = words[j + 1], words[j]
                words[rng.randrange(len(words))] = rng.choice(["reportedly", "also", "on Monday", "officials said"])
            sentences[i] = " ".join(words)
        out.append(". ".join(sentences))
    return "LONDON (Wire) — " + "\n".join(out) + "\nThis story has been updated."


def pairs(articles: list, rng: random.Random) -> list[tuple[str, str, bool]]:
    made = []
    words = {k: set(normalise(t).split()) for k, t, _ in articles}
    by_tag: dict[str, list] = {}
    for a in articles:
        for tag in a[2]:
            by_tag.setdefault(tag, []).append(a)
    for key, text, tags in articles:
        made.append((text, edited(text, rng), True))
        same_topic = [b for tag in tags for b in by_tag[tag] if b[0] != key]
        if same_topic:
            other = max(same_topic, key=lambda b: len(words[key] & words[b[0]]) / len(words[key] | words[b[0]]))
            made.append((text, other[1], False))
        paragraphs = [p for p in text.split("\n") if p.strip()]
        if len(paragraphs) >= 3 and len(paragraphs[0]) < 0.3 * len(text):  # a background paragraph, not the story
            follow = rng.choice([a for a in articles if a[0] != key])
            made.append((text, paragraphs[0] + "\n" + follow[1], False))
    return made


def simhash(text: str, size: int = 3) -> int:
    words = normalise(text).split()
    counts = [0] * 64
    for i in range(max(1, len(words) - size + 1)):
        h = int.from_bytes(hashlib.blake2b(" ".join(words[i : i + size]).encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            counts[bit] += 1 if h >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if counts[bit] > 0)


def prf(predicted: list[bool], truth: list[bool]) -> tuple[float, float, float]:
    tp = sum(p and t for p, t in zip(predicted, truth, strict=True))
    fp = sum(p and not t for p, t in zip(predicted, truth, strict=True))
    fn = sum(t and not p for p, t in zip(predicted, truth, strict=True))
    precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return precision, recall, 2 * precision * recall / max(1e-9, precision + recall)


def cpu_per_text(fn, texts: list[str]) -> float:
    times = []
    for _ in range(3):
        t0 = time.process_time()
        for t in texts:
            fn(t)
        times.append((time.process_time() - t0) / len(texts))
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("-v", action="store_true", help="list the false positives of the exact Jaccard")
    args = parser.parse_args()
    rng = random.Random(15)
    articles = load(args.data)
    if args.limit:
        articles = articles[: args.limit]
    made = pairs(articles, rng)
    truth = [t for _, _, t in made]
    print(f"{len(articles)} articles, {len(made)} pairs: {sum(truth)} near-duplicates, {len(truth) - sum(truth)} not")
    mh = [(neardup.minhash(a), neardup.minhash(b)) for a, b, _ in made]
    exact = [len(neardup.shingles(a) & neardup.shingles(b)) / max(1, len(neardup.shingles(a) | neardup.shingles(b)))
             for a, b, _ in made]  # fmt: skip
    sh = [(simhash(a), simhash(b)) for a, b, _ in made]
    print(f"\n{'method':<44} {'precision':>9} {'recall':>7} {'F1':>6}")
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7):
        got = [x is not None and y is not None and x.jaccard(y) >= threshold for x, y in mh]
        p, r, f = prf(got, truth)
        print(f"{f'MinHash {neardup.NUM_PERM} perm, Jaccard >= {threshold}':<44} {p:>9.3f} {r:>7.3f} {f:>6.3f}")
    for threshold in (0.3, 0.5):
        p, r, f = prf([j >= threshold for j in exact], truth)
        if threshold == 0.5 and "-v" in sys.argv:
            for (a, b, t), j in zip(made, exact, strict=True):
                if j >= threshold and not t:
                    print(f"  false positive, Jaccard {j:.2f}: {a[:80]!r} / {b[:80]!r}")
        print(f"{f'exact Jaccard >= {threshold} (reference)':<44} {p:>9.3f} {r:>7.3f} {f:>6.3f}")
    for distance in (3, 6, 10, 14, 18):
        got = [bin(x ^ y).count("1") <= distance for x, y in sh]
        p, r, f = prf(got, truth)
        print(f"{f'SimHash 64 bit, Hamming <= {distance}':<44} {p:>9.3f} {r:>7.3f} {f:>6.3f}")
    texts = [a for a, _, _ in made[:300]]
    print(f"\nCPU per article: MinHash {cpu_per_text(neardup.minhash, texts):.2f} ms, "
          f"SimHash {cpu_per_text(simhash, texts):.2f} ms (median of 3 passes, {len(texts)} texts)")  # fmt: skip


if __name__ == "__main__":
    main()
