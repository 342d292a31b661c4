"""Archive discovery for a crawl (issue #16): the article candidates a source's opted-in web archives offer for a
window, written for the spider (NEWS_ARCHIVE_CANDIDATES), and what discovery counted, for the crawl summary.

Which archives answer per day: `wayback` (spiders.cdx) and `commoncrawl` (spiders.ccindex), asked in the order
the source lists them; a URL both hold is read from the first. `cc-news` is opted in to in sources.yaml too, but
is a bulk source read by month, not asked per day: the summary says so (`not_per_day`), never a silent empty day.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path

from newsconfig import env as config
from newsconfig.sources import Source
from spiders.ccindex import CcIndexClient
from spiders.cdx import Candidate, CdxClient, Discovery, UrlRules, capture_window, write_candidates

log = logging.getLogger(__name__)
PER_DAY = ("wayback", "commoncrawl")
DISCOVER = ("live", "archives", "both")


def check_discover(discover: str, sources: list[Source]) -> None:
    """ValueError if `discover` is unknown, or asks archives of sources that opted in to none."""
    if discover not in DISCOVER:
        raise ValueError(f"discover must be one of {', '.join(DISCOVER)}, not {discover!r}")
    if discover == "archives":
        none = [s.name for s in sources if not s.archives]
        if none:
            raise ValueError(
                f"discover=archives, but {none} opt in to no archive (`archives:` in the sources file): "
                "leave them out with the `sources` param, or use discover=both"
            )


def discover(source: Source, start: date, end: date, folder: Path, now: datetime | None = None) -> tuple[Path, dict]:
    """Candidates of `source` for [start, end) from its per-day archives: (JSON Lines file, summary by archive)."""
    begin, stop = capture_window(start, end, config.archive_capture_lag_days(), now or datetime.now(UTC))
    candidates: list[Candidate] = []
    summary: dict = {}
    seen: set[str] = set()
    for archive in source.archives:
        if archive not in PER_DAY:
            summary[archive] = {"errors": {"not_per_day": 1}, "complete": True, "candidates": 0}
            continue
        client = CcIndexClient.from_config() if archive == "commoncrawl" else CdxClient.from_config()
        mine = client.discover(UrlRules.of(source), begin, stop, Discovery())
        for candidate in mine.candidates:
            if candidate.url in seen:
                mine.rejected["in_an_earlier_archive"] += 1
                continue
            seen.add(candidate.url)
            candidates.append(candidate)
        summary[archive] = mine.summary()
        log.info("%s: %s offered %d captures in [%s, %s), %d article candidates; %s", source.name, archive,
                 mine.offered, begin, stop, len(mine.candidates), dict(mine.errors) or "no index errors")  # fmt: skip
    path = write_candidates(candidates, folder / "archive-candidates.jsonl")
    return path, summary


def incomplete(summary: dict) -> dict[str, int]:
    """Index problems that may have hidden captures (for the report): {"wayback/resume_loop": 1, …}."""
    return {
        f"{archive}/{reason}": n
        for archive, s in summary.items()
        if not s.get("complete", True)
        for reason, n in s.get("errors", {}).items()
        if not reason.startswith(("retried_", "retry_after")) and n
    }
