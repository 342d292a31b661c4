"""Alerts: anomalies of a day against the reports of its 7 earlier days in S3 (moto on loopback), listed in the
report, and notices through Airflow notifiers to a loopback SMTP server and a loopback webhook."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ingest import alerts
from ingest import report as reporting
from ingest import s3 as s3io
from newsconfig import env
from tests.alert_sinks import SmtpSink, WebhookSink

DAY = date(2026, 11, 20)
USUAL = {"title": 1.0, "published_at": 1.0, "authors": 0.9, "language": 1.0}  # shares of articles
RECIPIENTS = ["news-desk@example.org", "oncall@example.org"]


def _stages(articles: int, coverage: dict[str, float] | None = None, removed: dict[str, int] | None = None,
            error: str | None = None) -> dict:  # fmt: skip
    """What the report task gathers for a source (as in test_report): here a published or failed source."""
    shares = coverage or USUAL
    if removed is None:  # the usual removals: 0.3 appeal blocks and one token rule per article
        removed = {"appeal:block": round(0.3 * articles), "structure:token": articles}
    clean = {"articles": articles, "rejected": {}, "removed_by_rule": removed,
             "coverage": {f: round(share * articles) for f, share in shares.items()}}  # fmt: skip
    ok = error is None
    return {
        "crawl": {"summary": {"stored": articles, "finish_reason": "finished"}},
        "clean": {"stats": clean},
        "validate": {} if ok else None,
        "publish": {"keys": [], "version": 1} if ok else None,
        "error": error,
    }


def _write_history(days: int = 7, sources: tuple[str, ...] = ("steady", "shrunk", "bylines", "bannered")) -> None:
    """Reports of the `days` days before DAY, written as the report task writes them; ~40 articles a day."""
    for back in range(1, days + 1):
        day = DAY - timedelta(days=back)
        per = {name: _stages(38 + back % 4) for name in sources}
        if back <= 2:  # published on two earlier days only
            per["sparse"] = _stages(40)
        report = reporting.summarise(day, f"scheduled__{day}", per)
        report["report_keys"] = reporting.write(report)


def _today() -> dict:
    return reporting.summarise(
        DAY,
        "manual__today",
        {
            "steady": _stages(41),
            "shrunk": _stages(12),  # volume: 12 against a median of 40
            "bylines": _stages(40, {**USUAL, "authors": 0.15}),  # the author extractor broke
            "bannered": _stages(40, removed={"appeal:block": 12, "structure:token": 40, "appeal:button": 40}),
            "newcomer": _stages(3),
            "sparse": _stages(2),  # a huge drop, but only two earlier days to compare with
            "broken": _stages(0, error="QualityGateError: no article"),
        },
    )


@pytest.fixture
def sinks(monkeypatch):
    """A loopback SMTP server and webhook, configured as the alert destinations."""
    with SmtpSink() as smtp, WebhookSink() as hook:
        monkeypatch.setenv("NEWS_ALERT_EMAIL", ", ".join(RECIPIENTS))
        monkeypatch.setenv("NEWS_ALERT_FROM", "news-ingest@example.org")
        monkeypatch.setenv("NEWS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("NEWS_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("NEWS_ALERT_WEBHOOK", hook.url)
        yield smtp, hook


def test_a_day_unlike_its_last_7_days_is_listed_in_the_report_and_mailed(bucket, sinks):
    smtp, hook = sinks
    _write_history()
    today = _today()
    today["alerts"] = alerts.for_report(today)
    found = {(a["source"], a["check"], a["field"]) for a in today["alerts"]["anomalies"]}
    assert found == {
        ("shrunk", "volume_drop", "articles"),
        ("bylines", "coverage_drop", "authors"),
        ("bannered", "removal_jump", "appeal:button"),
    }
    assert today["alerts"]["history_days"] == [(DAY - timedelta(days=b)).isoformat() for b in range(7, 0, -1)]
    skipped = today["alerts"]["not_checked"]
    assert set(skipped) == {"newcomer", "sparse", "broken"}
    assert skipped["sparse"].startswith("history too short: published on 2 of the 7 earlier days, 3 needed")
    assert skipped["newcomer"].startswith("history too short: published on 0")
    assert "not published" in skipped["broken"]

    # listed in the report, JSON and HTML
    today["report_keys"] = reporting.write(today)
    s3 = s3io.client()
    stored = json.loads(s3io.get_bytes(s3, bucket, f"reports/dt={DAY}/report.json"))
    assert stored["alerts"]["anomalies"] == today["alerts"]["anomalies"]
    page = s3io.get_bytes(s3, bucket, f"reports/dt={DAY}/report.html").decode()
    assert "Anomalies against the last 7 days (7 reports found)" in page
    for a in today["alerts"]["anomalies"]:
        assert a["message"] in page
    assert "history too short: published on 2 of the 7 earlier days" in page
    assert "<h3>Field coverage</h3>" in page  # per source, from the clean stage's counts
    assert "bylines: authors in 15% of articles, 90% on its last 7 published days" in reporting.to_text(today)

    # sent: one e-mail to both recipients, one JSON POST
    sent = alerts.send_anomalies(today, {})
    assert len(sent) == 2
    (sender, rcpt, message), *more = smtp.wait_for(1)
    assert not more and sender == "news-ingest@example.org" and rcpt == RECIPIENTS
    assert message["Subject"] == f"[news-ingest] dt={DAY}: 3 anomalies (bannered, bylines, shrunk)"
    body = message.get_content()
    for a in today["alerts"]["anomalies"]:
        assert a["message"] in body
    assert "shrunk: 12 articles, the median of its last 7 published days is 40" in body
    assert f"s3://{bucket}/reports/dt={DAY}/report.html" in body
    [post] = hook.posts
    assert post["content_type"] == "application/json" and post["path"] == "/hooks/news"
    assert post["json"]["event"] == "anomalies" and post["json"]["anomalies"] == today["alerts"]["anomalies"]


def test_no_alert_while_the_history_is_too_short(bucket, sinks):
    smtp, hook = sinks
    _write_history(days=2)
    today = _today()
    today["alerts"] = alerts.for_report(today)
    assert today["alerts"]["anomalies"] == []
    assert all(why.startswith("history too short") for n, why in today["alerts"]["not_checked"].items()
               if n != "broken")  # fmt: skip
    assert alerts.send_anomalies(today, {}) == []
    assert smtp.messages == [] and hook.posts == []


def test_thresholds_are_configurable_and_checked(bucket, monkeypatch):
    _write_history()
    monkeypatch.setenv("NEWS_ALERT_VOLUME_LOW", "0.2")  # 12 of 40 is 0.3: no longer a drop
    monkeypatch.setenv("NEWS_ALERT_COVERAGE_DROP", "0.8")  # authors fell by 75 points: not enough
    found = {(a["source"], a["check"]) for a in alerts.for_report(_today())["anomalies"]}
    assert found == {("bannered", "removal_jump")}
    monkeypatch.setenv("NEWS_ALERT_VOLUME_LOW", "half")
    with pytest.raises(ValueError, match="NEWS_ALERT_VOLUME_LOW must be a number"):
        env.alert_thresholds()


def test_an_unreadable_earlier_report_is_left_out_and_said(bucket):
    _write_history()
    s3io.put_bytes(s3io.client(), bucket, f"reports/dt={DAY - timedelta(days=3)}/report.json", b"{not json")
    checked = alerts.for_report(_today())
    assert checked["unreadable_reports"] == [(DAY - timedelta(days=3)).isoformat()]
    assert len(checked["history_days"]) == 6
    assert {a["source"] for a in checked["anomalies"]} == {"shrunk", "bylines", "bannered"}


def test_a_destination_that_fails_is_named_and_the_others_still_get_the_notice(bucket, sinks):
    smtp, hook = sinks
    hook.status = 500
    _write_history()
    today = _today()
    today["alerts"] = alerts.for_report(today)
    with pytest.raises(alerts.AlertDeliveryError, match=r"webhook http://127\.0\.0\.1:\d+/… \(json\): HTTPError"):
        alerts.send_anomalies(today, {})
    assert len(smtp.wait_for(1)) == 1 and len(hook.posts) == 1


def test_a_slack_webhook_gets_slack_s_format(bucket, sinks, monkeypatch):
    smtp, hook = sinks
    monkeypatch.delenv("NEWS_ALERT_EMAIL")
    monkeypatch.setenv("NEWS_ALERT_WEBHOOK_FORMAT", "slack")
    _write_history()
    today = _today()
    today["alerts"] = alerts.for_report(today)
    alerts.send_anomalies(today, {})
    [post] = hook.posts
    assert set(post["json"]) == {"text"} and "bylines: authors in 15% of articles" in post["json"]["text"]
    assert smtp.messages == []


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("NEWS_ALERT_EMAIL", "desk@example.org, nobody", "NEWS_ALERT_EMAIL must be comma-separated e-mail"),
        ("NEWS_ALERT_WEBHOOK", "hooks.example.org/x", "NEWS_ALERT_WEBHOOK must be an http"),
        ("NEWS_ALERT_WEBHOOK_FORMAT", "teams", "NEWS_ALERT_WEBHOOK_FORMAT must be one of"),
        ("NEWS_SMTP_PORT", "70000", "NEWS_SMTP_PORT must be a TCP port"),
        ("NEWS_SMTP_USER", "desk", "NEWS_SMTP_USER and NEWS_SMTP_PASSWORD are set together"),
    ],
)
def test_a_bad_alert_setting_refuses_the_run_before_any_crawl(bucket, monkeypatch, name, value, error):
    from ingest.runs import RunRefused, check_run

    monkeypatch.setenv("NEWS_ALERT_WEBHOOK", "http://127.0.0.1:9/x")
    monkeypatch.setenv(name, value)
    with pytest.raises(RunRefused, match=f"configuration: {error}"):
        check_run(DAY, None, True)


def test_the_readme_test_notice_reaches_every_destination_and_writes_nothing_home(tmp_path):
    """The README's `alerts-test-notice` block, run as written in a shell with only the alert settings."""
    from tests.readme import block

    root = Path(__file__).resolve().parents[1]
    home = tmp_path / "home"
    home.mkdir()
    shell = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}

    def run(**settings: str) -> subprocess.CompletedProcess:
        command = ["bash", "-euo", "pipefail", "-c", block("alerts-test-notice").text]
        return subprocess.run(command, cwd=root, env={**shell, **settings}, capture_output=True, text=True,
                              timeout=180)  # fmt: skip

    with SmtpSink() as smtp, WebhookSink() as hook:
        done = run(NEWS_ALERT_EMAIL="news-desk@example.org", NEWS_SMTP_HOST="127.0.0.1",
                   NEWS_SMTP_PORT=str(smtp.port), NEWS_ALERT_WEBHOOK=hook.url)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            f"sent: e-mail to news-desk@example.org via 127.0.0.1:{smtp.port}",
            f"sent: webhook {hook.url.removesuffix('/hooks/news')}/… (json)",  # never the path: it may be a secret
        ]
        [(_, rcpt, message)] = smtp.wait_for(1)
        assert rcpt == ["news-desk@example.org"] and message["Subject"] == "[news-ingest] test notice"
        assert [p["json"]["event"] for p in hook.posts] == ["test"]

        hook.status = 503
        failed = run(NEWS_ALERT_WEBHOOK=hook.url)
        assert failed.returncode == 1 and "HTTPError: HTTP Error 503" in failed.stderr
    nothing = run()
    assert nothing.returncode == 1 and "no alert destination configured" in nothing.stderr
    bad = run(NEWS_ALERT_EMAIL="desk")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "python -m ingest.notify: NEWS_ALERT_EMAIL must be comma-separated e-mail addresses, not ['desk']"
    ]
    assert list(home.iterdir()) == [], "written to HOME"


