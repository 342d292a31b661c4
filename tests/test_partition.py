"""The raw layer's publish protocol against a real S3 endpoint (moto server over HTTP): overlapping runs of the
same (source, dt), deterministic interleavings, free-running trials and a failing S3 client between any two
writes. The invariant checked everywhere: `read_manifest` gives None or one whole version whose parts all
exist with the size and sha256 the manifest lists."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from ingest import partition
from ingest import s3 as s3io

DAY = date(2026, 11, 20)
PREFIX = "raw/source=src/dt=2026-11-20/"


def files(tmp_path, attempt, payload, names=("part-00000.warc.gz", "index.jsonl.gz")):
    out = []
    for name in names:
        path = tmp_path / attempt / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload.encode() + name.encode())
        out.append(path)
    return out


def publish(s3, bucket, tmp_path, attempt, payload, hook=None, names=("part-00000.warc.gz", "index.jsonl.gz")):
    return partition.publish(
        s3, bucket, "raw", "src", DAY, files(tmp_path, attempt, payload, names), {"run": attempt}, attempt, hook
    )


def consistent(s3, bucket) -> dict | None:
    """The version a reader sees, after checking every part against the manifest (None: no partition)."""
    manifest = partition.read_manifest(s3, bucket, "raw", "src", DAY)
    if manifest is None:
        return None
    for part in manifest["parts"]:
        body = s3io.get_bytes(s3, bucket, part["key"])
        assert len(body) == part["size"] and hashlib.sha256(body).hexdigest() == part["sha256"], part
        assert part["key"].startswith(f"{PREFIX}attempt={manifest['attempt']}/"), part
    return manifest


def test_publish_writes_the_attempt_folder_then_the_manifest_then_success(bucket, tmp_path):
    s3 = s3io.client()
    manifest = publish(s3, bucket, tmp_path, "a1", "x")
    assert sorted(s3io.list_objects(s3, bucket, "")) == [
        PREFIX + "_SUCCESS",
        PREFIX + "_manifest.json",
        PREFIX + "attempt=a1/index.jsonl.gz",
        PREFIX + "attempt=a1/part-00000.warc.gz",
    ]
    assert consistent(s3, bucket) == manifest and manifest["run"] == "a1" and manifest["supersedes"] is None


def test_a_second_version_supersedes_the_first_and_keeps_its_files_until_the_sweep(bucket, tmp_path):
    s3 = s3io.client()
    publish(s3, bucket, tmp_path, "a1", "x")
    second = publish(s3, bucket, tmp_path, "a2", "y", names=("part-00000.warc.gz",))
    assert consistent(s3, bucket) == second and second["supersedes"] == "a1"
    assert PREFIX + "attempt=a1/part-00000.warc.gz" in s3io.list_objects(s3, bucket, PREFIX)
    assert partition.sweep_superseded(s3, bucket, "raw", timedelta(days=7)) == [], "within the retention"
    swept = partition.sweep_superseded(s3, bucket, "raw", timedelta(0), now=datetime.now(UTC) + timedelta(seconds=5))
    assert sorted(swept) == [PREFIX + "attempt=a1/index.jsonl.gz", PREFIX + "attempt=a1/part-00000.warc.gz"]
    assert consistent(s3, bucket) == second


class Gate:
    """Lets two publishers take turns at named steps: `at(name, step)` blocks until `release(name, step)`."""

    def __init__(self, pauses: set[tuple[str, str]]) -> None:
        self.pauses = pauses
        self.reached = {p: threading.Event() for p in pauses}
        self.go = {p: threading.Event() for p in pauses}

    def hook(self, name):
        def at(step):
            if (name, step) in self.pauses:
                self.reached[(name, step)].set()
                assert self.go[(name, step)].wait(30), f"{name} never released at {step}"

        return at

    def release_when_reached(self, name, step):
        assert self.reached[(name, step)].wait(30), f"{name} never reached {step}"
        self.go[(name, step)].set()


def run_threads(*targets):
    errors = []

    def guard(fn):
        try:
            fn()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guard, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    return threads, errors


@pytest.mark.parametrize("order", ["b-commits-between-a-read-and-a-commit", "b-uploads-while-a-commits"])
def test_two_publishers_with_deterministic_interleavings(bucket, tmp_path, order):
    s3 = s3io.client()
    publish(s3, bucket, tmp_path, "a0", "old")
    results = {}
    if order == "b-commits-between-a-read-and-a-commit":
        # A reads the manifest, B publishes whole, A commits: A's conditional write is refused, A re-reads and
        # commits on top of B. Neither run deletes the other's folder.
        gate = Gate({("A", "read")})
        threads, errors = run_threads(
            lambda: results.setdefault("A", publish(s3, bucket, tmp_path, "A", "aaa", gate.hook("A"))),
        )
        assert gate.reached[("A", "read")].wait(30)
        results["B"] = publish(s3, bucket, tmp_path, "B", "bbb")
        assert consistent(s3, bucket)["attempt"] == "B"
        gate.go[("A", "read")].set()
    else:
        # B has uploaded and waits; A publishes whole; B then commits: B supersedes A.
        gate = Gate({("B", "uploaded")})
        threads, errors = run_threads(
            lambda: results.setdefault("B", publish(s3, bucket, tmp_path, "B", "bbb", gate.hook("B"))),
        )
        assert gate.reached[("B", "uploaded")].wait(30)
        results["A"] = publish(s3, bucket, tmp_path, "A", "aaa")
        gate.go[("B", "uploaded")].set()
    for t in threads:
        t.join(60)
    assert not errors, errors
    final = consistent(s3, bucket)
    last = "A" if order.startswith("b-commits") else "B"
    first = "B" if last == "A" else "A"
    assert final["attempt"] == last and final["supersedes"] == first
    keys = s3io.list_objects(s3, bucket, PREFIX)
    for attempt in ("a0", "A", "B"):
        assert f"{PREFIX}attempt={attempt}/part-00000.warc.gz" in keys, f"{attempt}'s folder was deleted"


def test_two_publishers_free_running_2_x_20_trials(bucket, tmp_path):
    """Two runs of the same day at once, 20 trials in each of two orders of start: 0 corruptions, 0 lost."""
    s3 = s3io.client()
    publish(s3, bucket, tmp_path, "seed", "seed")  # from here on a reader must always see a whole version
    started, corruptions, lost = time.monotonic(), 0, 0
    for series in range(2):
        for trial in range(20):
            day_attempts = [f"s{series}t{trial}{name}" for name in "AB"]
            barrier = threading.Barrier(2)
            seen: list = []

            def reader(stop, seen=seen):
                while not stop.is_set():
                    try:
                        seen.append(consistent(s3, bucket))
                    except AssertionError as exc:  # a manifest whose parts are missing or differ
                        seen.append(exc)

            stop = threading.Event()
            watcher = threading.Thread(target=reader, args=(stop,))
            watcher.start()

            def run(attempt, barrier=barrier):
                barrier.wait()
                publish(s3, bucket, tmp_path, attempt, attempt * 50)

            order = day_attempts if series == 0 else day_attempts[::-1]
            threads, errors = run_threads(*(lambda a=a: run(a) for a in order))
            for t in threads:
                t.join(60)
            stop.set()
            watcher.join(60)
            assert not errors, errors
            final = consistent(s3, bucket)
            corruptions += final is None or final["attempt"] not in day_attempts
            corruptions += sum(isinstance(v, AssertionError) or v is None for v in seen)
            lost += any(
                f"{PREFIX}attempt={a}/part-00000.warc.gz" not in s3io.list_objects(s3, bucket, PREFIX)
                for a in day_attempts
            )
    assert (corruptions, lost) == (0, 0)
    assert time.monotonic() - started < 300


class FailingClient:
    """A real S3 client that raises on its n-th write and records the order of writes."""

    WRITES = ("put_object", "upload_file", "copy", "copy_object", "delete_objects")

    def __init__(self, real, fail_at: int | None) -> None:
        self.real, self.fail_at, self.writes = real, fail_at, []

    def __getattr__(self, name):
        attr = getattr(self.real, name)
        if name not in self.WRITES:
            return attr

        def write(*args, **kwargs):
            key = kwargs.get("Key") or (args[2] if name == "upload_file" else None)
            if self.fail_at is not None and len(self.writes) == self.fail_at:
                raise ConnectionError(f"injected: S3 gone before write {self.fail_at} ({name} {key})")
            self.writes.append((name, key))
            return attr(*args, **kwargs)

        return write


def test_a_failing_s3_client_between_any_two_writes_leaves_the_old_or_the_new_version(bucket, tmp_path):
    s3 = s3io.client()
    old = publish(s3, bucket, tmp_path, "old", "old")
    probe = FailingClient(s3, None)
    publish(probe, bucket, tmp_path, "probe", "probe")
    names = [(n, k.removeprefix(PREFIX) if k else k) for n, k in probe.writes]
    # the order of writes: this attempt's files, then the manifest (the commit); _SUCCESS already exists
    assert names == [
        ("upload_file", "attempt=probe/part-00000.warc.gz"),
        ("upload_file", "attempt=probe/index.jsonl.gz"),
        ("put_object", "_manifest.json"),
        ("put_object", "_SUCCESS"),
    ]
    before = consistent(s3, bucket)
    for fail_at in range(len(names)):
        client = FailingClient(s3, fail_at)
        attempt = f"fail{fail_at}"
        with pytest.raises(ConnectionError):
            publish(client, bucket, tmp_path, attempt, attempt)
        seen = consistent(s3, bucket)
        assert seen["attempt"] in (before["attempt"], attempt), f"fail at {fail_at}: {seen['attempt']}"
        assert seen["attempt"] == (attempt if fail_at >= 3 else before["attempt"])
        before = seen
        retry = publish(s3, bucket, tmp_path, f"{attempt}-retry", attempt)
        assert consistent(s3, bucket) == retry
        before = retry
    # first publish of a partition: until _SUCCESS, readers see no partition at all
    day = DAY + timedelta(days=1)
    client = FailingClient(s3, 3)
    with pytest.raises(ConnectionError):
        partition.publish(client, bucket, "raw", "src", day, files(tmp_path, "new", "n"), {}, "new")
    assert partition.read_manifest(s3, bucket, "raw", "src", day) is None
    assert old["attempt"] == "old"
