"""What an S3 bucket holds, read with a plain S3 client as an auditor of the store would; sample scans."""

from __future__ import annotations

import os
from typing import Any

from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import ClientError

from tongban.testbed.infra import SeaweedFS


def _client(server: SeaweedFS) -> Any:
    return get_session().create_client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key, config=Config(s3={"addressing_style": "path"}))


async def bucket_objects(server: SeaweedFS, bucket: str) -> dict[str, int]:
    """Every object of a bucket and its size (none when the bucket does not exist yet)."""
    found: dict[str, int] = {}
    async with _client(server) as s3:
        try:
            paginator = s3.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=bucket):
                found.update({o["Key"]: int(o["Size"]) for o in page.get("Contents", [])})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
                raise
    return found


async def object_bytes(server: SeaweedFS, bucket: str, key: str) -> bytes:
    """The stored bytes of an object."""
    async with _client(server) as s3:
        answer = await s3.get_object(Bucket=bucket, Key=key)
        async with answer["Body"] as body:
            data: bytes = await body.read()
            return data


async def put_raw(server: SeaweedFS, bucket: str, key: str, data: bytes) -> None:
    """Store an object directly, bypassing the service (as a crashed upload would leave one)."""
    async with _client(server) as s3:
        await s3.put_object(Bucket=bucket, Key=key, Body=data)


async def raw_get(server: SeaweedFS, bucket: str, key: str) -> None:
    """Read an object whole and drop it (the raw baseline of a download)."""
    async with _client(server) as s3:
        answer = await s3.get_object(Bucket=bucket, Key=key)
        async with answer["Body"] as body:
            while await body.read(256 * 1024):
                pass


def pdf(size: int) -> bytes:
    """A scan as a PDF of ``size`` bytes (random pages: unique and incompressible)."""
    head, tail = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", b"\ntrailer <<>>\n%%EOF\n"
    return head + os.urandom(size - len(head) - len(tail)) + tail


def jpeg(size: int) -> bytes:
    """A photograph from the window's document camera, as JPEG bytes."""
    head, tail = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", b"\xff\xd9"
    return head + os.urandom(size - len(head) - len(tail)) + tail


def png(size: int) -> bytes:
    """A screenshot as PNG bytes."""
    head = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x02\x00\x00\x00"
    return head + os.urandom(size - len(head))
