"""The per-source stages of the daily run: crawl → clean → validate → publish.

Each stage is an idempotent function of (source, day): the DAG only wires them. Stages hand each other
small dicts (they travel as XComs); data stays in S3.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingest import neardup, partition, rawio
from ingest import s3 as s3io
from ingest.parquet import LIVE, SCHEMA_VERSION, write_rows
from newsconfig import env as config

log = logging.getLogger(__name__)
MAX_EMPTY_SHARE = 0.2  # above this share of pages without article text, the cleaner or the site is broken
# pages rightly refused for what they are (all appeal) or by the source's policy (rights: skip_reserved)
EXPECTED_REJECTIONS = frozenset({"appeal_only", "rights_reserved"})
MAX_LISTED_REJECTS = 200  # rejected documents listed by URL in the clean stats (all are counted by reason)
# fields whose presence is counted per partition (the report's `coverage`): a drop says an extractor broke
COVERAGE_FIELDS = ("title", "published_at", "authors", "language")


class QualityGateError(Exception):
    """A partition failed its quality gates; retrying will not help."""


class RawPartitionMissing(Exception):
    """Re-cleaning was asked for, but the raw partition is not in S3."""


class EarlierDaysUnfinished(Exception):
    """A run of an earlier day in the state window was still unfinished when the wait ran out; retry later."""


def state_key(source: str, day: date) -> str:
    """The boilerplate state after cleaning `day`: written once per publish of that day, never updated in place."""
    return f"state/source={source}/dt={day.isoformat()}/boilerplate.json"


def list_sources(selected: list[str] | None = None) -> list[str]:
    """Names of the configured sources, or the selected subset (unknown names are an error)."""
    from newsconfig.sources import load_sources

    names = [s.name for s in load_sources(config.sources_path())]
    if not selected:
        return names
    unknown = sorted(set(selected) - set(names))
    if unknown:
        raise ValueError(f"unknown sources {unknown}; configured: {names}")
    return [n for n in names if n in selected]


def crawl(source: str, start: date, end: date, recrawl: bool, attempt: str, discover: str = "live") -> dict:
    """Fetch the source's articles published in [start, end) into raw/…/dt=start (or reuse them).

    `discover`: where the articles are found: `live` (feeds and sitemaps), `archives` (the web archives the
    source opts in to, ingest.archives), or `both` (the archives first; the live site is not asked for a URL an
    archive provides)."""
    s3, bucket = s3io.client(), config.bucket()
    existing = partition.read_manifest(s3, bucket, "raw", source, start)
    if not recrawl:
        if existing is None:
            raise RawPartitionMissing(
                f"recrawl is off but s3://{bucket}/{partition.partition_prefix('raw', source, start)} "
                "has no complete raw partition (no _SUCCESS): crawl this date first"
            )
        return {"source": source, "reused": True, "summary": existing.get("crawl", {})}
    from spiders.crawl import run_crawl

    with tempfile.TemporaryDirectory(prefix="crawl-") as tmp:
        out, earlier = Path(tmp) / "out", Path(tmp) / "earlier"
        indexes = _earlier_indexes(s3, bucket, source, start, earlier)
        settings: dict = {"NEWS_DEDUP_INDEXES": [str(p) for p in indexes.values()]} if indexes else {}
        if validators := _previous_validators(s3, bucket, source, start, earlier):
            settings["NEWS_VALIDATORS_FILE"] = str(validators)  # conditional requests (spiders.revisits)
        archived = None
        if discover != "live":
            from ingest import archives
            from newsconfig.sources import get_source

            path, archived = archives.discover(get_source(source, config.sources_path()), start, end, Path(tmp))
            settings |= {"NEWS_DISCOVER": discover, "NEWS_ARCHIVE_CANDIDATES": str(path)}
        summary = run_crawl(source, start, end, out, sources_path=str(config.sources_path()), settings=settings or None)
        if archived is not None:
            summary["archive_discovery"] = archived
        extra = ("index.jsonl.gz", "sites.jsonl.gz", "validators.json.gz")
        files = [*sorted(out.glob("part-*.warc.gz")), *(out / name for name in extra if (out / name).exists())]
        info = {"crawl": summary, "window": [start.isoformat(), end.isoformat()], "dedup_days": sorted(indexes)}
        partition.publish(s3, bucket, "raw", source, start, files, info, attempt)
    return {"source": source, "reused": False, "summary": summary, "dedup_days": sorted(indexes)}


def _earlier_indexes(s3, bucket: str, source: str, day: date, folder: Path) -> dict[str, Path]:
    """Download the crawl index of each complete raw partition of the `NEWS_DEDUP_DAYS` days before `day`.

    Only earlier days count, so re-crawling a day gives the same result; a day not (yet) published, as in a
    backfill running days side by side, is simply missing.
    """
    found = {}
    for back in range(1, config.dedup_days() + 1):
        earlier = day - timedelta(days=back)
        manifest = partition.read_manifest(s3, bucket, "raw", source, earlier)
        key = next((p["key"] for p in (manifest or {}).get("parts", []) if p["key"].endswith("index.jsonl.gz")), None)
        if key:
            path = folder / earlier.isoformat() / "index.jsonl.gz"
            path.parent.mkdir(parents=True, exist_ok=True)
            s3io.download_file(s3, bucket, key, path)
            found[earlier.isoformat()] = path
    return found


def _previous_validators(s3, bucket: str, source: str, day: date, folder: Path) -> Path | None:
    """The feeds' and sitemaps' validators stored by the crawl of the day before `day` (None: fetch all)."""
    manifest = partition.read_manifest(s3, bucket, "raw", source, day - timedelta(days=1))
    key = next((p["key"] for p in (manifest or {}).get("parts", []) if p["key"].endswith("validators.json.gz")), None)
    if key is None:
        return None
    path = folder / "validators.json.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    s3io.download_file(s3, bucket, key, path)
    return path


def wait_for_earlier_days(
    day: date, unfinished: Callable[[list[date]], int], timeout: float | None = None, poll: float = 15.0
) -> None:
    """Wait while runs of the days in the state window before `day` are unfinished (`unfinished(days)` counts them).

    The clean of D uses the state published by the latest earlier day, so it must not start while an earlier
    day may still publish: then a backfill running days side by side cleans exactly as one running them in
    order. Bounded: after `timeout` (NEWS_STATE_WAIT_SECONDS) it raises EarlierDaysUnfinished and the task retries.
    """
    # the boilerplate state's window and the near-duplicates' (ingest.neardup): both read earlier days
    days = [day - timedelta(days=back) for back in range(1, max(config.state_days(), config.near_dup_days()) + 1)]
    if not days:
        return
    deadline = time.monotonic() + (config.state_wait() if timeout is None else timeout)
    pause, logged = 0.5, False
    while (count := unfinished(days)) > 0:
        if not logged:
            log.info("clean of %s waits for %d unfinished run(s) of %s..%s (their state, articles)", day, count,
                     days[-1], days[0])  # fmt: skip
            logged = True
        if time.monotonic() >= deadline:
            raise EarlierDaysUnfinished(
                f"{count} run(s) of the days {days[-1]}..{days[0]} still unfinished: the clean of {day} builds on "
                "their boilerplate state; it will be retried (or raise NEWS_STATE_WAIT_SECONDS)"
            )
        time.sleep(pause)
        pause = min(pause * 2, poll)  # asks the API server every `poll` seconds at most


def earlier_state(s3, bucket: str, source: str, day: date):
    """The state published by the latest day before `day` within NEWS_STATE_DAYS (empty if none): (state, day)."""
    from cleaners import BoilerplateState

    for back in range(1, config.state_days() + 1):
        earlier = day - timedelta(days=back)
        body = s3io.get_bytes_or_none(s3, bucket, state_key(source, earlier))
        if body is not None:
            return BoilerplateState.from_json(body), earlier
    return BoilerplateState(source=source), None


def clean(source: str, day: date, attempt: str, unfinished: Callable[[list[date]], int] | None = None) -> dict:
    """Clean the raw partition of (source, day) into one staged Parquet file and the state it leads to.

    `unfinished` counts the runs of given days that are still going (see wait_for_earlier_days); None: no wait.
    """
    s3, bucket = s3io.client(), config.bucket()
    raw = partition.read_manifest(s3, bucket, "raw", source, day)
    if raw is None:
        raise RawPartitionMissing(f"no complete raw partition for {source} on {day}")
    if unfinished is not None:
        wait_for_earlier_days(day, unfinished)
    state, state_from = earlier_state(s3, bucket, source, day)
    with tempfile.TemporaryDirectory(prefix="clean-") as tmp:
        local = _download_parts(s3, bucket, raw, Path(tmp))
        out, state_file = Path(tmp) / "part-00000.parquet", Path(tmp) / "boilerplate.json"
        stats = _clean_to_parquet(source, day, local, out, state)
        state_file.write_bytes(state.to_json())
        staged = partition.stage_files(s3, bucket, [out, state_file], "clean", source, day, attempt)
    stats["state_from"] = state_from.isoformat() if state_from else None
    return {
        "source": source,
        "dt": day.isoformat(),
        "attempt": attempt,
        "stats": stats,
        "staged": partition.staged_to_dict(staged[:1]),
        "staged_state": partition.staged_to_dict(staged[1:]),
        "raw_parts": [p["key"] for p in raw["parts"]],
    }


def _download_parts(s3, bucket: str, manifest: dict, folder: Path) -> dict[str, Path]:
    """Download every part listed in the manifest, checking its checksum."""
    local = {}
    for part in manifest["parts"]:
        path = folder / Path(part["key"]).name
        s3io.download_file(s3, bucket, part["key"], path)
        if s3io.sha256_file(path) != part["sha256"]:
            raise OSError(f"checksum mismatch for s3://{bucket}/{part['key']}")
        local[part["key"]] = path
    return local


def _clean_to_parquet(source: str, day: date, local: dict[str, Path], out: Path, state) -> dict:
    """Clean every response of the raw parts into `out`; `state` (the earlier days') learns this day's articles."""
    from cleaners import clean_batch
    from cleaners.language import disagree, primary
    from ingest.rights import SITES_FILE, load_sites, rights
    from newsconfig.sources import get_source

    index_path = next((p for k, p in local.items() if k.endswith("index.jsonl.gz")), Path("/nonexistent"))
    index = {(e.get("warc_file"), e.get("warc_offset")): e for e in rawio.read_index(index_path)}
    warcs = sorted((k, p) for k, p in local.items() if k.endswith(".warc.gz"))
    configured = get_source(source, config.sources_path())
    cleaning = configured.cleaning or None

    def records():
        for key, path in warcs:
            yield from rawio.iter_responses(path, key)

    sites_path = next((p for k, p in local.items() if k.endswith(SITES_FILE)), None)
    sites = load_sites(sites_path)  # what each site's robots.txt and tdmrep.json said in the crawl
    metas = [(r.warc_file, r.offset, r.url, r.fetched_at, r.rights_headers, _provenance(r)) for r in records()]
    docs = ((r.body, r.url, r.content_type) for r in records())
    stats = {"documents": len(metas), "articles": 0, "rejected": Counter(), "removed_by_rule": Counter(),
             "coverage": Counter()}  # fmt: skip
    stats["rejected_documents"] = []
    stats["language_disagreements"] = Counter()  # "declared->detected": articles
    stats["flags"] = Counter()  # articles by flag: not_free, truncated, ...
    budget = config.clean_doc_seconds()

    def rows():
        for (key, offset, url, fetched_at, rights_headers, provenance), article in zip(
            metas, clean_batch(docs, source=cleaning, state=state, budget=budget), strict=True
        ):
            entry = index.get((Path(key).name, offset)) or index.get((key, offset)) or {}
            if article.error or not article.text.strip():
                reason = article.reason or "no_article"
                stats["rejected"][reason] += 1
                if len(stats["rejected_documents"]) < MAX_LISTED_REJECTS:  # the audit: which page, and why
                    stats["rejected_documents"].append({"url": url, "reason": reason, "error": article.error})
                _log_reject(url, article)
                continue
            declared = rights(url, rights_headers, article.page_rights, sites)
            if declared["reserved"] and configured.rights == "skip_reserved":
                stats["rejected"]["rights_reserved"] += 1
                if len(stats["rejected_documents"]) < MAX_LISTED_REJECTS:
                    error = "reserved by " + ", ".join(declared["reserved_by"])
                    stats["rejected_documents"].append({"url": url, "reason": "rights_reserved", "error": error})
                continue
            stats["articles"] += 1
            stats["removed_by_rule"].update(r.rule for r in article.removed)
            row = {**_row(source, url, entry, fetched_at, key, offset, article), "dt": day, "rights": declared}
            row |= provenance
            row["language"] = row["language"] or primary(configured.language)  # <html lang>, else sources.yaml
            if disagree(row["language"], row["language_detected"]):
                stats["language_disagreements"][f"{row['language']}->{row['language_detected']}"] += 1
            stats["flags"].update(_flags(row))
            stats["coverage"].update(f for f in COVERAGE_FIELDS if row[f])
            yield row

    write_rows(rows(), out)
    linked = _link_near_duplicates(out, source, day)
    if linked:
        stats["flags"]["near_duplicate"] += linked
    stats["cleaner_version"] = _cleaner_version()
    counters = ("rejected", "removed_by_rule", "language_disagreements", "flags")
    return {**stats, **{name: dict(stats[name]) for name in counters},
            "coverage": {f: stats["coverage"][f] for f in COVERAGE_FIELDS}}  # fmt: skip


# flag -> whether a published row has it (counted per source in the clean stats and the report)
FLAGS: dict[str, Callable[[dict], bool]] = {
    "not_free": lambda row: row.get("free_access") is False,
    "truncated": lambda row: bool(row.get("truncated")),
    "rights_reserved": lambda row: bool((row.get("rights") or {}).get("reserved")),
}


def _flags(row: dict) -> list[str]:
    return [name for name, test in FLAGS.items() if test(row)]


def _earlier_signatures(source: str, day: date) -> list[dict]:
    """The signatures of every source's articles in the NEWS_NEAR_DUP_DAYS days before `day` (from the table)."""
    from ingest import table

    days = config.near_dup_days()
    bucket = config.bucket()
    if days <= 0 or not table.exists(bucket):
        return []
    delta = table.open_table(bucket)
    columns = ["url", "published_at", "dt", "source", "minhash"]
    if not set(columns) <= {f.name for f in delta.schema().fields}:
        return []  # a table of an older schema: no signatures yet
    earlier = delta.to_pyarrow_table(
        columns=columns, filters=[("dt", ">=", day - timedelta(days=days)), ("dt", "<", day)]
    )
    return [r for r in earlier.to_pylist() if r["minhash"]]


def _link_near_duplicates(path: Path, source: str, day: date) -> int:
    """Fill `near_duplicate_of` in the staged file: the earliest near article of the window or of this partition
    (ingest.neardup). Reads the signatures (small) first, then rewrites the file row group by row group."""
    index = neardup.NearDuplicates(config.near_dup_threshold())
    index.extend(_earlier_signatures(source, day))
    own = pq.read_table(path, columns=["url", "published_at", "minhash"]).to_pylist()
    known = [neardup.Known(r["url"], r["published_at"], day.isoformat(), source) for r in own]
    signatures = [neardup.from_bytes(r["minhash"]) for r in own]
    for article, signature in zip(known, signatures, strict=True):
        index.add(article, signature)
    links = [index.earlier(a, s) for a, s in zip(known, signatures, strict=True)]
    if not any(links):
        return 0
    linked = path.with_suffix(".linked.parquet")
    parquet, start = pq.ParquetFile(path), 0
    with pq.ParquetWriter(linked, parquet.schema_arrow, compression="zstd") as writer:
        for group in range(parquet.num_row_groups):
            batch = parquet.read_row_group(group)
            urls = [m.url if m else None for m in links[start : start + batch.num_rows]]
            position = batch.schema.get_field_index("near_duplicate_of")
            writer.write_table(batch.set_column(position, "near_duplicate_of", pa.array(urls, pa.string())))
            start += batch.num_rows
    linked.replace(path)
    return sum(1 for m in links if m)


def _provenance(record: rawio.RawRecord) -> dict:
    """The row's `provenance` and `capture` columns (ingest.parquet, schema version 3) from its WARC record."""
    if not record.archive:
        return {"provenance": LIVE, "capture": None}
    capture = {"archive": record.archive, "archive_url": record.archive_url,
               "captured_at": _timestamp(record.captured_at)}  # fmt: skip
    return {"provenance": record.archive, "capture": capture}


def _log_reject(url: str, article) -> None:
    import logging

    logging.getLogger(__name__).info("rejected %s: %s (%s)", url, article.reason or "no_article", article.error)


def _row(source: str, url: str, entry: dict, fetched_at: str | None, key: str, offset: int, article) -> dict:
    published = entry.get("published") or entry.get("date_hint") or article.published_at
    return {
        "url": url,
        "canonical_url": entry.get("canonical_url") or article.canonical_url or url,
        "source": source,
        "title": article.title,
        "authors": list(article.authors or []),
        "published_at": _timestamp(published),
        "language": article.language,
        "language_detected": article.language_detected,
        "text": article.text,
        "removed": [{"text": r.text, "rule": r.rule, "layer": r.layer} for r in article.removed],
        "fingerprint": article.fingerprint,
        "fetched_at": _timestamp(fetched_at),
        "cleaner_version": article.cleaner_version,
        "warc_file": key,
        "warc_offset": offset,
        "site_name": article.site_name,
        "image_url": article.image_url,
        "section": article.section,
        "keywords": list(article.keywords or []),
        "modified_at": _timestamp(article.modified_at),
        "free_access": article.free_access,
        "truncated": article.truncated,
        "access_signals": list(article.access_signals or []),
        "minhash": neardup.to_bytes(neardup.minhash(article.text)),
    }


def _timestamp(value: str | None) -> datetime | None:
    """An ISO date or datetime as an aware UTC datetime (a bare date is midnight UTC)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _cleaner_version() -> str:
    from cleaners import CLEANER_VERSION

    return CLEANER_VERSION


def validate(cleaned: dict, quiet: bool | None = None) -> dict:
    """Quality gates on the staged partition; raises QualityGateError saying what is wrong."""
    from cleaners import is_appeal
    from newsconfig.sources import get_source

    source, stats = cleaned["source"], cleaned["stats"]
    if quiet is None:
        quiet = bool(get_source(source, config.sources_path()).quiet)
    problems = []
    if stats["articles"] == 0 and not quiet:
        problems.append(f"no article for {cleaned['dt']} (mark the source `quiet: true` if that is normal)")
    # pages rightly refused for what they are (all appeal) do not say the cleaner or the site is broken
    empty = sum(n for reason, n in stats["rejected"].items() if reason not in EXPECTED_REJECTIONS)
    if stats["documents"] and empty / stats["documents"] > MAX_EMPTY_SHARE:
        problems.append(f"{empty} of {stats['documents']} pages gave no article text: {stats['rejected']}")
    problems += _appeal_leaks(cleaned["staged"], is_appeal)
    if problems:
        raise QualityGateError(f"source {source}, dt={cleaned['dt']}: " + "; ".join(problems))
    return {**cleaned, "validated": True}


def _appeal_leaks(staged: list[dict], is_appeal) -> list[str]:
    s3, bucket = s3io.client(), config.bucket()
    leaks = []
    with tempfile.TemporaryDirectory(prefix="validate-") as tmp:
        for part in staged:
            path = Path(tmp) / part["name"]
            s3io.download_file(s3, bucket, part["key"], path)
            for batch in pq.ParquetFile(path).iter_batches(columns=["url", "text"]):
                for url, text in zip(batch.column("url").to_pylist(), batch.column("text").to_pylist(), strict=True):
                    for paragraph in (text or "").split("\n\n"):
                        rule = is_appeal(paragraph)
                        if rule:
                            leaks.append(f"appeal text left in {url} (rule {rule}): {paragraph[:80]!r}")
    return leaks


def publish(validated: dict, run_id: str) -> dict:
    """Commit the staged rows as the new version of partition (source, dt) of the clean table, then the state.

    The state of day D is written after D's commit succeeded, under its own key: a later day's clean reads it,
    nothing ever updates it in place. Only this attempt's staging is deleted; other runs' stays theirs.
    """
    from ingest import table

    s3, bucket = s3io.client(), config.bucket()
    source, day, stats = validated["source"], date.fromisoformat(validated["dt"]), validated["stats"]
    info = {
        "run_id": run_id,
        "attempt": validated.get("attempt", ""),
        "cleaner_version": stats["cleaner_version"],
        "rows": stats["articles"],
        "documents": stats["documents"],
        "rejected": stats["rejected"],
        "state_from": stats.get("state_from"),
        "raw_parts": validated["raw_parts"],
    }
    staged = partition.staged_from_dict(validated["staged"])
    with tempfile.TemporaryDirectory(prefix="publish-") as tmp:
        path = Path(tmp) / staged[0].name
        s3io.download_file(s3, bucket, staged[0].key, path)
        if s3io.sha256_file(path) != staged[0].sha256:
            raise OSError(f"checksum mismatch for staged s3://{bucket}/{staged[0].key}")

        def batches() -> pa.RecordBatchReader:
            parquet = pq.ParquetFile(path)
            return pa.RecordBatchReader.from_batches(parquet.schema_arrow, parquet.iter_batches())

        version = table.publish(bucket, source, day, batches, info)
    for part in partition.staged_from_dict(validated.get("staged_state", [])):
        s3io.copy_object(s3, bucket, part.key, state_key(source, day))
    s3io.delete_keys(s3, bucket, [p["key"] for p in validated["staged"] + validated.get("staged_state", [])])
    here = f"/source={source}/dt={day.isoformat()}/"
    files = [f for f in table.open_table(bucket, version).file_uris() if here in f]
    return {
        "source": source,
        "dt": validated["dt"],
        "rows": info["rows"],
        "version": version,
        "schema_version": SCHEMA_VERSION,
        "keys": sorted(files),
        "stats": stats,
    }
