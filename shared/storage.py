"""Object storage behind one interface: an S3 server (production, tests) or a folder (embedded).

A service writes an object through a :class:`ObjectWriter` (bytes are sent as they come, so a
large upload is never held whole in memory: S3 multipart parts of ``part_size``, or a temporary
file renamed into place) and reads ranges of it back as a stream. Every failure to reach the store
is a :class:`StoreUnavailable`, which the service answers with 503 and ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from shared.db import private_dirs
from shared.settings import Settings

READ_CHUNK = 256 * 1024


class StoreUnavailable(Exception):
    """The object store cannot be reached (or refused for a transient reason): retry later."""


class ObjectMissing(LookupError):
    """No object under the key (removed behind the service's back, or never committed)."""


@dataclass(frozen=True)
class StoredObject:
    """An object as a listing shows it."""

    key: str
    size: int
    modified: datetime


class ObjectWriter(Protocol):
    """An object being written: nothing is visible under its key until :meth:`commit`."""

    async def write(self, data: bytes) -> None:
        """Send more bytes."""

    async def commit(self) -> None:
        """Make the object visible under its key."""

    async def abort(self) -> None:
        """Drop what was sent; the key stays as it was."""


class ObjectStore(Protocol):
    """Where a service keeps its objects."""

    async def start(self) -> None:
        """Open connections; make the bucket (or folder) when missing."""

    async def close(self) -> None:
        """Release connections."""

    async def writer(self, key: str) -> ObjectWriter:
        """A writer of a new object under ``key``."""

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes ``start`` to ``end`` (inclusive; None: to the end) of an object."""

    async def delete(self, key: str) -> None:
        """Remove an object (no error when it is gone already)."""

    def list(self, prefix: str) -> AsyncIterator[StoredObject]:
        """Every object whose key starts with ``prefix``."""

    async def healthy(self) -> bool:
        """Whether the store answers now."""


# --------------------------------------------------------------------------- folder backend


class FolderStore:
    """Objects as files under a folder: the embedded system's store, no server needed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"invalid object key {key!r}")
        return self.root.joinpath(*parts)

    async def start(self) -> None:
        private_dirs(self.root / ".tmp")  # the embedded data folder is its owner's alone (0700)

    async def close(self) -> None:
        return None

    async def writer(self, key: str) -> ObjectWriter:
        target = self._path(key)
        temp = self.root / ".tmp" / uuid.uuid4().hex
        try:
            handle = await asyncio.to_thread(_private_open, temp)
        except OSError as exc:
            raise StoreUnavailable(f"object folder not writable: {exc}") from exc
        return _FolderWriter(target, temp, handle)

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc
        except OSError as exc:
            raise StoreUnavailable(str(exc)) from exc
        try:
            await asyncio.to_thread(handle.seek, start)
            left = None if end is None else end - start + 1
            while left is None or left > 0:
                data = await asyncio.to_thread(handle.read, READ_CHUNK if left is None else min(READ_CHUNK, left))
                if not data:
                    break
                if left is not None:
                    left -= len(data)
                yield data
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self._path(key).unlink)

    async def list(self, prefix: str) -> AsyncIterator[StoredObject]:
        def walk() -> list[StoredObject]:
            found = []
            for path in self.root.rglob("*"):
                rel = path.relative_to(self.root).as_posix()
                if path.is_file() and not rel.startswith(".tmp/") and rel.startswith(prefix):
                    stat = path.stat()
                    found.append(StoredObject(rel, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)))
            return found

        for item in await asyncio.to_thread(walk):
            yield item

    async def healthy(self) -> bool:
        return os.access(self.root, os.W_OK)


def _private_open(path: Path) -> Any:
    """A new file for writing, readable by its owner alone (0600)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


class _FolderWriter:
    def __init__(self, target: Path, temp: Path, handle: Any) -> None:
        self.target, self.temp, self.handle = target, temp, handle

    async def write(self, data: bytes) -> None:
        try:
            await asyncio.to_thread(self.handle.write, data)
        except OSError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def commit(self) -> None:
        def finish() -> None:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
            private_dirs(self.target.parent)
            os.replace(self.temp, self.target)

        try:
            await asyncio.to_thread(finish)
        except OSError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def abort(self) -> None:
        self.handle.close()
        with contextlib.suppress(FileNotFoundError):
            self.temp.unlink()


# --------------------------------------------------------------------------- S3 backend


def _transient(exc: BaseException) -> bool:
    """Whether an S3 client error means "the store is away", not "the request is wrong"."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return status >= 500 or status in (0, 408, 429)
    return True


def _missing(exc: BaseException) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404")


