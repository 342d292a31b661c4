"""Faults at each step of a commit. A commit that S3 applied but whose answer was lost: the writer retries, S3
refuses the repeated conditional write (412), and the publish must recognise its own commit instead of failing
or committing twice. A Delta publish stopped before each of its writes in turn: readers see the old day or the
new one, whole, and a rerun publishes.

The faults come from tests/s3_fault_proxy.py, a proxy process between the writer and the real local S3
endpoint that applies the chosen write and then resets the connection; it also records every request, so the
order of writes is asserted from what reached S3.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import unquote

import pyarrow as pa
import pytest

from ingest import partition, table
from ingest import s3 as s3io
from ingest.parquet import SCHEMA

DAY = date(2026, 11, 20)
PROXY = Path(__file__).with_name("s3_fault_proxy.py")


class Proxy:
    def __init__(self, upstream: str, log: Path, lose_answer: str | None, refuse_from: int | None = None) -> None:
        command = [sys.executable, str(PROXY), "--upstream", upstream, "--log", str(log)]
        if lose_answer:
            command += ["--lose-answer", lose_answer]
        if refuse_from:
            command += ["--refuse-from", str(refuse_from)]
        self.log = log
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening "), line
        self.endpoint = f"http://127.0.0.1:{line.split()[1]}"

    def requests(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []

    def writes(self, bucket: str) -> list[tuple[str, str, int, bool]]:
        """(method, key, status, lost) of each mutating request, in the order the proxy forwarded them."""
        prefix = f"/{bucket}/"
        return [
            (r["method"], unquote(r["path"].split("?")[0]).removeprefix(prefix), r["status"], r["lost"])
            for r in self.requests()
            if r["method"] in ("PUT", "POST", "DELETE")
        ]

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def through_proxy(s3_server, tmp_path, monkeypatch):
    """Start a proxy losing the answer to `lose_answer` and point boto3 and delta-rs at it."""
    proxies = []

    def start(lose_answer: str | None = None, refuse_from: int | None = None) -> Proxy:
        proxy = Proxy(s3_server.endpoint, tmp_path / f"requests-{len(proxies)}.jsonl", lose_answer, refuse_from)
        proxies.append(proxy)
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
        return proxy

    yield start
    for proxy in proxies:
        proxy.stop()


def raw_files(tmp_path: Path, attempt: str) -> list[Path]:
    out = []
    for name in ("part-00000.warc.gz", "index.jsonl.gz"):
        path = tmp_path / attempt / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"{attempt} {name}".encode())
        out.append(path)
    return out


@pytest.mark.parametrize("earlier_version", [False, True], ids=["first-version", "second-version"])
def test_a_lost_answer_to_the_manifest_write_is_one_commit(bucket, tmp_path, through_proxy, earlier_version):
    prefix = "raw/source=src/dt=2026-11-20/"
    if earlier_version:
        partition.publish(s3io.client(), bucket, "raw", "src", DAY, raw_files(tmp_path, "a0"), {}, "a0")
    proxy = through_proxy(r"_manifest\.json$:1")
    s3 = s3io.client()
    manifest = partition.publish(s3, bucket, "raw", "src", DAY, raw_files(tmp_path, "a1"), {}, "a1")

    stored = partition.read_manifest(s3, bucket, "raw", "src", DAY)
    assert stored == manifest
    assert stored["supersedes"] == ("a0" if earlier_version else None), "the attempt superseded its own commit"
    attempt = f"{prefix}attempt=a1/"
    writes = proxy.writes(bucket)
    # the parts, the manifest (applied, answer lost), its retry refused by its own condition, then _SUCCESS
    assert writes[:4] == [
        ("PUT", f"{attempt}part-00000.warc.gz", 200, False),
        ("PUT", f"{attempt}index.jsonl.gz", 200, False),
        ("PUT", f"{prefix}_manifest.json", 200, True),
        ("PUT", f"{prefix}_manifest.json", 412, False),
    ], writes
    assert writes[4:] == [("PUT", f"{prefix}_SUCCESS", 412 if earlier_version else 200, False)], writes
    conditions = [r for r in proxy.requests() if r["path"].endswith("_manifest.json") and r["method"] == "PUT"]
    assert len({json.dumps({k: r.get(k) for k in ("if-match", "if-none-match")}) for r in conditions}) == 1


def rows(source: str, day: date, tag: str) -> pa.Table:
    stamp = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return pa.Table.from_pylist(
        [{"url": f"https://{source}.example/{tag}/{i}", "source": source, "text": tag, "dt": day, "fetched_at": stamp}
         for i in range(3)],  # fmt: skip
        schema=SCHEMA,
    )


def log_writes(proxy: Proxy, bucket: str) -> list[tuple[str, int, bool]]:
    return [(key, status, lost) for method, key, status, lost in proxy.writes(bucket) if "_delta_log/" in key]


def test_a_lost_answer_to_the_delta_commit_is_the_publish_s_own_version(bucket, through_proxy):
    first = table.publish(bucket, "alpha", DAY, rows("alpha", DAY, "v1"), {"run_id": "v1"})
    proxy = through_proxy(r"_delta_log/\d+\.json$:1")
    version = table.publish(bucket, "alpha", DAY, rows("alpha", DAY, "v2"), {"run_id": "v2"})

    writes = log_writes(proxy, bucket)
    name = f"clean/_delta_log/{version:020d}.json"
    assert writes == [(name, 200, True)], writes  # applied once; delta-rs does not retry it, nothing else written
    assert version > first
    current = table.open_table(bucket)
    assert current.version() == version, "the publish committed again after its lost answer"
    data = current.to_pyarrow_table(filters=[("source", "=", "alpha"), ("dt", "=", DAY)])
    assert sorted(data.column("text").to_pylist()) == ["v2"] * 3
    commits = [c for c in table.history(bucket) if c.get("run_id") == "v2"]
    assert [c["version"] for c in commits] == [version]
    assert len(commits[0]["publish_id"]) == 32


def test_a_commit_of_the_same_partition_by_another_run_still_fails_the_publish(bucket, monkeypatch):
    """The own-commit check must not turn a real conflict into a success."""
    table.publish(bucket, "alpha", DAY, rows("alpha", DAY, "v1"), {"run_id": "v1"})
    opened = table.open_table

    def overtaken(bucket_name, version=None):  # the other run commits right after this one read the table
        loaded = opened(bucket_name, version)
        if version is None and not getattr(overtaken, "done", False):
            overtaken.done = True
            table.publish(bucket_name, "alpha", DAY, rows("alpha", DAY, "other"), {"run_id": "other"})
        return loaded

    monkeypatch.setattr(table, "open_table", overtaken)
    with pytest.raises(table.ConcurrentPublishError):
        table.publish(bucket, "alpha", DAY, rows("alpha", DAY, "mine"), {"run_id": "mine"})
    monkeypatch.undo()
    data = table.open_table(bucket).to_pyarrow_table(filters=[("source", "=", "alpha"), ("dt", "=", DAY)])
    assert sorted(data.column("text").to_pylist()) == ["other"] * 3


def fresh_bucket(s3_server, name: str) -> str:
    import boto3

    direct = boto3.client("s3", endpoint_url=s3_server.endpoint, region_name="us-east-1")
    direct.create_bucket(Bucket=name)
    return name


def day_texts(bucket: str) -> list[str]:
    if not table.exists(bucket):
        return []
    data = table.open_table(bucket).to_pyarrow_table(filters=[("source", "=", "alpha"), ("dt", "=", DAY)])
    return sorted(data.column("text").to_pylist())


# The writes of a Delta publish, in order, frozen: the data file, then the commit (the log entry, written only
# if absent), and for a new table the properties commit.
FIRST_PUBLISH = [
    ("data", None),
    ("_delta_log/00000000000000000000.json", "*"),
    ("_delta_log/00000000000000000001.json", "*"),
]
REPUBLISH = [("data", None), ("_delta_log/00000000000000000002.json", "*")]


def delta_writes(proxy: Proxy, bucket: str) -> list[tuple[str, str | None]]:
    out = []
    for r in proxy.requests():
        if r["method"] in ("PUT", "POST"):
            key = unquote(r["path"].split("?")[0]).removeprefix(f"/{bucket}/clean/")
            out.append(("data" if key.startswith("source=alpha/dt=2026-11-20/") else key, r.get("if-none-match")))
    return out


@pytest.mark.parametrize("existing", [False, True], ids=["creating-the-table", "replacing-a-day"])
def test_a_delta_publish_stopped_before_any_of_its_writes_leaves_the_old_or_the_new_day(
    s3_server, through_proxy, monkeypatch, existing
):
    expected = REPUBLISH if existing else FIRST_PUBLISH
    commit_at = 2  # the log entry of the publish: stopped before it, nothing of the publish is visible
    for stop_before in [*range(1, len(expected) + 1), None]:
        monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint)
        bucket = fresh_bucket(s3_server, f"faults-{'e' if existing else 'n'}{stop_before or 0}-{uuid.uuid4().hex[:8]}")
        if existing:
            table.publish(bucket, "alpha", DAY, rows("alpha", DAY, "old"), {"run_id": "old"})
        old = ["old"] * 3 if existing else []
        proxy = through_proxy(refuse_from=stop_before)
        if stop_before is None:
            table.publish(bucket, "alpha", DAY, rows("alpha", DAY, "new"), {"run_id": "new"})
            assert delta_writes(proxy, bucket) == expected
            continue
        with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the writer raises, it must raise
            table.publish(bucket, "alpha", DAY, rows("alpha", DAY, "new"), {"run_id": "new"})
        assert delta_writes(proxy, bucket)[:stop_before] == expected[:stop_before]
        monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint)  # a reader, and the rerun, reach S3 directly
        seen = day_texts(bucket)
        assert seen == (old if stop_before <= commit_at else ["new"] * 3), (stop_before, seen)
        table.publish(bucket, "alpha", DAY, rows("alpha", DAY, "new"), {"run_id": "rerun"})
        assert day_texts(bucket) == ["new"] * 3
        assert table.open_table(bucket).metadata().configuration.get(table.SCHEMA_PROPERTY)
