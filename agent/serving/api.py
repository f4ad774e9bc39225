"""The HTTP app `hearth serve` runs: OpenAI-style chat and models, and Hearth's own turn and
memory API, every request through the same turn pipeline (recall, journal, write path) as the
chat, behind the data dir's token."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from agent.serving.schemas import (
    SERVED_MODEL,
    ChatRequest,
    ErrorBody,
    MemoryIn,
    Said,
    TurnRequest,
)
from agent.serving.threads import Placement, find_session, place
from agent.turn import TurnResult, check_length
from memory.errors import (
    ConfigError,
    DataDirLockedError,
    HearthError,
    MessageTooLongError,
    NotFoundError,
)
from memory.graph.flags import SECRET
from memory.journal.schemas import Session
from memory.settings import LOOPBACK, SamplingSettings, ServeSettings

if TYPE_CHECKING:
    from agent.learn.consolidation import SleepReport
    from agent.startup import Home
    from agent.turn import Agent
    from memory.graph.store import MemoryStore
    from memory.lending import Borrower

log = logging.getLogger(__name__)

SESSION_HEADER = "X-Hearth-Session"
"""A request names the session it continues by its id here; a reply says which it went in."""
Piece = Callable[[str], None]
IDLE_CHECK_S = 30.0
"""How often the server looks whether it has been idle long enough to consolidate."""


@dataclass
class Serving:
    """What the app serves: one opened data dir and its agent, one request's turn at a time
    (a request is placed in the journal and answered before the next is placed)."""

    home: Home
    agent: Agent
    token: str
    settings: ServeSettings
    turns: threading.Lock
    last_turn: float = field(default_factory=time.monotonic)
    """When the last request's turn ended (time.monotonic): the idle time `tend` waits for."""
    closing: threading.Event = field(default_factory=threading.Event)
    _stops: set[threading.Event] = field(default_factory=set)
    """The stop of every request waiting for its turn or in it (`close` sets them)."""
    _stops_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(cls, home: Home, agent: Agent, token: str) -> Serving:
        return cls(home, agent, token, home.settings.serve, threading.Lock())

    def tend(
        self,
        stopping: threading.Event,
        done: Callable[[SleepReport | None, str | None], None] | None = None,
        check_s: float = IDLE_CHECK_S,
    ) -> None:
        """Until `stopping`: `hearth sleep` once per idle spell (memory.idle_sleep_minutes
        without a turn), on the memory worker, as the chat does. Run on a thread of its own."""
        idle_s = self.agent.settings.memory.idle_sleep_minutes * 60
        slept_after: float | None = None
        while idle_s > 0 and not stopping.wait(check_s):
            since = self.last_turn
            if since != slept_after and time.monotonic() - since >= idle_s:
                slept_after = since
                self.agent.sleep_when_idle(done or _slept)

    # -- who may ask ---------------------------------------------------------------------

    def refusal(self, request: Request) -> tuple[int, str] | None:
        """Why a request is refused (HTTP status, one line), or None."""
        host = _hostname(request.headers.get("host", ""))
        allowed = {
            _hostname(h) for h in (*LOOPBACK, self.settings.host, *self.settings.allowed_hosts)
        }
        # A web page that rebinds a name of its own to this address still sends its name; an
        # address (what a machine on the network uses for a wildcard bind) names no page.
        if host not in allowed and not _address(host):
            return (
                403,
                f"requests addressed to {host!r} are refused; serve.allowed_hosts lists others",
            )
        origin = request.headers.get("origin")
        if origin is not None and origin not in self.settings.allowed_origins:
            return 403, (
                f"requests from the web page at {origin} are refused; "
                "serve.allowed_origins lists the pages that may call Hearth"
            )
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        # As bytes: compare_digest refuses str that is not ASCII (headers arrive as latin-1).
        sent, token = given.strip().encode("latin-1"), self.token.encode()
        if scheme.lower() != "bearer" or not token or not hmac.compare_digest(sent, token):
            return 401, (
                "no valid token: send `Authorization: Bearer TOKEN`, the token in serve.token "
                "in Hearth's data dir"
            )
        return None

    # -- conversations -------------------------------------------------------------------

    def session_for(self, named: str | None, user: str | None, said: list[Said]) -> Session:
        """The session a request goes in: the one it names by id, the one its `user` names,
        the recent one it continues, or a new one."""
        journal = self.agent.journal
        if named:
            try:
                return journal.session(int(named))
            except ValueError:
                raise NotFoundError(
                    f"{SESSION_HEADER} must be a session id, not {named!r}"
                ) from None
        if user:
            return journal.client_session(user)
        return find_session(journal, said) or journal.create_session()

    def answer(
        self,
        session: Session,
        said: list[Said],
        sampling: SamplingSettings,
        on_piece: Piece | None,
        stop: threading.Event,
        background: bool,
    ) -> tuple[TurnResult, Placement]:
        """The request's last message answered where it belongs in the journal."""
        agent, text = self.agent, said[-1].text
        check_length(text, self.agent.settings.chat)
        later = _remembered if background else None
        with self._turn(stop):
            placed = place(agent.journal, session, said)
            if placed.action == "regenerate":
                assert placed.user_id is not None
                if "seed" not in sampling.model_fields_set:
                    sampling = sampling.model_copy(update={"seed": secrets.randbits(31)})
                result = agent.reply_to(
                    placed.user_id,
                    on_piece=on_piece,
                    stop=stop,
                    sampling=sampling,
                    on_remembered=later,
                )
                agent.journal.choose(result.turn_id)
            elif placed.action == "edit":
                assert placed.user_id is not None
                edited = agent.journal.edit(placed.user_id, text)
                result = agent.reply_to(
                    edited.id, on_piece=on_piece, stop=stop, sampling=sampling, on_remembered=later
                )
            else:
                if placed.parent_id is not None:
                    agent.journal.set_head(session.id, placed.parent_id)
                result = agent.run_turn(
                    session.id,
                    text,
                    on_piece=on_piece,
                    stop=stop,
                    sampling=sampling,
                    on_remembered=later,
                )
        log.info(
            "served %s in session %s: reply %s (%d journaled before, %d added)",
            placed.action,
            session.id,
            result.turn_id,
            placed.matched,
            placed.added,
        )
        return result, placed

    def say(
        self,
        body: TurnRequest,
        on_piece: Piece | None,
        stop: threading.Event,
        on_session: Callable[[int], None] | None = None,
    ) -> TurnResult:
        """One turn as `hearth say` runs it; `on_session` is told its session first."""
        agent = self.agent
        check_length(body.text, agent.settings.chat)
        with self._turn(stop):
            new = body.new or (not body.memory and body.session is None)
            session = agent.session(body.session, new=new)
            if on_session is not None:
                on_session(session.id)
            try:
                return agent.run_turn(
                    session.id, body.text, on_piece=on_piece, stop=stop, use_memory=body.memory
                )
            finally:
                if not body.memory:
                    agent.leave(session.id)

    def thread(self, session_id: int | None) -> dict[str, Any]:
        """The session's current path for a remote chat (None: the latest session, if any)."""
        from memory.journal.journal import derived_title

        journal = self.agent.journal
        found = journal.session(session_id) if session_id is not None else journal.latest_session()
        if found is None:
            return {"session_id": None, "title": "", "messages": []}
        shown = [
            m
            for m in journal.thread(found.id)
            if m.role != "system" and not m.off_record and not m.meta.synthetic
        ]
        first = next((m.text for m in shown if m.role == "user"), "")
        return {
            "session_id": found.id,
            "title": found.title or derived_title(first),
            "messages": [
                {"id": m.id, "role": m.role, "text": m.text, "status": m.status} for m in shown
            ],
        }

    @contextlib.contextmanager
    def _turn(self, stop: threading.Event) -> Iterator[None]:
        """One request's turn, after the one before it: not begun if its client left while it
        waited (nothing of it is journaled) or the server is closing; `close` sets its stop."""
        with self._stops_lock:
            self._stops.add(stop)
        try:
            with self.turns:
                if stop.is_set() or self.closing.is_set():
                    raise Gone
                try:
                    yield
                finally:
                    self.last_turn = time.monotonic()
        finally:
            with self._stops_lock:
                self._stops.discard(stop)

    def close(self) -> None:
        """Stop the running turn (its reply kept as interrupted) and wait for it and its memory
        write: the stores close next."""
        self.closing.set()
        with self._stops_lock:
            for stop in self._stops:
                stop.set()
        with self.turns:
            self.agent.settle()

    @contextlib.contextmanager
    def lend(self, borrower: Borrower) -> Iterator[int]:
        """The data dir handed to a command run beside the server (memory/lending.py): after
        the running request's turn and memory write, the store closed until it is back."""
        with self.turns, self.agent.paused():
            fd = self.home.lend()
            self.agent.store = None
            try:
                yield fd
            finally:
                try:
                    self.home.take_back()
                finally:
                    self.agent.store = self.home.store
                log.info("data dir back from %s (pid %s)", borrower.command, borrower.pid)

    # -- memory --------------------------------------------------------------------------

    def memory(self, change: Callable[[MemoryStore], Any]) -> Any:
        """A read or change of the memory, between turns (the store takes one writer)."""
        return self.agent.change_memory(change)


