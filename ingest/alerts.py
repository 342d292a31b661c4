"""Alerts: a notice when a run fails, and when a source's day is unlike its earlier days.

Anomalies are computed from the reports the pipeline already writes (`reports/dt=D/report.json`). A source's
day is compared with the earlier days, within `history_days`, whose report lists it as published:

- volume: articles published below `volume_low` × or above `volume_high` × the median earlier day's;
- coverage: the share of articles with a title, a publication date, authors, a language fallen by at least
  `coverage_drop` (a share, 0.2 = 20 points) below the earlier days' share;
- removals: removed spans per article, for a rule (or all rules together), up to `removal_ratio` × the earlier
  days' rate and by at least `removal_rise` per article (a publisher's new banner).

A source with fewer than `min_history_days` such earlier days is not compared (the report says so), and a day
with fewer than `min_articles` articles is not compared for coverage and removals (shares of a handful of
articles are noise); a median day below `min_articles` is not checked for a drop. Thresholds: `NEWS_ALERT_*`
(`newsconfig.env.alert_thresholds`, defaults in the README's "Alerts").

Notices go through Airflow notifiers (`BaseNotifier`): e-mail over SMTP to `NEWS_ALERT_EMAIL`, and a JSON POST
to `NEWS_ALERT_WEBHOOK` (plain JSON, or a Slack incoming webhook's format). The DAG's `on_failure_callback` is
`RunFailureNotifier`; the report task lists the anomalies in the report and sends them (`send_anomalies`).
"""

from __future__ import annotations

import email.policy
import json
import logging
import smtplib
import ssl
import statistics
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

from airflow.sdk import BaseNotifier

from newsconfig import env as config

log = logging.getLogger(__name__)
# The article fields whose coverage the clean stage counts (pipeline.COVERAGE_FIELDS), as a person names them.
COVERAGE_LABELS = {"title": "title", "published_at": "publication date", "authors": "authors", "language": "language"}
SEND_TIMEOUT = 30.0  # seconds for one SMTP session or one webhook POST: a dead destination cannot hang a task


class AlertDeliveryError(Exception):
    """A notice could not be delivered to one or more destinations (the message names them and why)."""


# --- anomalies ---------------------------------------------------------------------------------------------------


def report_key(day: date) -> str:
    return f"reports/dt={day.isoformat()}/report.json"


def earlier_reports(day: date, days: int) -> tuple[dict[str, dict], list[str]]:
    """The reports of the `days` days before `day` found in S3, by day; and the days whose report is unreadable."""
    from ingest import s3 as s3io  # here, not at the top: the DAG file imports this module at parse time

    s3, bucket = s3io.client(), config.bucket()
    found, unreadable = {}, []
    for back in range(1, days + 1):
        earlier = (day - timedelta(days=back)).isoformat()
        body = s3io.get_bytes_or_none(s3, bucket, report_key(day - timedelta(days=back)))
        if body is None:
            continue
        try:
            document = json.loads(body)
            if not isinstance(document.get("sources"), dict):
                raise ValueError("no sources")
        except (ValueError, AttributeError) as err:  # a broken report is skipped and said, never a crash
            log.warning("report of %s is unreadable, left out of the alert history: %s", earlier, err)
            unreadable.append(earlier)
            continue
        found[earlier] = document
    return found, unreadable


def _published(entry: object) -> bool:
    return isinstance(entry, dict) and entry.get("status") != "failed" and isinstance(entry.get("articles"), int)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def _anomaly(source: str, check: str, subject: str, today: float, baseline: float, message: str) -> dict:
    return {
        "source": source,
        "check": check,
        "field": subject,
        "today": round(today, 4),
        "baseline": round(baseline, 4),
        "message": message,
    }


def _volume(name: str, today: int, past: list[dict], t: dict) -> list[dict]:
    median = statistics.median(p["articles"] for p in past)
    days = f"the median of its last {len(past)} published days"
    if median >= t["min_articles"] and today < t["volume_low"] * median:
        return [
            _anomaly(
                name,
                "volume_drop",
                "articles",
                today,
                median,
                f"{name}: {today} articles, {days} is {_fmt(median)} (alert below {t['volume_low']:g}×)",
            )
        ]
    if today > t["volume_high"] * max(median, t["min_articles"]):
        return [
            _anomaly(
                name,
                "volume_rise",
                "articles",
                today,
                median,
                f"{name}: {today} articles, {days} is {_fmt(median)} (alert above {t['volume_high']:g}×)",
            )
        ]
    return []


