"""The stream bridge: a request's work (a turn) on a thread of its own, its pieces handed to
the async response as they are made, and its stop set once the client hangs up."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from agent.serving.errors import error_body
from agent.serving.serving import POLL_S
from agent.turn_result import TurnResult

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[Callable[[Any], None], threading.Event], Any]
"""What a streamed request does: told how to hand on each piece, and its stop."""


class _Done:
    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome


class Began(int):
    """The session a turn went in, told before its reply (a stopped reply's client then knows
    where it was kept)."""


async def streamed(work: Work, request: Request) -> AsyncIterator[Any]:
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


async def turn_lines(work: Work, request: Request) -> AsyncIterator[bytes]:
    """A streamed turn as lines of JSON: {"session"} once it begins, {"piece"} as the reply is
    made, any other line `work` hands on as it is (a dict), then {"result"} (a TurnResult, or
    null for work that ended without a reply) or {"error"}."""
    async for item in streamed(work, request):
        if isinstance(item, Began):
            line: dict[str, Any] = {"session": int(item)}
        elif isinstance(item, str):
            line = {"piece": item}
        elif isinstance(item, dict):
            line = item
        elif isinstance(item, BaseException):
            line = error_body(item)
        elif isinstance(item, TurnResult):
            line = {"result": item.model_dump(mode="json")}
        else:
            line = {"result": None}
        yield json.dumps(line).encode() + b"\n"


def sse(data: dict[str, Any] | str) -> bytes:
    """One server-sent event, as OpenAI's streaming clients read them."""
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()


async def until_gone(request: Request, work: Callable[[threading.Event], T]) -> T:
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