class Gone(Exception):
    """A request's turn did not begin: its client went away while it waited, or the server is
    closing."""


def _slept(report: SleepReport | None, error: str | None) -> None:
    if error is not None:
        log.error("idle consolidation: %s", error)
    elif report is not None:
        log.info("idle consolidation: %s", report.model_dump_json())


def _remembered(reply_id: int, stored: list[str], error: str | None) -> None:
    if error is not None:
        log.error("remembering for reply %s failed: %s", reply_id, error)


def _hostname(host: str) -> str:
    """The name in a Host header (or a setting), without its port, as DNS compares it."""
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.rpartition(":")[0]
    return host.lower().rstrip(".")


def _address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _check_kinds(kinds: list[str] | None) -> None:
    from memory.graph.nodes import KINDS

    for k in kinds or []:
        if k not in KINDS:
            raise ConfigError(f"unknown kind {k!r}; one of {', '.join(KINDS)}")


def _status(exc: HearthError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, MessageTooLongError):
        return 413
    if isinstance(exc, DataDirLockedError):
        return 409
    return 400


def _error(status: int, message: str, kind: str, exit_code: int = 1) -> JSONResponse:
    body = ErrorBody(message=message, type=kind, exit_code=exit_code)
    return JSONResponse({"error": body.model_dump()}, status_code=status)


