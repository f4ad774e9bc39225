"""Talking to a running Hearth (`hearth serve`, here or `--connect URL`): turns and memory."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel

from agent.serving.chat_calls import ChatCalls
from agent.serving.hangup import Hangup as Hangup
from agent.serving.schemas import MemoryIn, TurnRequest
from memory.errors import HearthServerError, error_named
from memory.settings import Paths, RemoteSettings

READ_WAIT_S = 2.0
"""How long a read waits for this machine's server before the command answers it here."""
NOTE_AFTER_S = 2.0
"""How long a write waits before the command says it is waiting."""
WRITE_WAIT_S = 60.0
"""How long a write (a turn, a memory added or forgotten) waits for a busy server to take it."""


class Remote(BaseModel):
    """Where a Hearth serves and the token it wants."""

    url: str
    token: str
    timeout_s: float = 600.0
    busy_wait_s: float = WRITE_WAIT_S
    """How long a write waits for a busy server to take it (remote.busy_wait_s)."""
    here: bool = False
    """The server of this machine's own data dir (found by its serve.json)."""


def local(paths: Paths, settings: RemoteSettings) -> Remote | None:
    """The Hearth serving this machine's data dir, if one runs (its token read from the data
    dir, which only its owner can)."""
    from memory.coordination.serve_files import read_token, running

    found = running(paths)
    if found is None or not _listening(found.url):
        return None
    try:
        token = read_token(paths.serve_token)
    except OSError:
        return None
    return Remote(
        url=found.url,
        token=token,
        timeout_s=settings.timeout_s,
        busy_wait_s=settings.busy_wait_s,
        here=True,
    )


