"""Where a data dir's vectors live on a Chroma server (memory.chroma): its URL and own tenant."""

from __future__ import annotations

import functools
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr

from memory.errors import VectorServerError
from memory.graph import chroma_import
from memory.settings import MemorySettings, Paths

DATABASE = "memories"
"""The one database in each data dir's tenant."""

TENANT_PREFIX = "hearth-"

P = ParamSpec("P")
R = TypeVar("R")


class ServerPlace(BaseModel):
    """One data dir's place on one server: tenant `hearth-<id>`, database `memories`."""

    url: str
    tenant: str
    database: str = DATABASE
    token: SecretStr | None = None


def is_remote(settings: MemorySettings) -> bool:
    return settings.chroma != "embedded"


def place(paths: Paths, settings: MemorySettings, *, create: bool) -> ServerPlace | None:
    """This data dir's place on the configured server; None when embedded, or when no id was
    written yet and `create` is false (a reader never makes one)."""
    if not is_remote(settings):
        return None
    ident = _read_id(paths.chroma_server_id)
    if ident is None:
        if not create:
            return None
        ident = _write_id(paths.chroma_server_id)
    return ServerPlace(
        url=settings.chroma, tenant=TENANT_PREFIX + ident, token=settings.chroma_token
    )


def _read_id(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if text.isalnum() and len(text) == 32 else None


def _write_id(path: Path) -> str:
    # Random, not derived from the path: two data dirs on one server never meet, and a data dir
    # moved to another folder or machine keeps its tenant.
    ident = secrets.token_hex(16)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(ident + "\n")
    return ident


def describe(where: ServerPlace) -> str:
    return f"the Chroma server at {where.url} (tenant {where.tenant})"


def unreachable(where: ServerPlace, exc: BaseException) -> VectorServerError:
    return VectorServerError(
        f"cannot reach the Chroma server at {where.url} ({_short(exc)}): start it "
        f"(`chroma run --path DIR --host 127.0.0.1 --port PORT`) or set "
        'memory.chroma = "embedded"; the memories themselves are safe in memory.sqlite3'
    )


def is_connection_error(exc: BaseException) -> bool:
    """A server that is down or refuses us, as opposed to an index that is damaged."""
    import httpx

    if isinstance(exc, httpx.TransportError):
        return True
    text = str(exc)
    if isinstance(exc, ValueError) and "Could not connect" in text:
        return True
    # Chroma raises its own errors for HTTP 401/403 from an auth proxy or its own auth.
    return type(exc).__name__ in {"AuthorizationError", "AuthenticationError"}


def guarded(
    where: Callable[[Any], ServerPlace | None],
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Calls on a server whose failure to connect becomes one VectorServerError line."""

    def wrap(call: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(call)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return call(*args, **kwargs)
            except VectorServerError:
                raise
            except Exception as exc:
                server = where(args[0])
                if server is not None and is_connection_error(exc):
                    raise unreachable(server, exc) from exc
                raise

        return run

    return wrap


def connect(where: ServerPlace) -> Any:
    """An HttpClient on this data dir's tenant and database, both created on first use."""
    # Imported here: chromadb costs half a second at import and most commands never search.
    chromadb = chroma_import.chromadb()
    from chromadb.config import Settings as ChromaSettings
    from chromadb.errors import NotFoundError as ChromaNotFound

    # httpx logs every request at INFO: each search would add lines naming the tenant to the log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    split = urlsplit(where.url)
    host = split.hostname or "127.0.0.1"
    ssl = split.scheme == "https"
    port = split.port or (443 if ssl else 8000)
    headers = {"Authorization": f"Bearer {where.token.get_secret_value()}"} if where.token else None
    settings = ChromaSettings(
        anonymized_telemetry=False,
        chroma_api_impl="chromadb.api.fastapi.FastAPI",
        chroma_server_host=host,
        chroma_server_http_port=port,
        chroma_server_ssl_enabled=ssl,
        chroma_server_headers=headers,
    )
    try:
        admin = chromadb.AdminClient(settings)
        try:
            admin.get_tenant(where.tenant)
        except ChromaNotFound:
            admin.create_tenant(where.tenant)
        try:
            admin.get_database(where.database, tenant=where.tenant)
        except ChromaNotFound:
            admin.create_database(where.database, tenant=where.tenant)
        return chromadb.HttpClient(
            host=host,
            port=port,
            ssl=ssl,
            headers=headers,
            tenant=where.tenant,
            database=where.database,
            settings=ChromaSettings(anonymized_telemetry=False),
        )
    except Exception as exc:
        if is_connection_error(exc):
            raise unreachable(where, exc) from exc
        raise


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__


def drop(where: ServerPlace, collection: str) -> bool:
    """Delete this data dir's collection and database on the server; whether there was one."""
    from chromadb.errors import NotFoundError as ChromaNotFound

    client = connect(where)
    try:
        try:
            client.delete_collection(collection)
            found = True
        except ChromaNotFound:
            found = False
        return found
    except Exception as exc:
        if is_connection_error(exc):
            raise unreachable(where, exc) from exc
        raise
    finally:
        client.close()