def _coverage(name: str, s: dict, past: list[dict], t: dict) -> list[dict]:
    past = [p for p in past if isinstance(p.get("coverage"), dict) and p["articles"] > 0]
    if len(past) < t["min_history_days"] or not isinstance(s.get("coverage"), dict):
        return []  # reports from before coverage was counted
    total, found = sum(p["articles"] for p in past), []
    for fname, label in COVERAGE_LABELS.items():
        share = s["coverage"].get(fname, 0) / s["articles"]
        before = sum(p["coverage"].get(fname, 0) for p in past) / total
        if before - share >= t["coverage_drop"]:
            found.append(
                _anomaly(
                    name,
                    "coverage_drop",
                    fname,
                    share,
                    before,
                    f"{name}: {label} in {share:.0%} of articles, {before:.0%} on its last {len(past)} "
                    f"published days (alert at a drop of {t['coverage_drop']:.0%})",
                )
            )
    return found


def _removals(name: str, s: dict, past: list[dict], t: dict) -> list[dict]:
    total = sum(p["articles"] for p in past)
    if not total:
        return []

    def rates(counts: dict[str, int], articles: int) -> dict[str, float]:
        return {rule: n / articles for rule, n in counts.items()}

    today = rates(s.get("removed_by_rule") or {}, s["articles"])
    before: dict[str, float] = {}
    for p in past:
        for rule, n in (p.get("removed_by_rule") or {}).items():
            before[rule] = before.get(rule, 0.0) + n / total
    today["all rules"], before["all rules"] = sum(today.values()), sum(before.values())

    def jumped(rule: str) -> bool:
        now, then = today.get(rule, 0.0), before.get(rule, 0.0)
        return now >= t["removal_ratio"] * then and now - then >= t["removal_rise"]

    # a rule that jumped says more than the total; the total catches a banner split over several rules
    rules = [r for r in sorted(today) if r != "all rules" and jumped(r)] or (
        ["all rules"] if jumped("all rules") else []
    )
    return [
        _anomaly(
            name,
            "removal_jump",
            rule,
            today[rule],
            before.get(rule, 0.0),
            f"{name}: {today[rule]:.2f} removals per article by {rule}, {before.get(rule, 0.0):.2f} on its last "
            f"{len(past)} published days (a new banner or appeal?)",
        )
        for rule in rules
    ]


def check(report: dict, history: dict[str, dict], thresholds: dict | None = None) -> dict:
    """The anomalies of the day's `report` against the earlier days' reports in `history` (by day).

    Returns {"anomalies": [...], "not_checked": {source: why}, "history_days": [...], "thresholds": {...}}.
    """
    t = thresholds or config.alert_thresholds()
    anomalies, not_checked = [], {}
    window = t["history_days"]
    for name, s in sorted(report["sources"].items()):
        if not _published(s):
            not_checked[name] = "not published on this day (a failure, sent as a failure notice)"
            continue
        past = [r["sources"][name] for r in history.values() if _published(r["sources"].get(name))]
        if len(past) < t["min_history_days"]:
            not_checked[name] = (
                f"history too short: published on {len(past)} of the {window} earlier days, "
                f"{t['min_history_days']} needed"
            )
            continue
        anomalies += _volume(name, s["articles"], past, t)
        if s["articles"] < t["min_articles"]:
            not_checked[name] = (
                f"coverage and removals not compared: {s['articles']} articles, {t['min_articles']} needed"
            )
            continue
        anomalies += _coverage(name, s, past, t) + _removals(name, s, past, t)
        counted = sum(isinstance(p.get("coverage"), dict) for p in past)
        if counted < t["min_history_days"]:
            not_checked[name] = (
                f"coverage not compared: counted on {counted} earlier days (reports from before coverage was "
                f"counted), {t['min_history_days']} needed"
            )
    return {"anomalies": anomalies, "not_checked": not_checked, "history_days": sorted(history), "thresholds": t}


def for_report(report: dict) -> dict:
    """`check` of the day's report against the earlier reports in S3 (the unreadable ones are listed)."""
    t = config.alert_thresholds()
    history, unreadable = earlier_reports(date.fromisoformat(report["dt"]), t["history_days"])
    return {**check(report, history, t), "unreadable_reports": unreadable}


# --- notices -----------------------------------------------------------------------------------------------------


