"""Thin helpers over boto3. Endpoint, credentials and region come from boto3's own environment."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

MB = 1024 * 1024
# botocore's "standard" retry mode retries throttling, 5xx and connection errors with backoff.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=60)
# Files above the threshold go up in parts, so a large WARC never needs one giant PUT.
TRANSFER_CONFIG = TransferConfig(multipart_threshold=16 * MB, multipart_chunksize=16 * MB, max_concurrency=4)


def client():
    """An S3 client configured from the environment (`AWS_ENDPOINT_URL`, credentials, region)."""
    return boto3.client("s3", config=CLIENT_CONFIG)


def ensure_bucket(s3, bucket: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        s3.create_bucket(Bucket=bucket)


def list_objects(s3, bucket: str, prefix: str) -> dict[str, int]:
    """Every key under `prefix` with its size."""
    found: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"]] = obj["Size"]
    return found


def exists(s3, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def get_bytes(s3, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def get_bytes_or_none(s3, bucket: str, key: str) -> bytes | None:
    try:
        return get_bytes(s3, bucket, key)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def put_bytes(s3, bucket: str, key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)


def upload_file(s3, path: Path, bucket: str, key: str) -> None:
    s3.upload_file(str(path), bucket, key, Config=TRANSFER_CONFIG)


def download_file(s3, bucket: str, key: str, path: Path) -> None:
    s3.download_file(bucket, key, str(path), Config=TRANSFER_CONFIG)


def copy_object(s3, bucket: str, src: str, dst: str) -> None:
    s3.copy({"Bucket": bucket, "Key": src}, bucket, dst, Config=TRANSFER_CONFIG)


def delete_keys(s3, bucket: str, keys: Iterable[str]) -> None:
    batch = sorted(keys)
    for i in range(0, len(batch), 1000):  # the DeleteObjects limit
        chunk = [{"Key": k} for k in batch[i : i + 1000]]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(MB), b""):
            digest.update(block)
    return digest.hexdigest()
