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
    languages, flags = Counter(), Counter()
    for name, stages in sorted(per_source.items()):
        failed_stage = next((s for s in STAGES if stages.get(s) is None), None)
        crawl = (stages.get("crawl") or {}).get("summary", {})
        clean = (stages.get("clean") or {}).get("stats", {})
        rejects.update(crawl.get("rejected", {}))
        rejects.update(clean.get("rejected", {}))
        removals.update(clean.get("removed_by_rule", {}))
        languages.update(clean.get("language_disagreements", {}))
        flags.update(clean.get("flags", {}))
        fetches = failed_fetches(crawl)
        fetch_failures.update(fetches["articles"])
        fetch_failures.update(fetches["documents"])
        # feeds and sitemaps lost or cut short (a summary from before `lost_documents`: its fetch failures)
        discovery = dict(crawl.get("lost_documents", crawl.get("failed_documents", {})))
        lost.update(discovery)
        finish_reason, unfinished = crawl.get("finish_reason"), crawl.get("unfinished", 0)
        archive = _archive(crawl)
        partial = fetches["total"] > 0 or bool(discovery) or unfinished > 0 or finish_reason not in (None, "finished")
        partial = partial or bool(archive and archive["index_incomplete"])
        status = "failed" if failed_stage else "published_with_failures" if partial else "published"
        sources[name] = {
            "status": status,
            "failed_stage": failed_stage,
            "error": stages.get("error"),
            "fetched": crawl.get("stored", crawl.get("fetched")),
            "articles": clean.get("articles"),
            # crawl and clean may count the same reason (e.g. too_large): add them, never let one hide the other
            "rejected": dict(Counter(crawl.get("rejected", {})) + Counter(clean.get("rejected", {}))),
            "removed_by_rule": clean.get("removed_by_rule", {}),
            # articles whose declared language (<html lang>, else sources.yaml's) is not the one detected
            "language_disagreements": clean.get("language_disagreements", {}),
            # published articles by flag: not_free, truncated, rights_reserved, near_duplicate (ingest.pipeline.FLAGS)
            "flags": clean.get("flags", {}),
            "coverage": clean.get("coverage"),  # articles with a title, a date, authors, a language (None: not cleaned)
            "keys": (stages.get("publish") or {}).get("keys", []),  # the data files of the committed version
            "table_version": (stages.get("publish") or {}).get("version"),
            "failed_fetches": fetches,
            "discovery_errors": discovery,
            "finish_reason": finish_reason,  # None: the crawl stage did not return
            "unfinished": unfinished,
            "not_modified": crawl.get("not_modified", 0),  # feeds and sitemaps answered 304 (spiders.revisits)
            "elapsed_seconds": crawl.get("elapsed_seconds"),
            "time_budget_seconds": crawl.get("time_budget_seconds"),
            "archive": archive,  # None for a live-only crawl
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
        "language_disagreements": dict(languages),
        "flags": dict(flags),
    }


