"""Alerts (issue #15 item 7): a failed source, and anomalies against each source's last 7 days.

The anomaly rules are data (RULES): a source's article volume against the median of its earlier days, the
coverage of the title, date, authors and language fields dropping, and appeal removals per article jumping
(a publisher's new banner that the cleaners now remove everywhere, or one they miss). The earlier days are the
reports of the NEWS days before (reports/dt=<day>/report.json); a rule needs at least MIN_DAYS of them.

Alerts are listed in the report (`alerts`) and delivered through Airflow's notifier mechanism
(`BaseNotifier`): e-mail with the SMTP provider's `SmtpNotifier` (NEWS_ALERT_EMAIL, through the Airflow
connection NEWS_ALERT_SMTP_CONN) and a JSON POST (NEWS_ALERT_WEBHOOK: a Slack incoming webhook or any service
that takes {"text": …}). The DAG also sends them when a run fails (its on_failure_callback).
"""

from __future__ import annotations

import json
import logging
import statistics
import urllib.request
from datetime import date, timedelta

from airflow.sdk import BaseNotifier

from ingest import s3 as s3io
from newsconfig import env as config

log = logging.getLogger(__name__)
HISTORY_DAYS = 7
MIN_DAYS = 3  # fewer earlier reports than this: no anomaly is judged
COVERAGE_FIELDS = ("title", "published_at", "authors", "language")
# rules of removals that are appeals (not repeats, headlines or per-source rules)
APPEAL_RULES = ("appeal:", "signal:", "structure:token", "structure:heading+cta", "structure:email-form")
RULES = {
    "volume_low": 0.5,  # articles below this share of the median of the earlier days
    "volume_high": 3.0,  # ... or above this multiple of it
    "volume_min_median": 5,  # a source with fewer articles a day is too small to judge
    "coverage_drop": 0.25,  # a field's share of articles this much (absolute) below its median share
    "appeals_ratio": 2.0,  # appeal removals per article this multiple of the median ...
    "appeals_min_increase": 0.5,  # ... and at least this many more per article
}
WEBHOOK_TIMEOUT = 10.0


def _appeals(source: dict) -> int:
    return sum(n for rule, n in (source.get("removed_by_rule") or {}).items() if rule.startswith(APPEAL_RULES))


def history(day: date, days: int = HISTORY_DAYS) -> list[dict]:
    """The reports of the `days` days before `day` that exist, newest first."""
    s3, bucket = s3io.client(), config.bucket()
    found = []
    for back in range(1, days + 1):
        body = s3io.get_bytes_or_none(s3, bucket, f"reports/dt={(day - timedelta(days=back)).isoformat()}/report.json")
        if body is not None:
            try:
                found.append(json.loads(body))
            except ValueError:
                log.warning("unreadable report of %s: not used for alerts", day - timedelta(days=back))
    return found


def anomalies(report: dict, earlier: list[dict]) -> list[dict]:
    """Alerts for one day's report: {"source", "kind", "message"}, sorted."""
    alerts = []
    for name, s in sorted(report["sources"].items()):
        if s.get("status") == "failed":
            alerts.append({"source": name, "kind": "failed",
                           "message": f"failed in stage {s.get('failed_stage')}: {(s.get('error') or '')[:300]}"})
            continue
        past = [r["sources"][name] for r in earlier if r.get("sources", {}).get(name, {}).get("articles") is not None]
        articles = s.get("articles") or 0
        if len(past) < MIN_DAYS:
            continue
        median = statistics.median(p["articles"] for p in past)
        if median >= RULES["volume_min_median"] and not (
            RULES["volume_low"] * median <= articles <= RULES["volume_high"] * median
        ):
            alerts.append({"source": name, "kind": "volume",
                           "message": f"{articles} articles against a median of {median:g} over {len(past)} days"})
        if not articles:
            continue
        for field in COVERAGE_FIELDS:
            shares = [p["coverage"].get(field, 0) / p["articles"] for p in past if p.get("coverage") and p["articles"]]
            share = (s.get("coverage") or {}).get(field, 0) / articles
            if len(shares) >= MIN_DAYS and statistics.median(shares) - share >= RULES["coverage_drop"]:
                alerts.append({"source": name, "kind": f"coverage_{field}",
                               "message": f"{field} in {share:.0%} of articles against a median of "
                                          f"{statistics.median(shares):.0%}"})  # fmt: skip
        rates = [_appeals(p) / p["articles"] for p in past if p["articles"]]
        rate = _appeals(s) / articles
        usual = statistics.median(rates) if rates else 0.0
        if rate >= RULES["appeals_ratio"] * usual and rate - usual >= RULES["appeals_min_increase"]:
            alerts.append({"source": name, "kind": "appeals",
                           "message": f"{rate:.2f} appeal removals per article against a median of {usual:.2f}"})
    return alerts  # fmt: skip


def message(report: dict) -> tuple[str, str]:
    """The subject and the text of a day's alerts."""
    alerts = report.get("alerts") or []
    subject = f"news_daily dt={report['dt']}: {len(alerts)} alert(s)"
    lines = [f"{a['source']}: {a['kind']}: {a['message']}" for a in alerts]
    return subject, "\n".join([subject, f"run {report.get('run_id')}", "", *lines])


class WebhookNotifier(BaseNotifier):
    """POSTs {"text": subject and alerts} as JSON to a URL (a Slack incoming webhook takes exactly this)."""

    template_fields = ("text",)

    def __init__(self, url: str, text: str) -> None:
        super().__init__()
        self.url, self.text = url, text

    def notify(self, context) -> None:
        body = json.dumps({"text": self.text}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:  # noqa: S310 - configured
            response.read()


def notifiers(subject: str, text: str) -> list[BaseNotifier]:
    """The configured notifiers (none when no NEWS_ALERT_* is set), carrying `subject` and `text`."""
    from html import escape

    found: list[BaseNotifier] = []
    if emails := config.alert_emails():
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        html = "<pre>" + escape(text) + "</pre>"
        found.append(SmtpNotifier(to=emails, subject=_literal(subject), html_content=_literal(html),
                                  smtp_conn_id=config.alert_smtp_conn()))  # fmt: skip
    if url := config.alert_webhook():
        found.append(WebhookNotifier(url, _literal(text)))
    return found


def _literal(text: str) -> str:
    """`text` as a Jinja template that renders to itself (notifiers render their fields with the context)."""
    return "{% raw %}" + text.replace("{% endraw %}", "") + "{% endraw %}"


def deliver(report: dict, context: dict) -> list[str]:
    """Send the report's alerts through every configured notifier; returns the delivery errors (logged)."""
    if not report.get("alerts"):
        return []
    errors = []
    for notifier in notifiers(*message(report)):
        try:
            notifier(context)
        except Exception as err:  # noqa: BLE001 - a notifier that fails must not hide the others or the report
            log.error("alert delivery by %s failed: %s", type(notifier).__name__, err)
            errors.append(f"{type(notifier).__name__}: {err}"[:300])
    return errors


def on_run_failure(context: dict) -> None:
    """The DAG's on_failure_callback: the run failed (a source failed, or the run was refused)."""
    run = context.get("dag_run")
    text = f"news_daily run {getattr(run, 'run_id', '?')} failed: {context.get('reason') or 'see the report task'}"
    for notifier in notifiers(text, text):
        try:
            notifier(context)
        except Exception as err:  # noqa: BLE001
            log.error("alert delivery by %s failed: %s", type(notifier).__name__, err)
