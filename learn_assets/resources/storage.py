"""One small storage interface over local folders and Azure Blob / ADLS Gen2, through fsspec.

A location is a local path (or `file://` URL) or an Azure URL:

- `az://<container>/<path>` (the account comes from the credentials below), or
- `abfs://<container>@<account>.dfs.core.windows.net/<path>` (also `abfss://`, `.blob.`).

Credentials come from the environment only, first match wins:
`AZURE_STORAGE_CONNECTION_STRING`; else `AZURE_STORAGE_ACCOUNT_KEY` (with the URL's account or
`AZURE_STORAGE_ACCOUNT_NAME`); else `DefaultAzureCredential` (managed identity, workload
identity, `az login`, ...). Secrets never appear in messages: every storage failure becomes a
`StorageError` naming the location, with known secret values redacted and no chained exception
(a chained Azure error could carry them into Dagster's UI).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import fsspec
from fsspec.implementations.local import LocalFileSystem

CHUNK = 1 << 20
AZURE_PROTOCOLS = ("az", "abfs", "abfss")
_ABFS_NETLOC = re.compile(r"^(?P<container>[^@/]+)@(?P<account>[^./]+)\.(dfs|blob)\.[^/]+$")
_SECRET_PATTERNS = (  # secrets that may sit inside a message even when the value is unknown
    re.compile(r"(AccountKey=)[^;\s'\"]+", re.IGNORECASE),
    re.compile(r"(SharedAccessSignature=)[^;\s'\"]+", re.IGNORECASE),
    re.compile(r"([?&]sig=)[^&\s'\"]+", re.IGNORECASE),
)
T = TypeVar("T")


class StorageError(Exception):
    """A storage operation failed; the message names the location and never holds a secret."""


@dataclass(frozen=True)
class Location:
    """Where a storage root is: `protocol` "file" or "az", and the fsspec path of the root."""

    protocol: str
    path: str  # local path, or "<container>/<prefix>" for Azure
    account: str | None = None  # from an abfs URL; None: from the credentials

    @property
    def remote(self) -> bool:
        return self.protocol != "file"

    @property
    def url(self) -> str:
        """Display form, without secrets (URLs never carry any: query strings are refused)."""
        if not self.remote:
            return self.path
        container, _, prefix = self.path.partition("/")
        host = f"{container}@{self.account}.dfs.core.windows.net" if self.account else container
        return f"{'abfs' if self.account else 'az'}://{host}" + (f"/{prefix}" if prefix else "")


def is_remote(url: str) -> bool:
    return url.split("://", 1)[0].lower() in AZURE_PROTOCOLS if "://" in url else False


def parse_location(url: str) -> Location:
    """Parse a local path or an Azure URL (see the module docstring) into a `Location`."""
    if "://" not in url:
        return Location("file", url)
    protocol, rest = url.split("://", 1)
    protocol = protocol.lower()
    if protocol == "file":
        return Location("file", rest)
    if protocol not in AZURE_PROTOCOLS:
        raise StorageError(f"unsupported storage URL scheme {protocol!r}: use az:// or abfs://")
    if "?" in rest or "#" in rest:
        # A SAS token in the URL would end up in logs and metadata: credentials come from env.
        raise StorageError(f"{protocol}:// URL must not carry a query string; use env credentials")
    netloc, _, prefix = rest.partition("/")
    account = None
    if "@" in netloc:
        match = _ABFS_NETLOC.match(netloc)
        if not match:
            raise StorageError(
                f"cannot parse {protocol}://{netloc}: expected <container>@<account>."
                "dfs.core.windows.net"
            )
        netloc, account = match["container"], match["account"]
    if not netloc:
        raise StorageError(f"{protocol}:// URL names no container")
    prefix = prefix.strip("/")
    return Location("az", f"{netloc}/{prefix}" if prefix else netloc, account)


def azure_options(env: Mapping[str, str], account: str | None) -> dict[str, Any]:
    """adlfs keyword arguments for the credentials in `env` (connection string, key, or
    DefaultAzureCredential), never anything else: adlfs would otherwise read more variables."""
    if conn := env.get("AZURE_STORAGE_CONNECTION_STRING"):
        return {"connection_string": conn}
    name = account or env.get("AZURE_STORAGE_ACCOUNT_NAME")
    if not name:
        raise StorageError(
            "no Azure storage account: set AZURE_STORAGE_CONNECTION_STRING, or "
            "AZURE_STORAGE_ACCOUNT_NAME (or use an abfs://container@account... URL)"
        )
    if key := env.get("AZURE_STORAGE_ACCOUNT_KEY"):
        return {"account_name": name, "account_key": key}
    return {"account_name": name, "anon": False}  # adlfs: DefaultAzureCredential


def secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    names = (
        "AZURE_STORAGE_CONNECTION_STRING",
        "AZURE_STORAGE_ACCOUNT_KEY",
        "AZURE_STORAGE_SAS_TOKEN",
        "AZURE_STORAGE_CLIENT_SECRET",
        "AZURE_CLIENT_SECRET",
    )
    found = [env[n] for n in names if env.get(n)]
    if conn := env.get("AZURE_STORAGE_CONNECTION_STRING"):  # the key inside it, too
        found += re.findall(r"AccountKey=([^;]+)", conn, re.IGNORECASE)
    return tuple(sorted(set(found), key=len, reverse=True))


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for value in secrets:
        text = text.replace(value, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(r"\1***", text)
    return text


@functools.cache
def _blob_filesystem_class() -> type:
    """adlfs with a short retry policy: Azure's default backs off for over a minute on a dead
    endpoint, longer than a sensor tick may take. Imported lazily: local use needs no Azure SDK."""
    from adlfs import AzureBlobFileSystem
    from azure.storage.blob.aio import BlobServiceClient

    class BlobFileSystem(AzureBlobFileSystem):
        def __init__(self, *, retries: int, **kwargs: Any):
            self.retries = retries
            super().__init__(**kwargs)

        def do_connect(self) -> None:
            policy = {"retry_total": self.retries, "initial_backoff": 1, "increment_base": 2}
            if self.connection_string:
                self.service_client = BlobServiceClient.from_connection_string(
                    self.connection_string, **policy
                )
                return
            self.account_url = f"https://{self.account_name}.blob.core.windows.net"
            self.service_client = BlobServiceClient(
                self.account_url, credential=self.account_key or self.credential, **policy
            )

    return BlobFileSystem


def _blob_filesystem(options: dict[str, Any], retries: int) -> fsspec.AbstractFileSystem:
    # No listing cache: a sensor lists the same folders every tick and must see new files.
    return _blob_filesystem_class()(retries=retries, use_listings_cache=False, **options)


@dataclass(frozen=True)
class Entry:
    """One file or folder of a listing: sizes in bytes, modification time in epoch seconds."""

    name: str
    is_dir: bool
    size: int
    modified: float


def _modified(info: Mapping[str, Any]) -> float:
    stamp = info.get("last_modified") or info.get("mtime") or 0.0
    return stamp.timestamp() if hasattr(stamp, "timestamp") else float(stamp)


class Storage:
    """A storage root (local folder or Azure prefix); every path argument is relative to it."""

    def __init__(self, url: str, env: Mapping[str, str] | None = None, retries: int = 3):
        env = os.environ if env is None else env
        self.location = parse_location(url)
        self._secrets = secret_values(env)
        if self.location.remote:
            options = azure_options(env, self.location.account)
            self.fs = self._guard("connect to", "", lambda: _blob_filesystem(options, retries))
        else:
            self.fs = LocalFileSystem()

    def __repr__(self) -> str:
        return f"Storage({self.location.url!r})"

    @property
    def remote(self) -> bool:
        return self.location.remote

    def path(self, relative: str = "") -> str:
        """The fsspec path of `relative` under the root."""
        relative = relative.strip("/")
        if not relative:
            return self.location.path
        if self.remote:
            return f"{self.location.path}/{relative}"
        return os.path.join(self.location.path, relative)

    def display(self, relative: str = "") -> str:
        """The URL or path of `relative` to show in messages and metadata (never a secret)."""
        relative = relative.strip("/")
        if not self.remote:
            return self.path(relative)
        return f"{self.location.url}/{relative}" if relative else self.location.url

    def _guard(self, action: str, relative: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except StorageError:
            raise
        except Exception as e:  # noqa: BLE001 - every backend error becomes a redacted one
            first_line = (str(e).strip().splitlines() or [""])[0]
            message = redact(
                f"cannot {action} {self.display(relative)}: {type(e).__name__}: {first_line}",
                self._secrets,
            )
        # Raised outside the except block: no __context__ that could carry a secret.
        raise StorageError(message)

    def list(self, relative: str = "") -> list[Entry]:
        """Direct children of a folder, sorted by name; [] when the folder does not exist."""

        def ls() -> list[dict[str, Any]]:
            try:
                return self.fs.ls(self.path(relative), detail=True)
            except FileNotFoundError:
                return []

        return sorted(
            (
                Entry(
                    info["name"].rstrip("/").rsplit("/", 1)[-1],
                    info.get("type") == "directory",
                    int(info.get("size") or 0),
                    _modified(info),
                )
                for info in self._guard("list", relative, ls)
                if info["name"].rstrip("/")
                != self.fs._strip_protocol(self.path(relative)).rstrip("/")
            ),
            key=lambda e: e.name,
        )

    def walk_files(self, max_depth: int) -> dict[str, Entry]:
        """Every file down to `max_depth` folders below the root, by relative path: one paged
        listing request on Azure instead of one per folder."""
        root = self.fs._strip_protocol(self.path()).rstrip("/")

        def find() -> dict[str, dict[str, Any]]:
            try:
                return self.fs.find(root, maxdepth=max_depth, detail=True)
            except FileNotFoundError:
                return {}

        found = {}
        for name, info in self._guard("list", "", find).items():
            if info.get("type") == "directory":
                continue
            relative = name[len(root) :].lstrip("/").replace(os.sep, "/")
            found[relative] = Entry(
                relative.rsplit("/", 1)[-1], False, int(info.get("size") or 0), _modified(info)
            )
        return found

    def stat(self, relative: str) -> Entry | None:
        """A file's size and modification time, or None if there is no such file."""

        def info() -> dict[str, Any] | None:
            try:
                found = self.fs.info(self.path(relative))
            except FileNotFoundError:
                return None
            return found if found.get("type") == "file" else None

        found = self._guard("stat", relative, info)
        if found is None:
            return None
        return Entry(relative.rsplit("/", 1)[-1], False, int(found["size"]), _modified(found))

    @contextmanager
    def open(self, relative: str, mode: str = "rb") -> Iterator[GuardedFile]:
        """A binary file handle (read or write) whose errors are redacted `StorageError`s."""
        action = "read" if "r" in mode else "write"
        handle = self._guard(action, relative, lambda: self.fs.open(self.path(relative), mode))
        try:
            yield GuardedFile(self, action, relative, handle)
        finally:
            self._guard(action, relative, handle.close)

    def read_bytes(self, relative: str) -> bytes:
        return self._guard("read", relative, lambda: self.fs.cat_file(self.path(relative)))

    def write_bytes(self, relative: str, data: bytes) -> None:
        """Write a whole file at once (atomic on Azure; a temporary file and rename locally)."""
        if self.remote:
            self._guard("write", relative, lambda: self.fs.pipe_file(self.path(relative), data))
            return
        target = Path(self.path(relative))
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(f".{target.name}.{os.getpid()}.part")
        part.write_bytes(data)
        os.replace(part, target)

    def makedirs(self, relative: str) -> None:
        if not self.remote:  # Azure has no empty folders: a blob's name makes its folders
            Path(self.path(relative)).mkdir(parents=True, exist_ok=True)

    def replace(self, source: str, target: str) -> None:
        """Move `source` onto `target`, overwriting it: atomic locally, copy+delete on Azure."""
        if self.remote:
            self._guard("move", source, lambda: self.fs.mv(self.path(source), self.path(target)))
        else:
            os.replace(self.path(source), self.path(target))

    def copy(self, source: str, target: str) -> None:
        self._guard("copy", source, lambda: self.fs.copy(self.path(source), self.path(target)))

    def remove(self, relative: str) -> None:
        def rm() -> None:
            try:
                self.fs.rm_file(self.path(relative))
            except FileNotFoundError:
                pass

        self._guard("delete", relative, rm)

    def download(self, relative: str, local: Path, modified: float) -> None:
        """Copy a file to a local path (atomically) and stamp it with the source's modification
        time, so a later size + time comparison can tell the copy is current."""
        local.parent.mkdir(parents=True, exist_ok=True)
        part = local.with_name(f".{local.name}.{os.getpid()}.part")
        try:
            self._guard("download", relative, lambda: self.fs.get_file(self.path(relative), part))
            os.utime(part, (modified, modified))
            os.replace(part, local)
        finally:
            part.unlink(missing_ok=True)


class GuardedFile:
    """A file handle whose read/write errors are redacted `StorageError`s too."""

    def __init__(self, storage: Storage, action: str, relative: str, handle: IO[bytes]):
        self._storage, self._action, self._relative = storage, action, relative
        self._handle = handle

    def read(self, size: int = -1) -> bytes:
        return self._storage._guard(self._action, self._relative, lambda: self._handle.read(size))

    def write(self, data: bytes) -> int:
        return self._storage._guard(self._action, self._relative, lambda: self._handle.write(data))
