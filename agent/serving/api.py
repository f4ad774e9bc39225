"""The HTTP app `hearth serve` runs: OpenAI-style chat and models, and Hearth's own turn and
memory API, every request through the same turn pipeline (recall, journal, write path) as the
chat, behind the data dir's token."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from agent.serving.limits import BodyLimit, Gone, Refused
from agent.serving.schemas import SERVED_MODEL, ChatRequest, ErrorBody, MemoryIn, TurnRequest
from agent.serving.serving import POLL_S, SESSION_HEADER, Piece, Serving
from agent.serving.threads import Placement
from agent.turn import check_length
from agent.turn_result import TurnResult
from memory.errors import (
    ConfigError,
    DataDirLockedError,
    HearthError,
    MessageTooLongError,
    NotFoundError,
)
from memory.graph.flags import SECRET
from memory.settings import SamplingSettings

if TYPE_CHECKING:
    from memory.graph.store import MemoryStore

log = logging.getLogger(__name__)

T = TypeVar("T")
__all__ = ["SESSION_HEADER", "Gone", "Serving", "make_app"]


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
    request: Request,
) -> AsyncIterator[Any]:
    """Run `work` (a turn) on a thread of its own, yielding each piece of the reply as it is
    made and then what `work` returned (or raised). A client that goes away stops the reply
    (kept in the journal as interrupted), or, while nothing is sent yet (its turn waits for
    another), the turn before it begins."""
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
    # One get at a time, kept across the waits (cancelling a get could lose its item).
    getter: asyncio.Future[Any] | None = None
    try:
        while True:
            getter = getter or asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter}, timeout=POLL_S)
            if not done:
                if not stop.is_set() and await request.is_disconnected():
                    log.info("%s: the client left; its turn stops", request.url.path)
                    stop.set()
                continue
            item, getter = getter.result(), None
            if isinstance(item, _Done):
                yield item.outcome
                return
            yield item
    finally:
        stop.set()
        if getter is not None:
            getter.cancel()


def _sse(data: dict[str, Any] | str) -> bytes:
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()


def _error_body(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, HearthError):
        body = ErrorBody(message=str(exc), type=type(exc).__name__, exit_code=exc.exit_code)
    elif isinstance(exc, Refused):
        body = ErrorBody(message=str(exc), type="request_too_large", exit_code=2)
    elif isinstance(exc, Gone):
        body = ErrorBody(message="the request was stopped", type="closing", exit_code=23)
    else:
        log.error("a served turn failed", exc_info=exc)
        body = ErrorBody(message=f"the turn failed: {exc!r}", type="InternalError")
    return {"error": body.model_dump()}


async def _until_gone(request: Request, work: Callable[[threading.Event], T]) -> T:
    """`work` on a thread of its own, its stop set once the client hangs up (or the request
    is cancelled, as the server stops): then it ends at its next check, journaling no more."""
    stop = threading.Event()
    task = asyncio.ensure_future(run_in_threadpool(work, stop))
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=POLL_S)
            if done:
                return task.result()
            if not stop.is_set() and await request.is_disconnected():
                log.info("%s %s: the client left; its work stops", request.method, request.url.path)
                stop.set()
    finally:
        stop.set()


def make_app(serving: Serving) -> FastAPI:
    """The app, every route behind `Serving.refusal`."""
    app = FastAPI(title="Hearth", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(HearthError)
    async def hearth_error(_: Request, exc: HearthError) -> JSONResponse:
        return _error(_status(exc), str(exc), type(exc).__name__, exc.exit_code)

    @app.exception_handler(Gone)
    async def closing(request: Request, exc: Gone) -> JSONResponse:
        log.info(
            "%s %s stopped before its turn: nothing more of it journaled",
            request.method,
            request.url.path,
        )
        why = "the request was stopped: its client left, or Hearth is closing (try again)"
        return _error(503, why, "closing", 23)

    @app.exception_handler(Refused)
    async def refused(_: Request, exc: Refused) -> JSONResponse:
        log.warning("refused a request: %s", exc)
        return _error(exc.status, str(exc), "request_too_large", 2)

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> JSONResponse:
        # Every error is the JSON body clients read, a bug's included; the traceback goes
        # to the log only.
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return _error(
            500,
            f"Hearth failed on this request ({type(exc).__name__}); see hearth.log",
            "InternalError",
        )

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
        session = await _until_gone(
            request, lambda stop: serving.session_for(named, body.user, said, stop)
        )
        headers = {SESSION_HEADER: str(session.id)}
        created, ident = int(time.time()), f"chatcmpl-{secrets.token_hex(12)}"

        def work(on_piece: Piece | None, stop: threading.Event) -> tuple[TurnResult, Placement]:
            return serving.answer(session, said, sampling, on_piece, stop, background=True)

        if not body.stream:
            result, placed = await _until_gone(request, lambda stop: work(None, stop))
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
            async for item in _streamed(work, request):
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
    async def turn(body: TurnRequest, request: Request) -> StreamingResponse:
        """One turn as `hearth say` runs it, as lines of JSON: {"session"} once it begins,
        {"piece"} as the reply is made, then {"result"} (a TurnResult) or {"error"}."""

        async def lines() -> AsyncIterator[bytes]:
            def work(emit: Callable[[Any], None], stop: threading.Event) -> TurnResult:
                return serving.say(body, emit, stop, on_session=lambda sid: emit(Began(sid)))

            async for item in _streamed(work, request):
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
            try:  # beside the running turn, as the memory routes read
                count: int | None = serving.read(lambda store: store.count())
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

        return await run_in_threadpool(serving.read, read)

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

        return await run_in_threadpool(serving.read, read)

    @app.get("/api/memories/{memory_id}")
    async def show(memory_id: str) -> dict[str, Any]:
        """The memory with its sources, edges and use, as `hearth memory show --json`."""
        from agent.memory_use import details

        return await run_in_threadpool(
            serving.read, lambda store: details(store, serving.agent.journal, memory_id)
        )

    @app.post("/api/memories")
    async def add(body: MemoryIn, request: Request) -> Any:
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

        return await _until_gone(request, lambda stop: serving.memory(write, stop))

    @app.delete("/api/memories/{memory_id}")
    async def forget(memory_id: str, request: Request) -> dict[str, Any]:
        from agent.recall import shown_line_pattern

        def write(store: MemoryStore) -> dict[str, Any]:
            report = store.forget(memory_id, serving.agent.journal, shown_as=shown_line_pattern)
            return report.model_dump(mode="json")

        return await _until_gone(request, lambda stop: serving.memory(write, stop))

    app.add_middleware(_Guard, serving=serving)
    app.add_middleware(BodyLimit, limit=serving.settings.max_request_bytes)
    return app


class _Guard:
    """Every request through `Serving.refusal` first. Plain ASGI, not Starlette's
    BaseHTTPMiddleware: behind that, a route never hears that its client left."""

    def __init__(self, app: Any, serving: Serving) -> None:
        self.app, self.serving = app, serving

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            refused = self.serving.refusal(request)
            if refused is not None:
                status, why = refused
                log.warning("refused %s %s: %s", request.method, request.url.path, why)
                await _error(status, why, "refused")(scope, receive, send)
                return
        await self.app(scope, receive, send)
