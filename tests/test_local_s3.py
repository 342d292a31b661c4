"""The local S3 endpoint the demo and the tests run on: an outage (pause/resume) must not end it.

A CI run lost the session's endpoint after the Celery outage test: the port was free while paused, the
server could not listen on it again, and werkzeug ended the process on the failed bind.
"""

from __future__ import annotations

import socket
from pathlib import Path

import boto3
import pytest

from localrun.local_s3 import LocalS3, still_accepting


def ephemeral_low() -> int:
    return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])


@pytest.fixture
def server():
    s3 = LocalS3().start()
    yield s3
    s3.stop()


def client(server: LocalS3):
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


def test_the_port_is_below_the_ephemeral_range(server):
    # no outgoing connection or bind(0) elsewhere can be given it while the server is paused
    assert 1024 <= server.port < ephemeral_low()


def test_a_port_taken_while_paused_fails_the_resume_loudly_and_the_server_lives_on(server):
    s3 = client(server)
    s3.create_bucket(Bucket="outage-test")
    s3.put_object(Bucket="outage-test", Key="k", Body=b"kept")
    server.pause()
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # as the server binds (SO_REUSEADDR): its closed connections' TIME_WAIT or keep-alive sockets on the port
    # must not stop the holder; only a listener stops the server's bind
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        holder.bind((server.host, server.port))
        holder.listen(1)
        with pytest.raises(RuntimeError, match="resume failed"):
            server.resume()
        assert server._proc.poll() is None, "the server process ended on the failed bind"
    finally:
        holder.close()
    server.resume()
    assert client(server).get_object(Bucket="outage-test", Key="k")["Body"].read() == b"kept"


def test_still_accepting_names_a_live_listener_and_is_empty_once_refused():
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        # never accepted: the backlog fills and later connects time out, which is not a closed port either
        answer = still_accepting("127.0.0.1", port, wait=3)
        assert answer.startswith(f"127.0.0.1:{port} ") and f":{port}" in answer.split("listeners: ")[1], answer
    finally:
        holder.close()
    assert still_accepting("127.0.0.1", port, wait=0.3) == ""
