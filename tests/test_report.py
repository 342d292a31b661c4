"""The run report as a person reads it: a styled HTML page and a text table, per source what was stored,
rejected and failed with the reasons, numbers rather than JSON, and a link that opens it in a browser."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import date
from html.parser import HTMLParser

from ingest import report as reporting
from ingest import s3 as s3io


def _stages(crawl: dict, clean: dict, error: str | None = None) -> dict:
    """What the report task gathers for a source: each stage's result (None: not reached) and the error."""
    published = error is None
    return {
        "crawl": {"summary": crawl},
        "clean": {"stats": clean},
        "validate": {} if published else None,
        "publish": {"keys": ["clean/x/part-00000.parquet"]} if published else None,
        "error": error,
    }


def _report() -> dict:
    millbrook_crawl = {
        "stored": 1234, "finish_reason": "finished", "rejected": {"out_of_window": 40, "http_503": 2},
        "failed_fetches": {"http_503": 2}, "failed_documents": {"timeout": 1}, "elapsed_seconds": 61.5,
        "time_budget_seconds": 2880.0,
    }  # fmt: skip
    millbrook_clean = {"articles": 1200, "rejected": {"empty text": 34},
                       "removed_by_rule": {"appeal:block": 7, "structure:x": 3}}  # fmt: skip
    return reporting.summarise(
        date(2023, 4, 26),
        "manual__2026-12-04",
        {
            "millbrook": _stages(millbrook_crawl, millbrook_clean),
            "eastmere": _stages(
                {"stored": 0, "finish_reason": "finished"},
                {"articles": 0},
                "QualityGateError: no article for 2023-04-26",
            ),  # fmt: skip
        },
    )


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.inside = False

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "th"):
            self.inside = True
            self.cells.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.inside = False

    def handle_data(self, data):
        if self.inside:
            self.cells[-1] += data


def test_the_html_report_is_styled_tables_with_reasons_per_source():
    page = reporting.to_html(_report())
    assert page.startswith("<!doctype html>") and "<style>" in page and "<table>" in page
    cells = _Cells()
    cells.feed(page)
    text = [c.strip() for c in cells.cells]
    assert not [c for c in text if c.startswith(("{", "["))], "JSON in a table cell"
    assert "1,234" in text and "1,200" in text  # numbers as a person reads them
    for reason in ("out_of_window", "http_503", "empty text", "timeout", "appeal:block"):
        assert reason in text, reason
    assert re.search(r"<h2 id='eastmere'>eastmere <span class='status failed'>failed</span></h2>", page)
    assert "QualityGateError: no article for 2023-04-26" in page
    assert "<span class='status published_with_failures'>published, with failures</span>" in page
    assert "61.5 s of 2,880 s" in page


def test_the_text_report_is_a_table_for_the_task_log():
    text = reporting.to_text(_report())
    lines = text.splitlines()
    assert lines[0] == ("news_daily dt=2023-04-26 run manual__2026-12-04: 1,200 articles from 1,234 pages stored; "
                        "failed sources: eastmere")  # fmt: skip
    assert re.match(r"source\s+status\s+pages stored\s+articles\s+rejected\s+failed fetches\s+crawl end$", lines[1])
    millbrook = next(line for line in lines if line.startswith("millbrook"))
    assert re.search(
        r"published, with failures\s+1,234\s+1,200\s+76\s+3: articles http_503 2; documents timeout 1", millbrook
    )
    assert lines[-1] == "eastmere: validate failed: QualityGateError: no article for 2023-04-26"


def test_the_written_report_has_totals_and_a_link_a_browser_opens(bucket):
    report = _report()
    report["report_keys"] = reporting.write(report)
    s3 = s3io.client()
    written = json.loads(s3io.get_bytes(s3, bucket, "reports/dt=2023-04-26/report.json"))
    assert written["totals"] == {"sources": 2, "failed_sources": 1, "pages_stored": 1234, "articles": 1200,
                                 "rejected": 76, "failed_fetches": 3, "removed": 10,
                                 "language_disagreements": 0}  # fmt: skip
    where, link = reporting.locations(report)
    assert (
        where
        == f"report: s3://{bucket}/reports/dt=2023-04-26/report.json, s3://{bucket}/reports/dt=2023-04-26/report.html"
    )
    url = link.split(": ", 1)[1]
    with urllib.request.urlopen(url, timeout=20) as resp:  # no credentials: the link carries its signature
        assert resp.headers["Content-Type"].startswith("text/html") and b"<table>" in resp.read()
