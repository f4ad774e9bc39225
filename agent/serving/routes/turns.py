"""The turns Hearth's own API streams, as lines of JSON: a turn as `hearth say` runs it, a
reply made again, a message edited (a person's answered on a new branch); and the status a
chat shows."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from agent.serving.bridge import Began, turn_lines
from agent.serving.routes import ServingDep
from agent.serving.schemas import EditRequest, RegenerateRequest, TurnRequest
from agent.serving.views import shown
from agent.turn_result import TurnResult
from memory.errors import ConfigError
from memory.journal.schemas import Message

router = APIRouter()

NDJSON = "application/x-ndjson"


@router.post("/api/turn", response_model=None)
async def turn(body: TurnRequest, request: Request, serving: ServingDep) -> StreamingResponse:
    """One turn as `hearth say` runs it, as lines of JSON: {"session"} once it begins,
    {"piece"} as the reply is made, then {"result"} (a TurnResult) or {"error"}."""

    def work(emit: Callable[[Any], None], stop: threading.Event) -> TurnResult:
        return serving.say(body, emit, stop, on_session=lambda sid: emit(Began(sid)))

    return StreamingResponse(turn_lines(work, request), media_type=NDJSON)


@router.post("/api/messages/{message_id}/regenerate", response_model=None)
async def regenerate(
    message_id: int, body: RegenerateRequest, request: Request, serving: ServingDep
) -> StreamingResponse:
    """Another reply beside reply `message_id` (or to the person's message `message_id`),
    streamed as `/api/turn` streams: {"session"}, {"piece"}..., {"result"} or {"error"}."""

    def work(emit: Callable[[Any], None], stop: threading.Event) -> TurnResult:
        return serving.regenerate(
            message_id, body.keep, emit, stop, on_session=lambda sid: emit(Began(sid))
        )

    return StreamingResponse(turn_lines(work, request), media_type=NDJSON)


@router.post("/api/messages/{message_id}/edit", response_model=None)
async def edit(
    message_id: int, body: EditRequest, request: Request, serving: ServingDep
) -> StreamingResponse:
    """A corrected version of a message beside it: {"edited"} (the new message) first; an
    edited person's message is then answered as `/api/turn` streams ({"session"},
    {"piece"}..., {"result"}); a reply's edit ends with {"result": null}."""

    def work(emit: Callable[[Any], None], stop: threading.Event) -> TurnResult | None:
        def edited(m: Message) -> None:
            emit({"edited": shown(serving.agent.journal, m).model_dump(mode="json")})

        return serving.edit(
            message_id,
            body.text,
            body.answer,
            edited,
            emit,
            stop,
            on_session=lambda sid: emit(Began(sid)),
        )

    return StreamingResponse(turn_lines(work, request), media_type=NDJSON)


@router.get("/api/status")
async def status(serving: ServingDep) -> dict[str, Any]:
    """What a remote chat shows: the model and whether the memory is there to use."""

    def read() -> dict[str, Any]:
        agent = serving.agent
        try:  # beside the running turn, as the memory routes read
            count: int | None = serving.read(lambda store: store.count())
        except ConfigError:  # no memory open (lent to a command run beside the server)
            count = None
        return {"model": agent.model.name, "memory": count is not None, "memories": count or 0}

    return await run_in_threadpool(read)
