"""`python -m ingest.notify test`: send a test notice to the configured alert destinations, to check them before
a real failure does (NEWS_ALERT_EMAIL and the SMTP server, NEWS_ALERT_WEBHOOK).

Exit status 0 when every destination took it, 1 when none is configured or one failed (the line says which and
why), 2 for a bad argument or setting.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys

from newsconfig import env as config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest.notify", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["test"], help="test: send a test notice")
    parser.parse_args(argv)
    try:
        for read in (config.alert_emails, config.alert_sender, config.smtp_server, config.alert_webhook):
            read()
    except ValueError as err:
        print(f"python -m ingest.notify: {err}", file=sys.stderr)
        return 2
    # Airflow (the notifiers' base class) keeps its state in the checkout, never in the home directory
    os.environ.setdefault("AIRFLOW_HOME", str(config.PROJECT_ROOT / ".airflow"))
    os.environ.setdefault("AIRFLOW_CONFIG", str(config.PROJECT_ROOT / "airflow.cfg"))
    from ingest import alerts

    logging.getLogger(alerts.__name__).setLevel(logging.WARNING)  # this command prints where the notice went
    notice = alerts.Notice(
        subject="[news-ingest] test notice",
        text=f"A test notice from news-ingest on {socket.gethostname()}: alerts reach this destination.",
        data={"event": "test"},
    )
    if not alerts.notifiers(notice):
        print("no alert destination configured: set NEWS_ALERT_EMAIL and/or NEWS_ALERT_WEBHOOK", file=sys.stderr)
        return 1
    try:
        sent = alerts.deliver(notice, {})
    except alerts.AlertDeliveryError as err:
        print(str(err), file=sys.stderr)
        return 1
    for destination in sent:
        print(f"sent: {destination}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