class S3Store:
    """Objects in one bucket of an S3-compatible server (SeaweedFS, a government cloud's OSS)."""

    def __init__(self, endpoint_url: str, bucket: str, access_key: str, secret_key: str, region: str = "us-east-1",
                 part_size: int = 8 * 1024 * 1024) -> None:
        self.endpoint_url, self.bucket, self.region = endpoint_url, bucket, region
        self._access, self._secret = access_key, secret_key
        self.part_size = part_size
        self._stack = contextlib.AsyncExitStack()
        self.client: Any = None
        self._bucket_ready = False

    async def start(self) -> None:
        from aiobotocore.session import get_session
        from botocore.config import Config

        config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2, "mode": "standard"},
                        connect_timeout=3, read_timeout=30, signature_version="s3v4")
        self.client = await self._stack.enter_async_context(get_session().create_client(
            "s3", endpoint_url=self.endpoint_url, region_name=self.region, aws_access_key_id=self._access,
            aws_secret_access_key=self._secret, config=config))
        try:
            await self.ensure_bucket()
        except StoreUnavailable:
            pass  # the store may come later: the first write makes the bucket then

    async def ensure_bucket(self) -> None:
        """Create the bucket when missing."""
        from botocore.exceptions import ClientError

        try:
            await self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise StoreUnavailable(str(exc)) from exc
            try:
                await self.client.create_bucket(Bucket=self.bucket)
            except ClientError as again:
                if again.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou",
                                                                       "BucketAlreadyExists"):
                    raise StoreUnavailable(str(again)) from again
        except Exception as exc:
            raise StoreUnavailable(f"S3 store at {self.endpoint_url} unreachable: {exc!r}") from exc
        self._bucket_ready = True

    async def close(self) -> None:
        await self._stack.aclose()

    async def call(self, operation: str, **params: Any) -> Any:
        """One S3 call; the store being away becomes :class:`StoreUnavailable`."""
        try:
            return await getattr(self.client, operation)(Bucket=self.bucket, **params)
        except Exception as exc:
            if _missing(exc):
                raise ObjectMissing(str(params.get("Key", ""))) from exc
            if _transient(exc):
                raise StoreUnavailable(f"S3 {operation} failed: {exc!r}") from exc
            raise

    async def writer(self, key: str) -> ObjectWriter:
        if not self._bucket_ready:
            await self.ensure_bucket()
        return _S3Writer(self, key)

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        answer = await self.call("get_object", Key=key, Range=f"bytes={start}-{'' if end is None else end}")
        body = answer["Body"]
        try:
            while True:
                try:
                    data = await body.read(READ_CHUNK)
                except Exception as exc:
                    raise StoreUnavailable(f"S3 read of {key} broke off: {exc!r}") from exc
                if not data:
                    break
                yield data
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        await self.call("delete_object", Key=key)

    async def list(self, prefix: str) -> AsyncIterator[StoredObject]:
        token: str | None = None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            page = await self.call("list_objects_v2", Prefix=prefix, **extra)
            for item in page.get("Contents", []):
                yield StoredObject(item["Key"], int(item["Size"]), item["LastModified"].astimezone(UTC))
            if not page.get("IsTruncated"):
                break
            token = page["NextContinuationToken"]

    async def healthy(self) -> bool:
        try:
            await self.call("head_bucket")
            return True
        except Exception:
            return False


class _S3Writer:
    """A single PUT when the object fits in one part, else a multipart upload of bounded parts."""

    def __init__(self, store: S3Store, key: str) -> None:
        self.store, self.key = store, key
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []

    async def write(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= self.store.part_size:
            part = bytes(self.buffer[: self.store.part_size])
            del self.buffer[: self.store.part_size]
            await self._send(part)

    async def _send(self, part: bytes) -> None:
        if self.upload_id is None:
            started = await self.store.call("create_multipart_upload", Key=self.key)
            self.upload_id = started["UploadId"]
        number = len(self.parts) + 1
        answer = await self.store.call("upload_part", Key=self.key, UploadId=self.upload_id, PartNumber=number,
                                       Body=part)
        self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    async def commit(self) -> None:
        if self.upload_id is None:
            await self.store.call("put_object", Key=self.key, Body=bytes(self.buffer))
            return
        if self.buffer:
            await self._send(bytes(self.buffer))
        self.buffer = bytearray()
        await self.store.call("complete_multipart_upload", Key=self.key, UploadId=self.upload_id,
                              MultipartUpload={"Parts": self.parts})

    async def abort(self) -> None:
        self.buffer = bytearray()
        if self.upload_id is not None:
            with contextlib.suppress(Exception):
                await self.store.call("abort_multipart_upload", Key=self.key, UploadId=self.upload_id)


def open_store(settings: Settings, service: str) -> ObjectStore:
    """The store the settings name: a folder under the data dir, or the S3 server."""
    if settings.object_store == "s3":
        if not settings.s3_endpoint_url:
            raise ValueError("TONGBAN_OBJECT_STORE=s3 needs TONGBAN_S3_ENDPOINT_URL")
        return S3Store(settings.s3_endpoint_url, settings.s3_bucket, settings.s3_access_key,
                       settings.s3_secret_key or "", settings.s3_region)
    return FolderStore(settings.data_dir / "objects" / service)
