"""Alerts (issue #15 item 7): a failed source and anomalies against the last 7 days' reports (volume, field
coverage, appeal removals), listed in the report and delivered through Airflow notifiers: e-mail by the SMTP
provider's SmtpNotifier to a loopback SMTP server (aiosmtpd), and a JSON webhook to a loopback HTTP server."""

from __future__ import annotations

import json
import socket
import threading
from datetime import date, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from ingest import alerts
from ingest import report as reporting

DAY = date(2026, 11, 20)
NORMAL = {"articles": 100, "coverage": {"title": 100, "published_at": 95, "authors": 80, "language": 100},
          "removed_by_rule": {"appeal:donate:en:x": 30, "repeat": 200}}  # fmt: skip


def day_report(day: date, **sources: dict) -> dict:
    per = {}
    for name, clean in sources.items():
        failed = clean.pop("error", None)
        per[name] = {"crawl": {"summary": {"finish_reason": "finished"}}, "clean": {"stats": clean},
                     "validate": None if failed else {}, "publish": None if failed else {},
                     "error": failed}  # fmt: skip
    return reporting.summarise(day, f"run-{day}", per)


def earlier(days: int = 7) -> list[dict]:
    return [day_report(DAY - timedelta(days=k), ledger=json.loads(json.dumps(NORMAL))) for k in range(1, days + 1)]


def scaled(factor: float) -> dict:
    """A normal day of `factor` times the articles (same shares of fields and removals)."""
    return {"articles": int(100 * factor), "coverage": {k: int(v * factor) for k, v in NORMAL["coverage"].items()},
            "removed_by_rule": {k: int(v * factor) for k, v in NORMAL["removed_by_rule"].items()}}  # fmt: skip


def test_a_normal_day_raises_no_alert() -> None:
    assert alerts.anomalies(day_report(DAY, ledger=dict(NORMAL)), earlier()) == []


@pytest.mark.parametrize(
    ("today", "kind"),
    [
        (scaled(0.3), "volume"),
        (scaled(4), "volume"),
        ({**NORMAL, "coverage": {**NORMAL["coverage"], "authors": 10}}, "coverage_authors"),
        ({**NORMAL, "removed_by_rule": {"appeal:donate:en:x": 30, "structure:token:class=banner": 90}}, "appeals"),
        ({"articles": None, "error": "QualityGateError: no article"}, "failed"),
    ],
)
def test_each_anomaly(today: dict, kind: str) -> None:
    found = alerts.anomalies(day_report(DAY, ledger=dict(today)), earlier())
    assert [a["kind"] for a in found] == [kind], found


def test_too_little_history_judges_nothing_but_failures() -> None:
    assert alerts.anomalies(day_report(DAY, ledger=scaled(0.01)), earlier(2)) == []


def test_history_comes_from_the_written_reports(bucket) -> None:
    for report in earlier(4):
        reporting.write(report)
    got = alerts.history(DAY)
    assert [r["dt"] for r in got] == [(DAY - timedelta(days=k)).isoformat() for k in range(1, 5)]
    assert [a["kind"] for a in alerts.anomalies(day_report(DAY, ledger=scaled(0.2)), got)] == [
        "volume"
    ]


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


class Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self) -> None:  # noqa: N802
        Hook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_alerts_go_by_email_and_webhook_through_airflow_notifiers(monkeypatch) -> None:
    inbox = Inbox()
    with socket.socket() as probe:  # a free port: aiosmtpd's controller checks it can connect to the port it is given
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    web = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        conn = {"conn_type": "smtp", "host": "127.0.0.1", "port": port,
                "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "news@example.org",
                          "retry_limit": 0, "timeout": 10}}  # fmt: skip
        monkeypatch.setenv("AIRFLOW_CONN_NEWS_ALERTS", json.dumps(conn))
        monkeypatch.setenv("NEWS_ALERT_SMTP_CONN", "news_alerts")
        monkeypatch.setenv("NEWS_ALERT_EMAIL", "desk@example.org, oncall@example.org")
        monkeypatch.setenv("NEWS_ALERT_WEBHOOK", f"http://127.0.0.1:{web.server_address[1]}/hook")
        report = day_report(DAY, ledger=scaled(0.3))
        report["alerts"] = alerts.anomalies(report, earlier())
        report["alerts"].append({"source": "ledger", "kind": "x", "message": "a {{ template }} stays as it is"})
        assert alerts.deliver(report, {}) == []
        (to, mail), = inbox.messages
        assert sorted(to) == ["desk@example.org", "oncall@example.org"]
        assert mail["Subject"] == "news_daily dt=2026-11-20: 2 alert(s)"
        body = mail.get_payload(0).get_payload(decode=True).decode() if mail.is_multipart() else mail.get_payload()
        assert "ledger: volume: 30 articles against a median of 100 over 7 days" in body
        assert "a {{ template }} stays as it is" in body
        (posted,) = Hook.received
        assert posted["text"].startswith("news_daily dt=2026-11-20: 2 alert(s)") and "ledger: volume" in posted["text"]
        # a notifier that cannot deliver is an error in the report, not a crash that hides the others
        monkeypatch.setenv("NEWS_ALERT_WEBHOOK", "http://127.0.0.1:9/unreachable")
        errors = alerts.deliver(report, {})
        assert len(errors) == 1 and errors[0].startswith("WebhookNotifier") and len(inbox.messages) == 2
    finally:
        smtp.stop()
        web.shutdown()
        web.server_close()


def test_the_report_lists_the_alerts() -> None:
    report = day_report(DAY, ledger=dict(NORMAL))
    report["alerts"] = [{"source": "ledger", "kind": "volume", "message": "3 articles"}]
    assert "<h3>Alerts</h3><table>" in reporting.to_html(report) and "alerts: 1" in reporting.to_text(report)
