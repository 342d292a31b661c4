"""Near-duplicates (issue #15 item 5): wire copies and syndicated stories, across sources and days.

Each article's cleaned text gets a MinHash signature (datasketch) of its word shingles: SHINGLE_WORDS words of
the normalised text (`cleaners.article.normalise`: case, accents' forms and punctuation do not count). The
signature is stored in the clean table (`minhash`, NUM_PERM 32-bit values), so later days compare against
earlier ones without reading their text. An article's `near_duplicate_of` is the URL of the earliest article
(by publication time, then day, source and URL) whose estimated Jaccard similarity is at least the threshold
(NEWS_NEAR_DUP_THRESHOLD), among the articles of every source in the NEWS_NEAR_DUP_DAYS days before its day and
the articles of its own partition; candidates come from an LSH index (datasketch MinHashLSH) and are confirmed
on their signatures. The clean stage cannot compare with other sources of the same day (their partitions may
not be published yet, and a day's result must not depend on the order in which sources finish): once every
source of the day is published, `link_day` (the DAG's `link_near_duplicates` task) links the day's articles
across sources too, updating the rows whose link changes in one commit.

Chosen on bench/near_duplicates.py (pairs the bench builds from real article texts: lightly edited copies
against different stories on the same topic, and follow-ups that reuse a paragraph).
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pyarrow as pa
from datasketch import MinHash, MinHashLSH
from deltalake import CommitProperties

from cleaners.article import normalise

NUM_PERM = 64
SHINGLE_WORDS = 5
SEED = 1  # fixed: signatures stored by one run are compared with those of later runs
MIN_WORDS = 30  # shorter texts get no signature (a caption or a stub is not a story)
SCHEME = "affine32"  # datasketch 2: 32-bit hash values (stored as uint32)
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations  # computed once


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    words = normalise(text).split()
    if len(words) < size:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)}


def minhash(text: str) -> MinHash | None:
    """The MinHash of `text`, or None when it is shorter than MIN_WORDS words."""
    if len(text.split()) < MIN_WORDS:
        return None
    m = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_PERMUTATIONS, scheme=SCHEME)
    m.update_batch(list(shingles(text)))
    return m


def to_bytes(m: MinHash | None) -> bytes | None:
    """The signature as stored: NUM_PERM little-endian uint32 (datasketch's hash values are below 2**32)."""
    return None if m is None else struct.pack(f"<{NUM_PERM}I", *m.hashvalues.tolist())


def from_bytes(data: bytes | None) -> MinHash | None:
    if not data or len(data) != 4 * NUM_PERM:
        return None  # absent, or written with another NUM_PERM: not comparable
    values = np.array(struct.unpack(f"<{NUM_PERM}I", data), dtype=np.uint64)
    return MinHash(num_perm=NUM_PERM, seed=SEED, hashvalues=values, permutations=_PERMUTATIONS, scheme=SCHEME)


@dataclass(frozen=True)
class Known:
    """An article that later ones may duplicate."""

    url: str
    published_at: datetime | None
    day: str
    source: str

    def order(self) -> tuple:
        stamp = self.published_at.timestamp() if self.published_at is not None else float("inf")
        return (stamp, self.day, self.source, self.url)


class NearDuplicates:
    """An LSH index of known articles; `earlier` gives the earliest known article near an article."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self.known: dict[int, tuple[Known, MinHash]] = {}

    def add(self, article: Known, signature: MinHash | None) -> None:
        if signature is None:
            return
        key = len(self.known)
        self.known[key] = (article, signature)
        self.lsh.insert(key, signature)

    def earlier(self, article: Known, signature: MinHash | None) -> Known | None:
        """The earliest near article known that comes before `article` (None when `article` is the earliest)."""
        if signature is None:
            return None
        near = [self.known[k] for k in self.lsh.query(signature)]
        near = [a for a, s in near if a != article and s.jaccard(signature) >= self.threshold]
        first = min(near, key=Known.order, default=None)
        return first if first is not None and first.order() < article.order() else None

    def extend(self, rows: Iterable[dict]) -> None:
        """Known articles from table rows (url, published_at, dt, source, minhash)."""
        for row in rows:
            known = Known(row["url"], row["published_at"], str(row["dt"]), row["source"])
            self.add(known, from_bytes(row["minhash"]))


LINK_RETRIES = 3


def link_day(bucket: str, day: date, days: int, threshold: float) -> dict:
    """Link the articles of `day` across sources, once every source of the day is published (the DAG's
    `link_near_duplicates` task): each gets the earliest near article among every source's articles of that day
    and the `days` before. Rows whose `near_duplicate_of` changes are updated in one MERGE commit (a re-run
    changes nothing). Returns {"linked": {source: articles with a link}, "changed": rows updated}."""
    from deltalake.exceptions import CommitFailedError

    from ingest import table

    if not table.exists(bucket):
        return {"linked": {}, "changed": 0}
    for attempt in range(LINK_RETRIES + 1):
        delta = table.open_table(bucket)
        columns = ["url", "published_at", "dt", "source", "minhash", "near_duplicate_of"]
        if not set(columns) <= {f.name for f in delta.schema().fields}:
            return {"linked": {}, "changed": 0}  # a table of an older schema: nothing to link
        rows = delta.to_pyarrow_table(
            columns=columns, filters=[("dt", ">=", day - timedelta(days=days)), ("dt", "<=", day)]
        ).to_pylist()
        index = NearDuplicates(threshold)
        index.extend(rows)
        linked: Counter = Counter()
        changes = []
        for row in (r for r in rows if r["dt"] == day):
            known = Known(row["url"], row["published_at"], str(row["dt"]), row["source"])
            first = index.earlier(known, from_bytes(row["minhash"]))
            url = first.url if first is not None else None
            if url is not None:
                linked[row["source"]] += 1
            if url != row["near_duplicate_of"]:
                changes.append({"source": row["source"], "dt": day, "url": row["url"], "near_duplicate_of": url})
        if not changes:
            return {"linked": dict(linked), "changed": 0}
        source = pa.Table.from_pylist(changes, schema=pa.schema(
            [("source", pa.string()), ("dt", pa.date32()), ("url", pa.string()), ("near_duplicate_of", pa.string())]
        ))  # fmt: skip
        try:
            delta.merge(
                source,
                predicate=f"t.dt = '{day.isoformat()}' AND t.dt = s.dt AND t.source = s.source AND t.url = s.url",
                source_alias="s",
                target_alias="t",
                commit_properties=CommitProperties(
                    custom_metadata=table.commit_metadata({"maintenance": "near_duplicates", "dt": day.isoformat()})
                ),
            ).when_matched_update(updates={"near_duplicate_of": "s.near_duplicate_of"}).execute()
        except CommitFailedError:
            if attempt == LINK_RETRIES:
                raise
            continue  # another commit touched the rows read: read them again
        return {"linked": dict(linked), "changed": len(changes)}
    raise AssertionError("unreachable")
