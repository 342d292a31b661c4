"""Alerts from the real DAG (`dag.test()`): a run whose source fails sends a failure notice through the DAG's
on_failure_callback notifier, and its report task sends the day's anomalies, to a loopback SMTP server and
webhook."""

from __future__ import annotations

import json
import os
import socket
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from ingest import report as reporting
from ingest import s3 as s3io
from tests.alert_sinks import SmtpSink, WebhookSink
from tests.test_end_to_end import _expected, _run

pytestmark = pytest.mark.slow


def _history(demo_day, publishers: dict[str, int]) -> None:
    """7 earlier days on which each demo publisher published `n` articles, with every field present."""
    for back in range(1, 8):
        day = demo_day - timedelta(days=back)
        per = {}
        for name, n in publishers.items():
            clean = {"articles": n, "rejected": {}, "removed_by_rule": {"appeal:block": n},
                     "coverage": dict.fromkeys(("title", "published_at", "authors", "language"), n)}  # fmt: skip
            per[name] = {"crawl": {"summary": {"stored": n, "finish_reason": "finished"}}, "clean": {"stats": clean},
                         "validate": {}, "publish": {"keys": [], "version": 1}, "error": None}  # fmt: skip
        report = reporting.summarise(day, f"scheduled__{day}", per)
        report["report_keys"] = reporting.write(report)


def test_a_failed_run_and_the_day_s_anomalies_are_sent(
    airflow_db, bucket, demo_sources, demo_day, tmp_path, monkeypatch
):
    with socket.socket() as sock:  # a port nothing listens on: the source's feed cannot be fetched
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    path = tmp_path / "with-broken.yaml"
    doc = yaml.safe_load(Path(os.environ["NEWS_SOURCES"]).read_text())
    doc["sources"].append({"name": "broken", "feeds": [f"{dead}/rss.xml"], "allowed_domains": ["127.0.0.1"]})
    path.write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("NEWS_SOURCES", str(path))
    expected = {name: len(articles) for name, articles in _expected(demo_sources, demo_day).items()}
    usual = {name: 10 * max(n, 1) + 10 for name, n in expected.items()}  # today's count is a deep drop
    _history(demo_day, usual)

    with SmtpSink() as smtp, WebhookSink() as hook:
        monkeypatch.setenv("NEWS_ALERT_EMAIL", "news-desk@example.org")
        monkeypatch.setenv("NEWS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("NEWS_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("NEWS_ALERT_WEBHOOK", hook.url)
        run = _run(demo_day)
        assert run.state == "failed"
        messages = smtp.wait_for(2)

    report = json.loads(s3io.get_bytes(s3io.client(), bucket, f"reports/dt={demo_day}/report.json"))
    assert report["failed"] == ["broken"]
    # the clean stage counts field coverage per source (the demo's articles have every field)
    for name, n in expected.items():
        assert report["sources"][name]["coverage"] == {
            "title": n, "published_at": n, "authors": n, "language": n}, name  # fmt: skip
    found = {(a["source"], a["check"]) for a in report["alerts"]["anomalies"]}
    assert found == {(name, "volume_drop") for name in expected}
    assert "broken" in report["alerts"]["not_checked"]

    by_subject = {m["Subject"]: m.get_content() for _, _, m in messages}
    assert len(messages) == 2, list(by_subject)
    anomaly = by_subject.pop(f"[news-ingest] dt={demo_day}: {len(expected)} anomalies ({', '.join(sorted(expected))})")
    for name, n in expected.items():
        assert f"{name}: {n} articles, the median of its last 7 published days is {usual[name]}" in anomaly
    [(subject, failure)] = by_subject.items()
    assert subject == f"[news-ingest] news_daily failed: run {run.run_id}, dt={demo_day}"
    assert f"news_daily run {run.run_id} (dt={demo_day}) failed" in failure
    assert "- broken: validate failed: QualityGateError:" in failure and "no article" in failure
    assert f"s3://{bucket}/reports/dt={demo_day}/report.html" in failure

    events = {p["json"]["event"]: p["json"] for p in hook.posts}
    assert set(events) == {"anomalies", "run_failed"} and len(hook.posts) == 2
    failed = events["run_failed"]
    assert failed["run_id"] == run.run_id and failed["dt"] == demo_day.isoformat()
    assert list(failed["failed_sources"]) == ["broken"] and failed["failed_sources"]["broken"]["stage"] == "validate"