def _archive(crawl: dict) -> dict | None:
    """What the web archives offered a crawl (issue #16): captures and candidates by archive, how many were fetched,
    stored and rejected (by reason), and the index problems that may have hidden captures (`index_incomplete`)."""
    discovery = crawl.get("archive_discovery")
    if discovery is None:
        return None
    from ingest.archives import incomplete

    fetch = crawl.get("archive", {})
    return {
        "offered": {a: s.get("offered", 0) for a, s in discovery.items()},
        "candidates": {a: s.get("candidates", 0) for a, s in discovery.items()},
        "index_errors": {a: s.get("errors", {}) for a, s in discovery.items() if s.get("errors")},
        "index_incomplete": incomplete(discovery),
        "fetched": fetch.get("fetched", 0),
        "stored": fetch.get("stored", 0),
        "rejected": {k.removeprefix("rejected/"): n for k, n in fetch.items() if k.startswith("rejected/")},
        "live_skipped": fetch.get("live_skipped", 0),
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


STATUS_TEXT = {"published": "published", "published_with_failures": "published, with failures", "failed": "failed"}
STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;
color:#1d232a}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #d8dee4}
h3{font-size:1rem;margin:1.2rem 0 .3rem} p.meta{color:#57606a;margin-top:0}
table{border-collapse:collapse;margin:.4rem 0 1rem} th,td{padding:.3rem .7rem;border-bottom:1px solid #e4e8ec;
text-align:left;vertical-align:top} th{background:#f4f6f8;font-weight:600} td.n,th.n{text-align:right;
font-variant-numeric:tabular-nums} .status{padding:.1rem .5rem;border-radius:.7rem;font-size:.85rem;
white-space:nowrap} .published{background:#dafbe1;color:#116329} .published_with_failures{background:#fff8c5;
color:#7d4e00} .failed{background:#ffebe9;color:#a40e26} pre{background:#f6f8fa;padding:.6rem;white-space:pre-wrap;
overflow-wrap:anywhere} code{font-size:.85rem} .none{color:#8c959f}
"""


def totals(report: dict) -> dict[str, int]:
    """Sums over the sources: pages stored, articles published, pages rejected, fetches failed, spans removed."""
    sources = report["sources"].values()
    return {
        "sources": len(report["sources"]),
        "failed_sources": len(report["failed"]),
        "pages_stored": sum(s.get("fetched") or 0 for s in sources),
        "articles": sum(s.get("articles") or 0 for s in sources),
        "rejected": sum(sum(s.get("rejected", {}).values()) for s in sources),
        "failed_fetches": sum(s.get("failed_fetches", {}).get("total", 0) for s in sources),
        "removed": sum(sum(s.get("removed_by_rule", {}).values()) for s in sources),
        "language_disagreements": sum(sum(s.get("language_disagreements", {}).values()) for s in sources),
    }


def _n(value: int | float | None) -> str:
    """A count as a person reads it (1,234), or an empty cell when the stage did not run."""
    if value is None:
        return ""
    return f"{value:,.0f}" if isinstance(value, int) or float(value).is_integer() else f"{value:,.1f}"


def _counts_table(title: str, counts: dict[str, int], what: str) -> str:
    """A two-column table, largest count first; "none" when empty."""
    if not counts:
        return f"<h3>{html.escape(title)}</h3><p class=none>none</p>"
    rows = "".join(
        f"<tr><td><code>{html.escape(k)}</code></td><td class=n>{_n(v)}</td></tr>"
        for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return f"<h3>{html.escape(title)}</h3><table><tr><th>{what}</th><th class=n>count</th></tr>{rows}</table>"


def _status(status: str) -> str:
    return f"<span class='status {status}'>{STATUS_TEXT.get(status, html.escape(status))}</span>"


def _source_section(name: str, s: dict) -> str:
    fetches = s.get("failed_fetches", {})
    parts = [f"<h2 id='{html.escape(name)}'>{html.escape(name)} {_status(s['status'])}</h2>"]
    if s.get("error"):
        parts.append(f"<h3>Error (stage {html.escape(s.get('failed_stage') or '?')})</h3>"
                     f"<pre>{html.escape(s['error'])}</pre>")  # fmt: skip
    elapsed, budget = s.get("elapsed_seconds"), s.get("time_budget_seconds")
    took = f"{_n(elapsed)} s" + (f" of {_n(budget)} s" if budget else "") if elapsed else ""
    crawl = [
        ("pages stored", _n(s.get("fetched"))),
        ("articles published", _n(s.get("articles"))),
        ("crawl ended", _crawl_end_cell(s) or "did not return"),
        ("feeds and sitemaps not modified (304)", _n(s.get("not_modified"))),
        ("crawl time", took),
    ]
    if s.get("archive"):
        crawl.append(("web archives", html.escape(archive_line(s["archive"]).removeprefix("archives: "))))
    parts.append("<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in crawl) + "</table>")
    parts.append(_counts_table("Rejected pages, by reason", s.get("rejected", {}), "reason"))
    parts.append(_counts_table("Failed fetches of article pages, by reason", fetches.get("articles", {}), "reason"))
    parts.append(_counts_table("Failed fetches of feeds and sitemaps, by reason", fetches.get("documents", {}),
                               "reason"))  # fmt: skip
    parts.append(_counts_table("Feeds and sitemaps lost or cut short, by reason", s.get("discovery_errors", {}),
                               "reason"))  # fmt: skip
    parts.append(_counts_table("Removed spans, by rule", s.get("removed_by_rule", {}), "rule"))
    parts.append(_counts_table("Published articles, by flag", s.get("flags", {}), "flag"))
    parts.append(_counts_table("Declared language is not the detected one", s.get("language_disagreements", {}),
                               "declared->detected"))  # fmt: skip
    if s.get("coverage") and s.get("articles"):
        rows = "".join(f"<tr><td>{html.escape(f)}</td><td class=n>{_n(n)}</td><td class=n>{n / s['articles']:.0%}</td>"
                       "</tr>" for f, n in s["coverage"].items())  # fmt: skip
        parts.append("<h3>Field coverage</h3><table><tr><th>field</th><th class=n>articles with it</th>"
                     f"<th class=n>share</th></tr>{rows}</table>")  # fmt: skip
    if s.get("keys"):
        keys = "".join(f"<li><code>{html.escape(k)}</code></li>" for k in s["keys"])
        parts.append(f"<h3>Published</h3><ul>{keys}</ul>")
    return "".join(parts)


def _alerts_section(alerts: dict | None) -> str:
    """The anomalies against the earlier days, and the sources not compared with why (history too short …)."""
    if alerts is None:
        return ""
    found = alerts.get("anomalies", [])
    parts = [f"<h2 id='anomalies'>Anomalies against the last {_n(alerts.get('thresholds', {}).get('history_days'))} "
             f"days ({len(alerts.get('history_days', []))} reports found)</h2>"]  # fmt: skip
    if found:
        rows = "".join(
            f"<tr><td>{html.escape(a['source'])}</td><td><code>{html.escape(a['check'])}</code></td>"
            f"<td><code>{html.escape(a['field'])}</code></td><td>{html.escape(a['message'])}</td></tr>"
            for a in found
        )
        parts.append(f"<table><tr><th>source</th><th>check</th><th>of</th><th>what</th></tr>{rows}</table>")
    else:
        parts.append("<p class=none>none</p>")
    skipped = alerts.get("not_checked", {})
    if skipped:
        rows = "".join(f"<tr><td>{html.escape(n)}</td><td>{html.escape(why)}</td></tr>" for n, why in skipped.items())
        parts.append(f"<h3>Not compared</h3><table><tr><th>source</th><th>why</th></tr>{rows}</table>")
    if alerts.get("unreadable_reports"):
        parts.append("<p>unreadable earlier reports, left out: "
                     f"{html.escape(', '.join(alerts['unreadable_reports']))}</p>")  # fmt: skip
    return "".join(parts)


def to_html(report: dict) -> str:
    """The report as a page a person reads: totals, one row per source, then each source in detail."""
    t = totals(report)
    rows = "".join(
        f"<tr><td><a href='#{html.escape(n)}'>{html.escape(n)}</a></td><td>{_status(s['status'])}</td>"
        f"<td class=n>{_n(s.get('fetched'))}</td><td class=n>{_n(s.get('articles'))}</td>"
        f"<td class=n>{_n(sum(s.get('rejected', {}).values()))}</td>"
        f"<td>{_fetches_cell(s.get('failed_fetches', {}))}</td>"
        f"<td class=n>{_n(sum(s.get('discovery_errors', {}).values()))}</td><td>{_crawl_end_cell(s)}</td>"
        f"<td class=n>{_n(sum(s.get('removed_by_rule', {}).values()))}</td></tr>"
        for n, s in report["sources"].items()
    )
    incomplete = ", ".join(report.get("published_with_failures", [])) or "none"
    title = f"news_daily, dt={report['dt']}"
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title><style>{STYLE}</style>"
        f"<h1>{html.escape(title)}</h1><p class=meta>run <code>{html.escape(report['run_id'])}</code> · "
        f"{_n(t['articles'])} articles published from {_n(t['pages_stored'])} pages stored, "
        f"{_n(t['sources'])} sources · failed: {html.escape(', '.join(report['failed']) or 'none')} · "
        f"published with failures: {html.escape(incomplete)}</p>"
        "<table><tr><th>source</th><th>status</th><th class=n>pages stored</th><th class=n>articles</th>"
        "<th class=n>rejected</th><th>failed fetches</th><th class=n>discovery errors</th><th>crawl end</th>"
        "<th class=n>removed spans</th></tr>"
        f"{rows}</table>"
        + _alerts_section(report.get("alerts"))
        + _counts_table("Rejected pages, all sources", report.get("rejected_by_reason", {}), "reason")
        + _counts_table("Removed spans, all sources", report.get("removed_by_rule", {}), "rule")
        + _counts_table("Published articles by flag, all sources", report.get("flags", {}), "flag")
        + _counts_table("Declared language is not the detected one, all sources",
                        report.get("language_disagreements", {}), "declared->detected")  # fmt: skip
        + "".join(_source_section(n, s) for n, s in report["sources"].items())
        + "</html>"
    )


def text_table(
    headers: list[str], rows: list[list[object]], numeric: set[int] = frozenset(), indent: str = "   "
) -> str:
    """Rows under labelled columns, the `numeric` ones right-aligned: what a person reads in a terminal or log."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "  ".join(
            c.rjust(w) if i in numeric and n else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for n, r in enumerate(cells)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(indent + line.rstrip() for line in lines)


def to_text(report: dict) -> str:
    """The report as a plain-text table, for a task log or a terminal."""
    headers = ["source", "status", "pages stored", "articles", "rejected", "failed fetches", "crawl end"]
    rows = [
        [n, STATUS_TEXT.get(s["status"], s["status"]), _n(s.get("fetched")), _n(s.get("articles")),
         _n(sum(s.get("rejected", {}).values())), html.unescape(_fetches_cell(s.get("failed_fetches", {}))),
         html.unescape(_crawl_end_cell(s))]
        for n, s in report["sources"].items()
    ]  # fmt: skip
    t, failed = totals(report), ", ".join(report["failed"]) or "none"
    lines = [
        f"news_daily dt={report['dt']} run {report['run_id']}: {t['articles']:,} articles from "
        f"{t['pages_stored']:,} pages stored; failed sources: {failed}",
        text_table(headers, rows, {2, 3, 4}, indent=""),
    ]
    lines += [
        f"{n}: {s.get('failed_stage')} failed: {s['error'].splitlines()[0][:300]}"
        for n, s in report["sources"].items()
        if s.get("error")
    ]
    lines += [f"{n}: {archive_line(s['archive'])}" for n, s in report["sources"].items() if s.get("archive")]
    alerts = report.get("alerts") or {}
    lines += [f"anomaly: {a['message']}" for a in alerts.get("anomalies", [])]
    lines += [f"{n}: not compared with earlier days: {why}" for n, why in alerts.get("not_checked", {}).items()]
    return "\n".join(lines)


def archive_line(archive: dict) -> str:
    """E.g. "archives: wayback offered 120 captures, 40 candidates; fetched 40, stored 12, rejected
    out_of_window_page 27, archive_http_404 1; index incomplete: wayback/resume_loop 1"."""
    offered = ", ".join(f"{a} offered {n} captures, {archive['candidates'].get(a, 0)} candidates"
                        for a, n in archive["offered"].items())  # fmt: skip
    rejected = ", ".join(f"{r} {n}" for r, n in sorted(archive["rejected"].items())) or "none"
    text = f"archives: {offered or 'none asked'}; fetched {archive['fetched']}, stored {archive['stored']}, "
    text += f"rejected {rejected}"
    if archive["index_incomplete"]:
        text += "; index incomplete: " + ", ".join(f"{k} {n}" for k, n in sorted(archive["index_incomplete"].items()))
    return text


def locations(report: dict, expires: int = 7 * 24 * 3600) -> list[str]:
    """Where the report is: its S3 URIs and a link a browser opens (presigned, valid `expires` seconds)."""
    s3, bucket = s3io.client(), config.bucket()
    html_key = next(k for k in report["report_keys"] if k.endswith(".html"))
    link = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": html_key}, ExpiresIn=expires)
    return [
        "report: " + ", ".join(f"s3://{bucket}/{k}" for k in report["report_keys"]),
        f"report in a browser (link valid {expires // 3600} h): {link}",
    ]


def write(report: dict) -> list[str]:
    """Write report.json and report.html for the day (a rerun of the day replaces them)."""
    s3, bucket = s3io.client(), config.bucket()
    prefix = f"reports/dt={report['dt']}/"
    document = {**report, "totals": totals(report)}
    s3io.put_bytes(
        s3, bucket, prefix + "report.json", json.dumps(document, indent=2, sort_keys=True).encode(), "application/json"
    )
    s3io.put_bytes(s3, bucket, prefix + "report.html", to_html(report).encode(), "text/html; charset=utf-8")
    return [prefix + "report.json", prefix + "report.html"]