@dataclass
class Notice:
    """What is sent: a subject, a plain text a person reads, and the same as data (the JSON webhook's body)."""

    subject: str
    text: str
    data: dict = field(default_factory=dict)


def anomaly_notice(report: dict) -> Notice | None:
    """The notice of the day's anomalies (`report["alerts"]`, from `for_report`), or None when there are none."""
    found = report.get("alerts", {}).get("anomalies", [])
    if not found:
        return None
    sources = sorted({a["source"] for a in found})
    named = ", ".join(sources[:5]) + (f" and {len(sources) - 5} more" if len(sources) > 5 else "")
    lines = [
        f"news_daily dt={report['dt']} run {report['run_id']}: {len(found)} anomalies at {', '.join(sources)}",
        "",
    ] + [f"- {a['message']}" for a in found]
    lines += ["", *_where(report)]
    return Notice(
        subject=f"[news-ingest] dt={report['dt']}: {len(found)} anomalies ({named})",
        text="\n".join(lines),
        data={"event": "anomalies", "dt": report["dt"], "run_id": report["run_id"], "anomalies": found},
    )


def _where(report: dict) -> list[str]:
    key = report_key(date.fromisoformat(report["dt"]))  # report.json; report.html beside it
    keys = [key, key.removesuffix(".json") + ".html"]
    return ["report: " + ", ".join(f"s3://{config.bucket()}/{k}" for k in keys)]


def _run_day(context) -> date | None:
    """The day a run processed (`ingest.runs`), from the callback's context; None if it cannot be known."""
    from ingest.runs import RunRefused, run_day

    dag_run = context.get("dag_run")
    if dag_run is None:
        return None
    try:
        return run_day(getattr(dag_run, "logical_date", None), dag_run.run_after, datetime.now(UTC))
    except (RunRefused, AttributeError, TypeError):
        return None


def failure_notice(context) -> Notice:
    """The notice of a failed run: the run, the task that failed last, and the failed sources with their errors
    (from the run's report, when it wrote one)."""
    dag = context.get("dag")
    dag_id = getattr(dag, "dag_id", None) or "news_daily"
    run_id, reason = context.get("run_id") or "?", context.get("reason") or "failed"
    ti = context.get("ti") or context.get("task_instance")
    task_id = getattr(ti, "task_id", None)
    day = _run_day(context)
    report = _run_report(day, run_id) if day else None
    head = f"{dag_id} run {run_id}" + (f" (dt={day})" if day else "") + f" failed: {reason}"
    lines = [head]
    if task_id:
        lines.append(f"last failed task: {task_id} (its log says why)")
    failed = {}
    if report:
        failed = {
            n: (s.get("failed_stage"), s.get("error"))
            for n, s in report["sources"].items()
            if n in report.get("failed", [])
        }
        if failed:
            lines += ["", "failed sources:"] + [
                f"- {n}: {stage} failed: {(err or '').splitlines()[0][:500]}" for n, (stage, err) in failed.items()
            ]
        lines += ["", *_where(report)]
    elif day:
        lines.append(f"no report of this run for dt={day}: the run stopped before its report task wrote one")
    return Notice(
        subject=f"[news-ingest] {dag_id} failed: run {run_id}" + (f", dt={day}" if day else ""),
        text="\n".join(lines),
        data={
            "event": "run_failed",
            "dag_id": dag_id,
            "run_id": run_id,
            "dt": day.isoformat() if day else None,
            "reason": reason,
            "task_id": task_id,
            "failed_sources": {n: {"stage": st, "error": err} for n, (st, err) in failed.items()},
        },
    )


def _run_report(day: date, run_id: str) -> dict | None:
    """The report of `day` if this run wrote it (a rerun replaces it); None otherwise or when S3 cannot tell."""
    from ingest import s3 as s3io

    try:
        body = s3io.get_bytes_or_none(s3io.client(), config.bucket(), report_key(day))
        document = json.loads(body) if body else None
    except Exception as err:  # the notice goes out without the details rather than not at all
        log.warning("the report of dt=%s could not be read for the failure notice: %s", day, err)
        return None
    return document if isinstance(document, dict) and document.get("run_id") == run_id else None


# --- delivery: Airflow notifiers ---------------------------------------------------------------------------------


