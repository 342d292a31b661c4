"""The per-run summary written to reports/dt=<day>/: counts per source, rejects by reason, removals by rule.

A source's status is "published", "published_with_failures" (published, but pages or feeds could not be
fetched, a feed or sitemap was lost or cut short (`discovery_errors`: too large, malformed, refused, too
deep, truncated, an unreachable robots.txt …), or the crawl stopped on its time budget before fetching
everything it knew of: the partition may lack articles) or "failed" (not published; `failed_stage` and
`error` say why). Fetch failures are counted
per source as `failed_fetches`: a total, and by reason (http_503, timeout, …) for article pages (also among
`rejected`) and for feeds and sitemaps; `finish_reason` and `unfinished` come from the crawl.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from datetime import date

from ingest import s3 as s3io
from newsconfig import env as config

STAGES = ("crawl", "clean", "validate", "publish")


def failed_fetches(crawl: dict) -> dict:
    """What a crawl summary says could not be fetched: {"total": n, "articles": {reason: n}, "documents": {…}}."""
    articles, documents = dict(crawl.get("failed_fetches", {})), dict(crawl.get("failed_documents", {}))
    return {"total": sum(articles.values()) + sum(documents.values()), "articles": articles, "documents": documents}


def summarise(day: date, run_id: str, per_source: dict[str, dict]) -> dict:
    """`per_source` maps a source to {stage: result or None, "error": message or None}."""
    sources, failed, incomplete = {}, [], []
    rejects, removals, fetch_failures, lost = Counter(), Counter(), Counter(), Counter()
    for name, stages in sorted(per_source.items()):
        failed_stage = next((s for s in STAGES if stages.get(s) is None), None)
        crawl = (stages.get("crawl") or {}).get("summary", {})
        clean = (stages.get("clean") or {}).get("stats", {})
        rejects.update(crawl.get("rejected", {}))
        rejects.update(clean.get("rejected", {}))
        removals.update(clean.get("removed_by_rule", {}))
        fetches = failed_fetches(crawl)
        fetch_failures.update(fetches["articles"])
        fetch_failures.update(fetches["documents"])
        # feeds and sitemaps lost or cut short (a summary from before `lost_documents`: its fetch failures)
        discovery = dict(crawl.get("lost_documents", crawl.get("failed_documents", {})))
        lost.update(discovery)
        finish_reason, unfinished = crawl.get("finish_reason"), crawl.get("unfinished", 0)
        partial = fetches["total"] > 0 or bool(discovery) or unfinished > 0 or finish_reason not in (None, "finished")
        status = "failed" if failed_stage else "published_with_failures" if partial else "published"
        sources[name] = {
            "status": status,
            "failed_stage": failed_stage,
            "error": stages.get("error"),
            "fetched": crawl.get("stored", crawl.get("fetched")),
            "articles": clean.get("articles"),
            "rejected": {**crawl.get("rejected", {}), **clean.get("rejected", {})},
            "removed_by_rule": clean.get("removed_by_rule", {}),
            "keys": (stages.get("publish") or {}).get("keys", []),
            "failed_fetches": fetches,
            "discovery_errors": discovery,
            "finish_reason": finish_reason,  # None: the crawl stage did not return
            "unfinished": unfinished,
            "elapsed_seconds": crawl.get("elapsed_seconds"),
            "time_budget_seconds": crawl.get("time_budget_seconds"),
        }
        if failed_stage:
            failed.append(name)
        elif partial:
            incomplete.append(name)
    return {
        "dt": day.isoformat(),
        "run_id": run_id,
        "sources": sources,
        "failed": failed,
        "published_with_failures": incomplete,
        "rejected_by_reason": dict(rejects),
        "removed_by_rule": dict(removals),
        "failed_fetches_by_reason": dict(fetch_failures),
        "discovery_errors_by_reason": dict(lost),
    }


def _fetches_cell(fetches: dict) -> str:
    """E.g. "2: articles http_503 1; documents timeout 1", or "0"."""
    parts = [
        f"{kind} " + ", ".join(f"{reason} {n}" for reason, n in sorted(fetches.get(kind, {}).items()))
        for kind in ("articles", "documents")
        if fetches.get(kind)
    ]
    return html.escape(f"{fetches.get('total', 0)}" + (": " + "; ".join(parts) if parts else ""))


def _crawl_end_cell(s: dict) -> str:
    """E.g. "closespider_timeout, 4 unfinished", "finished", or empty when the crawl did not return."""
    text = s.get("finish_reason") or ""
    if s.get("unfinished"):
        text += f", {s['unfinished']} unfinished"
    return html.escape(text)


def to_html(report: dict) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(n)}</td><td>{s['status']}</td><td>{s['articles'] if s['articles'] is not None else ''}"
        f"</td><td>{_fetches_cell(s.get('failed_fetches', {}))}</td>"
        f"<td>{html.escape(json.dumps(s.get('discovery_errors', {})))}</td><td>{_crawl_end_cell(s)}"
        f"</td><td>{html.escape(json.dumps(s['rejected']))}</td><td>{html.escape(json.dumps(s['removed_by_rule']))}"
        f"</td><td>{html.escape(s['error'] or '')}</td></tr>"
        for n, s in report["sources"].items()
    )
    incomplete = ", ".join(report.get("published_with_failures", [])) or "none"
    return (
        "<!doctype html><meta charset=utf-8><title>news_daily " + report["dt"] + "</title>"
        f"<h1>news_daily, dt={report['dt']}</h1><p>run {html.escape(report['run_id'])}; "
        f"failed: {html.escape(', '.join(report['failed']) or 'none')}; "
        f"published with failures: {html.escape(incomplete)}</p>"
        "<table border=1><tr><th>source<th>status<th>articles<th>failed fetches<th>discovery errors<th>crawl end"
        f"<th>rejected<th>removed by rule<th>error</tr>{rows}</table>"
    )


def write(report: dict) -> list[str]:
    """Write report.json and report.html for the day (a rerun of the day replaces them)."""
    s3, bucket = s3io.client(), config.bucket()
    prefix = f"reports/dt={report['dt']}/"
    s3io.put_bytes(
        s3, bucket, prefix + "report.json", json.dumps(report, indent=2, sort_keys=True).encode(), "application/json"
    )
    s3io.put_bytes(s3, bucket, prefix + "report.html", to_html(report).encode(), "text/html; charset=utf-8")
    return [prefix + "report.json", prefix + "report.html"]