def _usage(result: TurnResult) -> dict[str, int]:
    return {
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "total_tokens": result.prompt_tokens + result.completion_tokens,
    }


def _finish(result: TurnResult) -> str:
    # A reply cut at max_tokens is "length", one cut where it began to print its prompt back
    # "echo"; one ended by the model, a loop guard or a client that went away is "stop" (the
    # journal keeps the precise reason).
    return result.finish_reason if result.finish_reason in ("length", "echo") else "stop"


def _hearth(result: TurnResult, placed: Placement) -> dict[str, Any]:
    """What Hearth adds to a completion (OpenAI clients ignore it): where the turn went."""
    return {
        "session_id": result.session_id,
        "message_id": result.turn_id,
        "user_message_id": result.user_turn_id,
        "action": placed.action,
        "status": result.status,
        "recalled": [r.id for r in result.recalled],
    }


class _Done:
    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome


class Began(int):
    """The session a turn of `/api/turn` went in, told before its reply (a stopped reply's
    client then knows where it was kept)."""


async def _streamed(
    work: Callable[[Callable[[Any], None], threading.Event], Any],
) -> AsyncIterator[Any]:
    """Run `work` (a turn) on a thread of its own, yielding each piece of the reply as it is
    made and then what `work` returned (or raised). A client that goes away stops the reply
    (kept in the journal as interrupted)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()
    stop = threading.Event()

    def piece(item: Any) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, item)

    def run() -> None:
        try:
            outcome: Any = work(piece, stop)
        except BaseException as exc:  # handed to the response, which reports it
            outcome = exc
        loop.call_soon_threadsafe(queue.put_nowait, _Done(outcome))

    threading.Thread(target=run, name="hearth-serve-turn", daemon=True).start()
    try:
        while True:
            item = await queue.get()
            if isinstance(item, _Done):
                yield item.outcome
                return
            yield item
    finally:
        stop.set()


def _sse(data: dict[str, Any] | str) -> bytes:
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()


def _error_body(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, HearthError):
        body = ErrorBody(message=str(exc), type=type(exc).__name__, exit_code=exc.exit_code)
    else:
        log.error("a served turn failed", exc_info=exc)
        body = ErrorBody(message=f"the turn failed: {exc!r}", type="InternalError")
    return {"error": body.model_dump()}


def make_app(serving: Serving) -> FastAPI:
    """The app, every route behind `Serving.refusal`."""
    app = FastAPI(title="Hearth", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        refused = serving.refusal(request)
        if refused is not None:
            status, why = refused
            log.warning("refused %s %s: %s", request.method, request.url.path, why)
            return _error(status, why, "refused")
        return await call_next(request)

    @app.exception_handler(HearthError)
    async def hearth_error(_: Request, exc: HearthError) -> JSONResponse:
        return _error(_status(exc), str(exc), type(exc).__name__, exc.exit_code)

    @app.exception_handler(Gone)
    async def closing(_: Request, exc: Gone) -> JSONResponse:
        return _error(503, "Hearth is closing; try again once it is back", "closing", 23)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(
            400, f"bad request: {where}: {first.get('msg', 'invalid')}", "invalid_request_error", 2
        )

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {
                    "id": SERVED_MODEL,
                    "object": "model",
                    "created": int(time.time()),
                    "owned_by": "hearth",
                    "hearth": {"model": serving.agent.model.name},
                }
            ],
        }

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(body: ChatRequest, request: Request) -> Any:
        said = body.said()
        if not said or said[-1].role != "user":
            why = "the last message must be the person's (role user); nothing to answer"
            return _error(400, why, "invalid_request_error", 2)
        # Before a session is looked for (or made): a refused message leaves nothing behind.
        check_length(said[-1].text, serving.agent.settings.chat)
        try:
            sampling = serving.agent.settings.sampling.model_copy(update=body.sampling())
            SamplingSettings.model_validate(sampling.model_dump())
        except ValidationError as exc:
            raise ConfigError(f"bad sampling in the request: {exc.errors()[0]['msg']}") from None
        named = request.headers.get(SESSION_HEADER)
        session = await run_in_threadpool(serving.session_for, named, body.user, said)
        headers = {SESSION_HEADER: str(session.id)}
        created, ident = int(time.time()), f"chatcmpl-{secrets.token_hex(12)}"

        def work(on_piece: Piece | None, stop: threading.Event) -> tuple[TurnResult, Placement]:
            return serving.answer(session, said, sampling, on_piece, stop, background=True)

        if not body.stream:
            result, placed = await run_in_threadpool(work, None, threading.Event())
            return JSONResponse(
                {
                    "id": ident,
                    "object": "chat.completion",
                    "created": created,
                    "model": body.model or SERVED_MODEL,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": result.reply},
                            "finish_reason": _finish(result),
                        }
                    ],
                    "usage": _usage(result),
                    "hearth": _hearth(result, placed),
                },
                headers=headers,
            )
        usage = body.stream_options is not None and body.stream_options.include_usage

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
            return _sse(
                {
                    "id": ident,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": body.model or SERVED_MODEL,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    **extra,
                }
            )

        async def events() -> AsyncIterator[bytes]:
            yield chunk({"role": "assistant", "content": ""})
            async for item in _streamed(work):
                if isinstance(item, str):
                    yield chunk({"content": item})
                elif isinstance(item, BaseException):
                    yield _sse(_error_body(item))
                else:
                    result, placed = item
                    extra: dict[str, Any] = {"hearth": _hearth(result, placed)}
                    if usage:
                        extra["usage"] = _usage(result)
                    yield chunk({}, _finish(result), **extra)
            yield _sse("[DONE]")

        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)

    @app.post("/api/turn", response_model=None)
    async def turn(body: TurnRequest) -> StreamingResponse:
        """One turn as `hearth say` runs it, as lines of JSON: {"session"} once it begins,
        {"piece"} as the reply is made, then {"result"} (a TurnResult) or {"error"}."""

        async def lines() -> AsyncIterator[bytes]:
            def work(emit: Callable[[Any], None], stop: threading.Event) -> TurnResult:
                return serving.say(body, emit, stop, on_session=lambda sid: emit(Began(sid)))

            async for item in _streamed(work):
                if isinstance(item, Began):
                    line: dict[str, Any] = {"session": int(item)}
                elif isinstance(item, str):
                    line = {"piece": item}
                elif isinstance(item, BaseException):
                    line = _error_body(item)
                else:
                    line = {"result": item.model_dump(mode="json")}
                yield json.dumps(line).encode() + b"\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @app.get("/api/status")
    async def status() -> dict[str, Any]:
        """What a remote chat shows: the model and whether the memory is there to use."""

        def read() -> dict[str, Any]:
            agent = serving.agent
            try:  # after the running turn's memory write, as the memory routes read
                count: int | None = agent.change_memory(lambda store: store.count())
            except ConfigError:  # no memory open (lent to a command run beside the server)
                count = None
            return {"model": agent.model.name, "memory": count is not None, "memories": count or 0}

        return await run_in_threadpool(read)

    @app.get("/api/thread")
    async def thread(session: int | None = None) -> dict[str, Any]:
        """A session's conversation as the chat shows it (no session: the latest, the one
        `hearth say` goes on in): its current path, off-record and dream messages left out."""
        return await run_in_threadpool(serving.thread, session)

    @app.get("/api/memories")
    async def memories(
        kind: list[str] | None = Query(None),
        all: bool = False,
        limit: int | None = Query(None, ge=1),
    ) -> list[dict[str, Any]]:
        _check_kinds(kind)

        def read(store: MemoryStore) -> list[dict[str, Any]]:
            found = store.list(kinds=kind or None, valid_only=not all, limit=limit)  # type: ignore[arg-type]
            return [m.model_dump(mode="json") for m in found]

        return await run_in_threadpool(serving.memory, read)

    @app.get("/api/memories/search")
    async def search(
        q: str,
        k: int | None = Query(None, ge=1, le=1000),
        kind: list[str] | None = Query(None),
        all: bool = False,
    ) -> list[dict[str, Any]]:
        """Hits best first, each a `Hit`: the memory and the signals it ranked by."""
        _check_kinds(kind)

        def read(store: MemoryStore) -> list[dict[str, Any]]:
            hits = store.search(
                q,
                k,
                kinds=kind or None,  # type: ignore[arg-type]
                valid_only=not all,
                mentions=store.mentions(q),
            )
            return [h.model_dump(mode="json") for h in hits]

        return await run_in_threadpool(serving.memory, read)

    @app.get("/api/memories/{memory_id}")
    async def show(memory_id: str) -> dict[str, Any]:
        """The memory with its sources, edges and use, as `hearth memory show --json`."""
        from agent.memory_use import details

        return await run_in_threadpool(
            serving.memory, lambda store: details(store, serving.agent.journal, memory_id)
        )

    @app.post("/api/memories")
    async def add(body: MemoryIn) -> Any:
        from memory.secrets import has_secret, secret_kinds

        found = secret_kinds(body.text)
        if found and not body.secret:
            kinds = ", ".join(found)
            why = f"not remembered: the text holds a secret ({kinds}); send secret=true to keep it"
            return _error(400, why, "secret", 2)

        def write(store: MemoryStore) -> dict[str, Any]:
            memory = store.add(
                body.text,
                kind=body.kind,
                subject=body.subject,
                importance=body.importance,
                pinned=body.pin,
                flags=[SECRET] if body.secret and has_secret(body.text) else [],
            )
            return memory.model_dump(mode="json")

        return await run_in_threadpool(serving.memory, write)

    @app.delete("/api/memories/{memory_id}")
    async def forget(memory_id: str) -> dict[str, Any]:
        from agent.recall import shown_line_pattern

        def write(store: MemoryStore) -> dict[str, Any]:
            report = store.forget(memory_id, serving.agent.journal, shown_as=shown_line_pattern)
            return report.model_dump(mode="json")

        return await run_in_threadpool(serving.memory, write)

    return app
