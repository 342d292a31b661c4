"""The per-run summary written to reports/dt=<day>/: counts per source, rejects by reason, removals by rule."""

from __future__ import annotations

import html
import json
from collections import Counter
from datetime import date

from ingest import config
from ingest import s3 as s3io

STAGES = ("crawl", "clean", "validate", "publish")


def summarise(day: date, run_id: str, per_source: dict[str, dict]) -> dict:
    """`per_source` maps a source to {stage: result or None, "error": message or None}."""
    sources, failed = {}, []
    rejects, removals = Counter(), Counter()
    for name, stages in sorted(per_source.items()):
        failed_stage = next((s for s in STAGES if stages.get(s) is None), None)
        crawl = (stages.get("crawl") or {}).get("summary", {})
        clean = (stages.get("clean") or {}).get("stats", {})
        rejects.update(crawl.get("rejected", {}))
        rejects.update(clean.get("rejected", {}))
        removals.update(clean.get("removed_by_rule", {}))
        sources[name] = {
            "status": "failed" if failed_stage else "published",
            "failed_stage": failed_stage,
            "error": stages.get("error"),
            "fetched": crawl.get("stored", crawl.get("fetched")),
            "articles": clean.get("articles"),
            "rejected": {**crawl.get("rejected", {}), **clean.get("rejected", {})},
            "removed_by_rule": clean.get("removed_by_rule", {}),
            "keys": (stages.get("publish") or {}).get("keys", []),
        }
        if failed_stage:
            failed.append(name)
    return {
        "dt": day.isoformat(),
        "run_id": run_id,
        "sources": sources,
        "failed": failed,
        "rejected_by_reason": dict(rejects),
        "removed_by_rule": dict(removals),
    }


def to_html(report: dict) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(n)}</td><td>{s['status']}</td><td>{s['articles'] if s['articles'] is not None else ''}"
        f"</td><td>{html.escape(json.dumps(s['rejected']))}</td><td>{html.escape(json.dumps(s['removed_by_rule']))}"
        f"</td><td>{html.escape(s['error'] or '')}</td></tr>"
        for n, s in report["sources"].items()
    )
    return (
        "<!doctype html><meta charset=utf-8><title>news_daily " + report["dt"] + "</title>"
        f"<h1>news_daily, dt={report['dt']}</h1><p>run {html.escape(report['run_id'])}; "
        f"failed: {html.escape(', '.join(report['failed']) or 'none')}</p>"
        "<table border=1><tr><th>source<th>status<th>articles<th>rejected<th>removed by rule<th>error</tr>"
        f"{rows}</table>"
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