def _listening(url: str) -> bool:
    """Something accepts connections at the URL: a server killed (-9) leaves its serve.json,
    and its pid may since be another process's; then the command opens the data dir itself."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=1.0):
            return True
    except OSError:
        return False


def remote(url: str, settings: RemoteSettings) -> Remote:
    """A Hearth served elsewhere: its token from remote.token or remote.token_file."""
    token = settings.secret_token()
    if token is None:
        raise HearthServerError(
            f"{url} needs its token: set HEARTH_REMOTE__TOKEN or remote.token_file "
            "(the token is serve.token in that Hearth's data dir)"
        )
    return Remote(
        url=url.rstrip("/"),
        token=token.get_secret_value(),
        timeout_s=settings.timeout_s,
        busy_wait_s=settings.busy_wait_s,
    )


class Busy(Exception):
    """This machine's server did not answer a read in READ_WAIT_S: the command reads the data
    dir itself."""


class Client(ChatCalls):
    """Hearth's own API (/api/...) on a running server (the chat's calls: `ChatCalls`).
    `on_wait` is told, once, when a write has waited NOTE_AFTER_S for the server (busy with
    another turn)."""

    def __init__(self, remote: Remote, on_wait: Callable[[str], None] | None = None) -> None:
        self.remote = remote
        self.on_wait = on_wait
        self._http = httpx.Client(
            base_url=remote.url,
            headers={"Authorization": f"Bearer {remote.token}"},
            timeout=httpx.Timeout(remote.timeout_s, connect=5.0),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def turn(
        self,
        request: TurnRequest,
        on_piece: Callable[[str], None] | None,
        hangup: Hangup | None = None,
        on_session: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """One turn as `hearth say` runs it; each piece of the reply as it is made. Returns
        the turn's `TurnResult` as JSON (read as such it would cost `say` its import). Once
        `hangup` is called the turn ends here with a HearthServerError. `on_session` is told
        the session it went in before the reply begins. A turn the server has not begun in
        remote.busy_wait_s (busy with others) is given up: nothing of it is journaled there."""
        result = self._turn_lines("/api/turn", request.model_dump(), on_piece, hangup, on_session)
        if result is None:
            raise HearthServerError(f"{self.remote.url} ended the turn without a result; try again")
        return result

    def _turn_lines(
        self,
        path: str,
        body: dict[str, Any],
        on_piece: Callable[[str], None] | None,
        hangup: Hangup | None,
        on_session: Callable[[int], None] | None,
        on_line: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any] | None:
        """A streamed turn's lines read (`agent/serving/bridge.py` `turn_lines`): its result
        (None: the work ended without a reply); a line of another kind to `on_line`."""
        hangup = hangup or Hangup()
        with self._waiting(hangup) as began:
            for line in self._lines("POST", path, hangup, json=body):
                if "piece" in line:
                    if on_piece is not None:
                        on_piece(line["piece"])
                elif "session" in line:
                    began.set()
                    if on_session is not None:
                        on_session(int(line["session"]))
                elif "result" in line:
                    began.set()
                    return None if line["result"] is None else dict(line["result"])
                elif "error" not in line and on_line is not None:
                    began.set()
                    on_line(line)
                else:
                    raise _relayed(line, self.remote.url)
            raise HearthServerError(f"{self.remote.url} ended the turn without a result; try again")

    @contextlib.contextmanager
    def _waiting(self, hangup: Hangup) -> Iterator[threading.Event]:
        """A write's wait for a busy server: a note after NOTE_AFTER_S, given up (`hangup`)
        after remote.busy_wait_s unless the returned event says the server took it."""
        began = threading.Event()

        def note() -> None:
            if not began.is_set() and self.on_wait is not None:
                self.on_wait(
                    f"waiting for the Hearth at {self.remote.url} (busy with another turn; "
                    f"at most {self.remote.busy_wait_s:.0f} s)…"
                )

        gave_up = threading.Event()

        def give_up() -> None:
            if not began.is_set():
                gave_up.set()
                hangup()

        timers = [
            threading.Timer(NOTE_AFTER_S, note),
            threading.Timer(self.remote.busy_wait_s, give_up),
        ]
        for timer in timers:
            timer.daemon = True
            timer.start()
        try:
            yield began
        except HearthServerError:
            if gave_up.is_set():
                raise _busy(self.remote) from None
            raise
        finally:
            for timer in timers:
                timer.cancel()

    def status(self) -> dict[str, Any]:
        """The server's model and memory: {"model", "memory", "memories"}."""
        return dict(self._json("GET", "/api/status"))

    def thread(self, session: int | None = None) -> dict[str, Any]:
        """A session's conversation (None: the latest): {"session_id", "title", "messages"},
        each message {"id", "role", "text", "status"}, oldest first."""
        params = {"session": session} if session is not None else {}
        return dict(self._json("GET", "/api/thread", params=params))

    def memories(self, kinds: Sequence[str] | None, all: bool, limit: int | None) -> list[Any]:
        params: dict[str, Any] = {"all": all, "kind": list(kinds or [])}
        if limit is not None:
            params["limit"] = limit
        return list(self._json("GET", "/api/memories", params=params))

    def search(
        self, query: str, k: int | None, kinds: Sequence[str] | None, all: bool
    ) -> list[Any]:
        params: dict[str, Any] = {"q": query, "all": all, "kind": list(kinds or [])}
        if k is not None:
            params["k"] = k
        return list(self._json("GET", "/api/memories/search", params=params))

    def show(self, memory_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/api/memories/{memory_id}"))

    def add(self, memory: MemoryIn) -> dict[str, Any]:
        return dict(self._write("POST", "/api/memories", json=memory.model_dump()))

    def forget(self, memory_id: str) -> dict[str, Any]:
        return dict(self._write("DELETE", f"/api/memories/{memory_id}"))

    def _relay(self, body: dict[str, Any]) -> Exception:
        return _relayed(body, self.remote.url)

    @property
    def _url(self) -> str:
        return self.remote.url

    def _write(self, method: str, path: str, **kwargs: Any) -> Any:
        """A change the server makes between turns: waited for at most remote.busy_wait_s."""
        with self._waiting(Hangup()) as began:
            try:
                return self._json(method, path, wait=self.remote.busy_wait_s, **kwargs)
            finally:
                began.set()

    def _json(self, method: str, path: str, wait: float | None = None, **kwargs: Any) -> Any:
        # A read of this machine's own server waits READ_WAIT_S, then the command reads the
        # data dir itself (`Busy`); a write waits `wait`, then is given up (exit 23).
        read_here = method == "GET" and self.remote.here
        if read_here:
            kwargs["timeout"] = httpx.Timeout(READ_WAIT_S, connect=READ_WAIT_S)
        elif wait is not None:
            kwargs["timeout"] = httpx.Timeout(wait, connect=5.0)
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            if read_here:
                raise Busy(self.remote.url) from None
            if wait is not None:
                raise _busy(self.remote) from None
            raise _unreachable(self.remote.url, exc) from None
        except httpx.HTTPError as exc:
            raise _unreachable(self.remote.url, exc) from None
        if response.is_error:
            raise _relayed(_body(response), self.remote.url, response.status_code)
        return response.json()

    def _lines(
        self, method: str, path: str, hangup: Hangup | None = None, **kwargs: Any
    ) -> Iterator[dict[str, Any]]:
        try:
            with self._http.stream(method, path, **kwargs) as response:
                if hangup is not None:
                    hangup.attach(response)
                if response.is_error:
                    response.read()
                    raise _relayed(_body(response), self.remote.url, response.status_code)
                for raw in response.iter_lines():
                    if raw.strip():
                        yield json.loads(raw)
        except httpx.HTTPError as exc:
            raise _unreachable(self.remote.url, exc) from None


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        found = response.json()
    except ValueError:
        return {"error": {"message": response.text[:200], "type": "HearthServerError"}}
    return found if isinstance(found, dict) else {}


def _relayed(body: dict[str, Any], url: str, status: int | None = None) -> Exception:
    """The error the server reported, as the same error here (same message, same exit code)."""
    error = body.get("error") or {}
    message = str(error.get("message") or f"{url} answered HTTP {status}")
    kind = str(error.get("type") or "")
    if status in (401, 403) or kind == "refused":
        return HearthServerError(f"{url} refused the request: {message}")
    found = error_named(kind, message)
    code = error.get("exit_code")
    if isinstance(code, int) and code != found.exit_code:
        found.exit_code = code  # one the server gives without a class of its own (2: usage)
    return found


def _busy(remote: Remote) -> HearthServerError:
    return HearthServerError(
        f"the Hearth at {remote.url} stayed busy for {remote.busy_wait_s:.0f} s and did not "
        "take this; nothing was changed there: try again once its turns end"
    )


def _unreachable(url: str, exc: httpx.HTTPError) -> HearthServerError:
    if isinstance(exc, httpx.TimeoutException):
        why = "did not answer in time (remote.timeout_s)"
    else:
        why = f"cannot be reached ({type(exc).__name__})"
    return HearthServerError(f"the Hearth at {url} {why}; is `hearth serve` running there?")
