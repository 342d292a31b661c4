"""An in-process S3 client of the calls `ingest.partition` makes, with S3's semantics where they matter: ETags that
change on every write, `If-Match` / `If-None-Match: *` refused with 412 (PreconditionFailed), 404 codes, listing in
pages, LastModified from a clock the test sets. It records every write in order. No server: fast tests."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

from botocore.exceptions import ClientError


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


class FakeS3:
    PAGE = 2  # keys per listing page: listings of more than two keys are paginated

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        self.objects: dict[str, dict] = {}  # key -> {"body", "etag", "modified", "content_type"}
        self.writes: list[tuple[str, str]] = []  # (operation, key) of every applied write, in order
        self.refused: list[tuple[str, str]] = []  # conditional writes refused
        self.now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
        self.version = 0

    def _check(self, bucket: str, operation: str) -> None:
        if bucket != self.bucket:
            raise client_error("NoSuchBucket", operation)

    def _store(self, key: str, body: bytes, content_type: str | None = None) -> None:
        self.version += 1
        etag = '"' + hashlib.md5(body + str(self.version).encode()).hexdigest() + '"'
        self.objects[key] = {"body": body, "etag": etag, "modified": self.now, "content_type": content_type}

    # -- the calls ------------------------------------------------------------------------------------------
    def put_object(self, *, Bucket, Key, Body, ContentType=None, IfMatch=None, IfNoneMatch=None):  # noqa: N803
        self._check(Bucket, "PutObject")
        current = self.objects.get(Key)
        if IfNoneMatch is not None:
            assert IfNoneMatch == "*", IfNoneMatch
            if current is not None:
                self.refused.append(("put_object", Key))
                raise client_error("PreconditionFailed", "PutObject")
        if IfMatch is not None and (current is None or current["etag"] != IfMatch):
            self.refused.append(("put_object", Key))
            raise client_error("PreconditionFailed" if current else "NoSuchKey", "PutObject")
        self._store(Key, Body if isinstance(Body, bytes) else Body.read(), ContentType)
        self.writes.append(("put_object", Key))
        return {"ETag": self.objects[Key]["etag"]}

    def upload_file(self, Filename, Bucket, Key, Config=None):  # noqa: N803
        self._check(Bucket, "PutObject")
        self._store(Key, Path(Filename).read_bytes())
        self.writes.append(("upload_file", Key))

    def get_object(self, *, Bucket, Key):  # noqa: N803
        self._check(Bucket, "GetObject")
        if Key not in self.objects:
            raise client_error("NoSuchKey", "GetObject")
        obj = self.objects[Key]
        return {"Body": io.BytesIO(obj["body"]), "ETag": obj["etag"], "ContentLength": len(obj["body"])}

    def head_object(self, *, Bucket, Key):  # noqa: N803
        self._check(Bucket, "HeadObject")
        if Key not in self.objects:
            raise client_error("404", "HeadObject")
        return {"ETag": self.objects[Key]["etag"]}

    def delete_objects(self, *, Bucket, Delete):  # noqa: N803
        self._check(Bucket, "DeleteObjects")
        for item in Delete["Objects"]:
            self.objects.pop(item["Key"], None)
            self.writes.append(("delete", item["Key"]))
        return {}

    def get_paginator(self, name):
        assert name == "list_objects_v2", name
        return self

    def paginate(self, *, Bucket, Prefix=""):  # noqa: N803
        self._check(Bucket, "ListObjectsV2")
        keys = sorted(k for k in self.objects if k.startswith(Prefix))
        for i in range(0, max(len(keys), 1), self.PAGE):
            chunk = keys[i : i + self.PAGE]
            page = {"KeyCount": len(chunk)}
            if chunk:  # S3 leaves Contents out of an empty page
                page["Contents"] = [
                    {"Key": k, "Size": len(self.objects[k]["body"]), "LastModified": self.objects[k]["modified"]}
                    for k in chunk
                ]
            yield page

    # -- for the tests ----------------------------------------------------------------------------------------
    def body(self, key: str) -> bytes:
        return self.objects[key]["body"]