def send_email(notice: Notice, recipients: list[str], sender: str, server: dict) -> None:
    # CRLF line ends; headers folded only past RFC 5322's hard limit (the default folding at 78 may cut a subject
    # right after "Subject:", which clients then show with a leading space)
    message = EmailMessage(policy=email.policy.SMTP.clone(max_line_length=998))
    message["Subject"], message["From"], message["To"] = notice.subject, sender, ", ".join(recipients)
    message.set_content(notice.text)
    with smtplib.SMTP(server["host"], server["port"], timeout=SEND_TIMEOUT) as smtp:
        if server.get("user"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.login(server["user"], server["password"])
        smtp.send_message(message)


def post_webhook(notice: Notice, url: str, kind: str) -> None:
    body = (
        {"text": f"{notice.subject}\n{notice.text}"}
        if kind == "slack"
        else {**notice.data, "subject": notice.subject, "text": notice.text}
    )
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=SEND_TIMEOUT) as response:  # an HTTP error status raises
        response.read()


class _Notifier(BaseNotifier):
    """A notifier whose notice is built in code: no template fields to render."""

    def render_template_fields(self, context, jinja_env=None) -> None:
        # Nothing to render, and rendering would need the context's DAG to make a Jinja environment, which the
        # serialized DAG that `dag.test()` passes to DAG callbacks cannot do.
        if self.template_fields:
            super().render_template_fields(context, jinja_env)


class EmailNotifier(_Notifier):
    """Sends a notice by e-mail through an SMTP server."""

    def __init__(self, notice: Notice, recipients: list[str], sender: str, server: dict) -> None:
        super().__init__()
        self.notice, self.recipients, self.sender, self.server = notice, recipients, sender, server

    def notify(self, context) -> None:
        send_email(self.notice, self.recipients, self.sender, self.server)

    def __str__(self) -> str:
        return f"e-mail to {', '.join(self.recipients)} via {self.server['host']}:{self.server['port']}"


class WebhookNotifier(_Notifier):
    """POSTs a notice as JSON to a URL (`kind` "json": the notice's fields; "slack": a Slack incoming webhook's)."""

    def __init__(self, notice: Notice, url: str, kind: str = "json") -> None:
        super().__init__()
        self.notice, self.url, self.kind = notice, url, kind

    def notify(self, context) -> None:
        post_webhook(self.notice, self.url, self.kind)

    def __str__(self) -> str:
        # only where it goes: a webhook's path or query often is its secret (a Slack webhook's is)
        parts = urllib.parse.urlsplit(self.url)
        return f"webhook {parts.scheme}://{parts.netloc}/… ({self.kind})"


def notifiers(notice: Notice) -> list[BaseNotifier]:
    """One notifier per configured destination (NEWS_ALERT_EMAIL, NEWS_ALERT_WEBHOOK); none configured: []."""
    out: list[BaseNotifier] = []
    if recipients := config.alert_emails():
        out.append(EmailNotifier(notice, recipients, config.alert_sender(), config.smtp_server()))
    if webhook := config.alert_webhook():
        out.append(WebhookNotifier(notice, *webhook))
    return out


def deliver(notice: Notice, context) -> list[str]:
    """Send `notice` to every destination, each tried even if another fails; AlertDeliveryError if any failed."""
    targets = notifiers(notice)
    if not targets:
        log.warning("no alert destination configured (NEWS_ALERT_EMAIL, NEWS_ALERT_WEBHOOK): %s", notice.subject)
        return []
    sent, failed = [], []
    for target in targets:
        try:
            target(context)
            sent.append(str(target))
        except Exception as err:
            failed.append(f"{target}: {type(err).__name__}: {err}")
    if failed:
        raise AlertDeliveryError(f"notice {notice.subject!r} not delivered to " + "; ".join(failed))
    log.info("notice %r sent: %s", notice.subject, "; ".join(sent))
    return sent


def send_anomalies(report: dict, context) -> list[str]:
    """Send the notice of the report's anomalies, if any; the destinations it went to."""
    notice = anomaly_notice(report)
    return deliver(notice, context) if notice else []


class RunFailureNotifier(_Notifier):
    """The DAG's on_failure_callback: a notice of the failed run to every configured destination.

    Reads the destinations when the run fails, not when the DAG file is parsed.
    """

    def notify(self, context) -> None:
        if not (config.alert_emails() or config.alert_webhook()):  # no need to read the report from S3
            log.warning("run %s failed; no alert destination configured (NEWS_ALERT_EMAIL, NEWS_ALERT_WEBHOOK)",
                        context.get("run_id"))  # fmt: skip
            return
        deliver(failure_notice(context), context)
