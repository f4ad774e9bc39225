"""The context builder keeps the newest message, trims the oldest in chunks, and never raises."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.context import TRIM_TO, build_context
from agent.runtime import LlamaBackend
from memory.schemas import Message, Role

PERSONA = "You are Hearth."


def _thread(n: int) -> list[Message]:
    now = datetime.now(UTC)
    roles: list[Role] = ["user", "assistant"]
    return [
        Message(
            id=i + 1,
            session_id=1,
            parent_id=i or None,
            role=roles[i % 2],
            text=f"message number {i} about the garden and the weather today",
            status="complete",
            created_at=now,
            updated_at=now,
        )
        for i in range(n)
    ]


def test_everything_fits_when_short(backend: LlamaBackend) -> None:
    ctx = build_context(persona=PERSONA, thread=_thread(5), budget=900, count=backend.count_tokens)
    assert [m.role for m in ctx.messages] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert ctx.trimmed == []
    assert ctx.prompt_tokens == backend.count_tokens(ctx.messages)


def test_overflow_trims_oldest_in_one_chunk_starting_with_user(backend: LlamaBackend) -> None:
    thread = _thread(61)
    ctx = build_context(persona=PERSONA, thread=thread, budget=400, count=backend.count_tokens)
    assert ctx.prompt_tokens <= 400 * TRIM_TO
    assert ctx.messages[0].role == "system" and ctx.messages[1].role == "user"
    assert ctx.messages[-1].content == thread[-1].text
    assert ctx.trimmed == [m.id for m in thread[: len(ctx.trimmed)]]


def test_trim_point_is_stable_until_the_budget_forces_a_new_one(backend: LlamaBackend) -> None:
    thread = _thread(61)
    first = build_context(persona=PERSONA, thread=thread, budget=400, count=backend.count_tokens)
    keep_from = thread[len(first.trimmed)].id
    # Two more messages still fit under the budget: the same oldest message is kept (stable prefix).
    longer = [*thread, *_thread(63)[61:]]
    second = build_context(
        persona=PERSONA, thread=longer, budget=400, count=backend.count_tokens, keep_from=keep_from
    )
    assert second.trimmed == first.trimmed
    assert second.messages[: len(first.messages)] == first.messages


def test_a_single_huge_message_never_raises(backend: LlamaBackend) -> None:
    thread = _thread(3)
    thread[-1] = thread[-1].model_copy(update={"text": "word " * 3000})
    ctx = build_context(persona=PERSONA, thread=thread, budget=400, count=backend.count_tokens)
    assert ctx.messages[-1].role == "user"
    assert ctx.prompt_tokens <= 400
    assert (
        ctx.messages[-1].content.startswith("word word") and "left out" in ctx.messages[-1].content
    )