def test_a_failure_notice_uses_only_its_own_run_s_report(bucket):
    """The context is what Airflow hands a DAG callback: the DAG, the run id, the reason, the run."""
    from types import SimpleNamespace

    report = _today()
    reporting.write(report)  # written by run "manual__today"
    run = SimpleNamespace(logical_date=datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC), run_after=datetime.now(UTC))
    context = {"dag": SimpleNamespace(dag_id="news_daily"), "reason": "task_failure", "dag_run": run}

    own = alerts.failure_notice({**context, "run_id": "manual__today"})
    assert own.subject == f"[news-ingest] news_daily failed: run manual__today, dt={DAY}"
    assert "- broken: validate failed: QualityGateError: no article" in own.text
    assert own.data["failed_sources"] == {"broken": {"stage": "validate", "error": "QualityGateError: no article"}}

    other = alerts.failure_notice({**context, "run_id": "manual__later"})  # the report is an earlier run's
    assert "broken" not in other.text and other.data["failed_sources"] == {}
    assert f"no report of this run for dt={DAY}" in other.text

    today = SimpleNamespace(logical_date=datetime.now(UTC), run_after=datetime.now(UTC))  # refused: not over
    refused = alerts.failure_notice({**context, "run_id": "r", "dag_run": today})
    assert refused.subject == "[news-ingest] news_daily failed: run r" and refused.data["dt"] is None
