"""A local S3-compatible endpoint (moto's server mode) on a free loopback port, for the demo and tests."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer

# moto accepts any credentials; these keep boto3 from looking for real ones.
LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class LocalS3:
    """Start with `start()`; `env` holds the variables that point boto3 (and DuckDB, pyarrow) at it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.endpoint = ""

    def start(self) -> LocalS3:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def env(self) -> dict[str, str]:
        return {**LOCAL_ENV, "AWS_ENDPOINT_URL": self.endpoint}


@contextmanager
def local_s3_env(bucket: str) -> Iterator[LocalS3]:
    """Run a local endpoint with the environment pointing at it and the bucket created; restore on exit."""
    from ingest import s3 as s3io

    server = LocalS3().start()
    saved = {k: os.environ.get(k) for k in [*server.env, "NEWS_BUCKET"]}
    os.environ.update({**server.env, "NEWS_BUCKET": bucket})
    try:
        s3io.ensure_bucket(s3io.client(), bucket)
        yield server
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
