"""Layer 3: paragraphs that repeat across many articles of one source are boilerplate.

`BoilerplateState` counts, per source, in how many articles each paragraph fingerprint was
seen. It is bounded (at most `max_entries` fingerprints: when full, the rarest and oldest are
evicted first), serialisable to JSON for S3, and can be applied to a single later article.
The batch orchestrator (`batch.clean_batch`) feeds it; this module knows nothing of extraction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from .article import Removal, clip, fingerprint, hash_normalised, normalise

MIN_CHARS = 20  # shorter paragraphs ("Advertisement") are too generic to fingerprint
STATE_VERSION = 2
MAX_SEEN_DOCS = 20_000  # documents remembered, so re-cleaning a partition does not count it twice


@dataclass
class Keys:
    """An article's paragraph keys and document key, computed once: `BoilerplateState` needs them for
    counting and again for testing, and `clean_batch`'s workers compute them in parallel."""

    doc: str
    paragraphs: dict[str, str | None]

    @classmethod
    def of(cls, paragraphs: list[str], more: Iterable[str] = ()) -> Keys:
        keys = {p: BoilerplateState.key(p) for p in dict.fromkeys((*paragraphs, *more))}  # kept repeats most
        return cls(fingerprint("\n".join(paragraphs))[:16], keys)

    def get(self, paragraph: str) -> str | None:
        if paragraph in self.paragraphs:
            return self.paragraphs[paragraph]
        return BoilerplateState.key(paragraph)


@dataclass
class BoilerplateState:
    source: str | None = None
    min_count: int = 3  # seen in at least this many articles...
    min_share: float = 0.02  # ...and in at least this share of the articles seen
    max_entries: int = 50_000
    docs: int = 0
    counts: dict[str, list[int]] = field(default_factory=dict)  # fp -> [count, last doc index]
    seen: dict[str, None] = field(default_factory=dict)  # fingerprints of documents counted, oldest first

    @staticmethod
    def key(paragraph: str) -> str | None:
        norm = normalise(paragraph)
        return hash_normalised(norm)[:16] if len(norm) >= MIN_CHARS else None

    def update(self, paragraphs: Iterable[str], keys: Keys | None = None) -> None:
        """Count one article's paragraphs (each distinct paragraph once).

        A document already counted (same content: a re-clean, a backfill overlapping an earlier run, the
        same article under two URLs) is not counted again, or its own paragraphs would become "repeats".
        `keys`: the article's `Keys`, computed beforehand (by a worker process of `clean_batch`).
        """
        paragraphs = list(paragraphs)
        keys = keys or Keys.of(paragraphs)
        doc = keys.doc
        if doc in self.seen:
            return
        self.seen[doc] = None
        if len(self.seen) > MAX_SEEN_DOCS:
            del self.seen[next(iter(self.seen))]
        self.docs += 1
        for k in {keys.get(p) for p in paragraphs} - {None}:
            entry = self.counts.get(k)
            if entry is None:
                self.counts[k] = [1, self.docs]
            else:
                entry[0] += 1
                entry[1] = self.docs
        if len(self.counts) > self.max_entries:
            self._evict()

    def _evict(self) -> None:
        keep = int(self.max_entries * 0.75)
        ranked = sorted(self.counts.items(), key=lambda kv: (kv[1][0], kv[1][1]), reverse=True)
        self.counts = dict(ranked[:keep])

    def is_boilerplate(self, paragraph: str, keys: Keys | None = None) -> bool:
        k = keys.get(paragraph) if keys else self.key(paragraph)
        if k is None or k not in self.counts:
            return False
        count = self.counts[k][0]
        return count >= self.min_count and count >= self.min_share * self.docs

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "version": STATE_VERSION,
                "source": self.source,
                "min_count": self.min_count,
                "min_share": self.min_share,
                "max_entries": self.max_entries,
                "docs": self.docs,
                "counts": self.counts,
                "seen": list(self.seen),
            },
            separators=(",", ":"),
        ).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes | str) -> BoilerplateState:
        d = json.loads(data)
        if d.get("version") not in (1, STATE_VERSION):  # version 1 had no memory of documents
            raise ValueError(f"unsupported BoilerplateState version: {d.get('version')}")
        return cls(
            source=d.get("source"),
            min_count=int(d["min_count"]),
            min_share=float(d["min_share"]),
            max_entries=int(d["max_entries"]),
            docs=int(d["docs"]),
            counts={k: [int(v[0]), int(v[1])] for k, v in d["counts"].items()},
            seen=dict.fromkeys(d.get("seen", [])),
        )


def split_repeats(
    paragraphs: list[str], state: BoilerplateState, keys: Keys | None = None
) -> tuple[list[str], list[Removal]]:
    kept, removed = [], []
    for p in paragraphs:
        if state.is_boilerplate(p, keys):
            removed.append(Removal(clip(p), "repeat:cross-article", "repeat"))
        else:
            kept.append(p)
    return kept, removed
