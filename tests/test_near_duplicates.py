"""Near-duplicates (issue #15 item 5): the same wire story at three sources on two days, lightly edited by
each, beside different stories on the same topic. Day 2's copies point to the earliest copy of day 1; nothing
points to a different story; the window and the threshold come from newsconfig."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ingest import neardup, table
from tests.raw_pages import clean_and_publish, page, published_rows, sources_file, write_raw

DAY1 = date(2026, 11, 20)
DAY2 = DAY1 + timedelta(days=1)
WIRE = [
    "Rescue teams reached the flooded village of Oakridge on Saturday after the river burst its banks overnight.",
    "About two hundred residents spent the night in the school gym, and the regional governor declared an "
    "emergency for the whole valley.",
    "Forecasters expect the water to fall slowly over the next three days, but more rain is due on Tuesday.",
    "The railway line to the coast remains closed, and engineers are checking two road bridges for damage.",
]
# other stories on the same topic (floods), each its own text
OTHERS = {
    "a": "Farmers in the lower valley counted their losses as fields of winter wheat stood under a metre of "
    "water. Several said their insurance does not cover river floods, and the farmers' union asked the "
    "ministry for an emergency fund before the spring sowing begins.",
    "b": "The city's flood barrier held for the first time since it was built in 2019, the council said. "
    "Engineers closed the steel gates at dusk and kept pumps running all night; shop owners on the "
    "riverside street were relieved to find their cellars dry in the morning.",
    "c": "Insurers have received more than four thousand claims after a week of storms, the industry "
    "association said. Most of them concern roofs and cars damaged by fallen trees, and payments will "
    "take at least a month because assessors cannot yet reach the worst-hit areas.",
}


def copy(source: str, day: date) -> list[str]:
    """The wire story as `source` runs it on `day`: its own dateline and trailer, a word changed."""
    lead = f"OAKRIDGE ({source.upper()} {day:%d %b}) — " + WIRE[0]
    return [lead, WIRE[1].replace("about", "some") if source == "b" else WIRE[1], *WIRE[2:],
            f"Updated by the {source} news desk on {day:%A}."]  # fmt: skip


def publish_day(bucket, tmp_path, day: date, extra: dict[str, list] | None = None) -> None:
    for source in "abc":
        pages = [
            (f"https://{source}.example/{day}/wire", page(copy(source, day), "Flood"), []),
            (f"https://{source}.example/{day}/other", page([OTHERS[source], f"Filed on {day}."], "Flood"), []),
            *(extra or {}).get(source, []),
        ]
        write_raw(bucket, tmp_path, source, day, pages)
        clean_and_publish(source, day)


@pytest.fixture
def sources(tmp_path, monkeypatch):
    return sources_file(
        tmp_path, monkeypatch, "".join(f"  - name: {s}\n    feeds: [https://{s}.example/feed]\n" for s in "abc")
    )


def links(bucket: str, day: date) -> dict[str, str | None]:
    return {
        url: row["near_duplicate_of"]
        for source in "abc"
        for url, row in published_rows(bucket, source).items()
        if row["dt"] == day
    }


def test_the_wire_story_counts_once_across_sources_and_days(bucket, tmp_path, sources) -> None:
    publish_day(bucket, tmp_path, DAY1)
    # day 1: other sources' partitions of the same day are not compared (they may not be published yet)
    assert set(links(bucket, DAY1).values()) == {None}
    resent = (f"https://a.example/{DAY2}/wire-again", page(copy("a", DAY2)[::-1], "Flood again"), [])
    publish_day(bucket, tmp_path, DAY2, {"a": [resent]})
    first = f"https://a.example/{DAY1}/wire"  # the earliest copy: same date, then day, then source
    assert links(bucket, DAY2) == {
        f"https://a.example/{DAY2}/wire": first,
        f"https://a.example/{DAY2}/wire-again": first,
        f"https://b.example/{DAY2}/wire": first,
        f"https://c.example/{DAY2}/wire": first,
        f"https://a.example/{DAY2}/other": f"https://a.example/{DAY1}/other",  # the same story re-run on day 2
        f"https://b.example/{DAY2}/other": f"https://b.example/{DAY1}/other",
        f"https://c.example/{DAY2}/other": f"https://c.example/{DAY1}/other",
    }
    rows = published_rows(bucket, "a")
    assert len(rows[first]["minhash"]) == 4 * neardup.NUM_PERM


def test_the_days_sources_are_linked_once_all_are_published(bucket, tmp_path, sources) -> None:
    publish_day(bucket, tmp_path, DAY1)
    before = table.open_table(bucket).version()
    result = neardup.link_day(bucket, DAY1, 7, 0.5)
    first = f"https://a.example/{DAY1}/wire"
    assert result == {"linked": {"b": 1, "c": 1}, "changed": 2}
    assert links(bucket, DAY1) == {
        first: None,
        f"https://b.example/{DAY1}/wire": first,
        f"https://c.example/{DAY1}/wire": first,
        **{f"https://{s}.example/{DAY1}/other": None for s in "abc"},
    }
    assert table.history(bucket)[0]["maintenance"] == "near_duplicates" and table.open_table(bucket).version() == (
        before + 1
    )
    assert neardup.link_day(bucket, DAY1, 7, 0.5)["changed"] == 0  # a re-run commits nothing
    assert table.open_table(bucket).version() == before + 1


def test_the_window_and_threshold_are_configured(bucket, tmp_path, sources, monkeypatch) -> None:
    publish_day(bucket, tmp_path, DAY1)
    monkeypatch.setenv("NEWS_NEAR_DUP_DAYS", "0")
    publish_day(bucket, tmp_path, DAY2)
    assert set(links(bucket, DAY2).values()) == {None}  # earlier days are outside the window
    monkeypatch.setenv("NEWS_NEAR_DUP_DAYS", "1")
    monkeypatch.setenv("NEWS_NEAR_DUP_THRESHOLD", "0.95")  # only (almost) identical shingle sets
    publish_day(bucket, tmp_path, DAY2)
    assert links(bucket, DAY2)[f"https://b.example/{DAY2}/wire"] is None
    monkeypatch.setenv("NEWS_NEAR_DUP_THRESHOLD", "1.5")
    with pytest.raises(ValueError, match="NEWS_NEAR_DUP_THRESHOLD must be a number in"):
        publish_day(bucket, tmp_path, DAY2)


def test_signatures_round_trip_and_short_texts_have_none() -> None:
    text = " ".join(WIRE)
    signature = neardup.minhash(text)
    assert neardup.from_bytes(neardup.to_bytes(signature)).jaccard(signature) == 1.0
    assert neardup.minhash("Too short to be a story.") is None and neardup.from_bytes(b"\x00" * 3) is None
