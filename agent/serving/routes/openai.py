"""The OpenAI-compatible routes: `/v1/models` and `/v1/chat/completions` (streamed or not),
every request placed in the journal and answered through the same turn as the chat."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError

from agent.serving.bridge import sse, streamed, until_gone
from agent.serving.errors import error, error_body
from agent.serving.routes import ServingDep
from agent.serving.schemas import SERVED_MODEL, ChatRequest
from agent.serving.serving import SESSION_HEADER, Piece
from agent.serving.threads import Placement
from agent.turn import check_length
from agent.turn_result import TurnResult
from memory.errors import ConfigError
from memory.settings import SamplingSettings

router = APIRouter()


def _usage(result: TurnResult) -> dict[str, int]:
    return {
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "total_tokens": result.prompt_tokens + result.completion_tokens,
    }


def finish(result: TurnResult) -> str:
    """The finish_reason OpenAI clients read."""
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


@router.get("/v1/models")
async def models(serving: ServingDep) -> dict[str, Any]:
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


@router.post("/v1/chat/completions", response_model=None)
async def chat(body: ChatRequest, request: Request, serving: ServingDep) -> Any:
    said = body.said()
    if not said or said[-1].role != "user":
        why = "the last message must be the person's (role user); nothing to answer"
        return error(400, why, "invalid_request_error", 2)
    # Before a session is looked for (or made): a refused message leaves nothing behind.
    check_length(said[-1].text, serving.agent.settings.chat)
    try:
        sampling = serving.agent.settings.sampling.model_copy(update=body.sampling())
        SamplingSettings.model_validate(sampling.model_dump())
    except ValidationError as exc:
        raise ConfigError(f"bad sampling in the request: {exc.errors()[0]['msg']}") from None
    named = request.headers.get(SESSION_HEADER)
    session = await until_gone(
        request, lambda stop: serving.session_for(named, body.user, said, stop)
    )
    headers = {SESSION_HEADER: str(session.id)}
    created, ident = int(time.time()), f"chatcmpl-{secrets.token_hex(12)}"

    def work(on_piece: Piece | None, stop: threading.Event) -> tuple[TurnResult, Placement]:
        return serving.answer(session, said, sampling, on_piece, stop, background=True)

    if not body.stream:
        result, placed = await until_gone(request, lambda stop: work(None, stop))
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
                        "finish_reason": finish(result),
                    }
                ],
                "usage": _usage(result),
                "hearth": _hearth(result, placed),
            },
            headers=headers,
        )
    usage = body.stream_options is not None and body.stream_options.include_usage

    def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> bytes:
        return sse(
            {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": body.model or SERVED_MODEL,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
                **extra,
            }
        )

    async def events() -> AsyncIterator[bytes]:
        yield chunk({"role": "assistant", "content": ""})
        async for item in streamed(work, request):
            if isinstance(item, str):
                yield chunk({"content": item})
            elif isinstance(item, BaseException):
                yield sse(error_body(item))
            else:
                result, placed = item
                extra: dict[str, Any] = {"hearth": _hearth(result, placed)}
                if usage:
                    extra["usage"] = _usage(result)
                yield chunk({}, finish(result), **extra)
        yield sse("[DONE]")

    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
