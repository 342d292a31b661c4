"""`make airflow`'s launcher before anything starts: a port in use is one line saying what to do, and the
secrets it generates are made once, readable by their owner only. (The running launcher: tests/journeys.)"""

from __future__ import annotations

import io
import json
import socket

from localrun.local_airflow import LocalAirflow


def test_a_port_in_use_is_one_line_and_nothing_starts(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        launcher = LocalAirflow(state=tmp_path / "state", port=port, out=io.StringIO())
        assert launcher.run() == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"port {port} on 127.0.0.1 is in use" in err
    assert f"AIRFLOW__API__PORT={port + 10} make airflow" in err
    assert launcher.procs == {}


def test_secrets_are_generated_once_and_private(tmp_path):
    first = LocalAirflow(state=tmp_path, port=8080).environment()
    again = LocalAirflow(state=tmp_path, port=8080).environment()
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"):
        assert first[key] == again[key] and len(first[key]) >= 48
    assert first["AIRFLOW__API_AUTH__JWT_SECRET"] != first["AIRFLOW__API__SECRET_KEY"]
    for path in tmp_path.iterdir():
        assert path.stat().st_mode & 0o077 == 0, path
    password = (tmp_path / "admin-password").read_text().strip()
    assert json.loads((tmp_path / "simple_auth_manager_passwords.json.generated").read_text()) == {"admin": password}
    assert first["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"
    assert first["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8080/execution/"
