"""The context builder keeps the newest message, trims the oldest in chunks, and never raises."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.context import TRIM_TO, build_context
from agent.runtime.backend import LlamaBackend
from memory.journal.schemas import Message, Role

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


def test_an_empty_reply_does_not_pin_the_trim_point(backend: LlamaBackend) -> None:
    thread = _thread(61)
    thread[1] = thread[1].model_copy(update={"text": ""})  # the model said nothing once
    first = build_context(persona=PERSONA, thread=thread, budget=400, count=backend.count_tokens)
    assert first.first_kept is not None and first.first_kept > 2
    assert 2 in first.trimmed  # the dropped reply counts as trimmed, not as "still shown"
    assert first.trimmed == [m.id for m in thread if m.id < first.first_kept]
    longer = [*thread, *_thread(63)[61:]]
    second = build_context(
        persona=PERSONA,
        thread=longer,
        budget=400,
        count=backend.count_tokens,
        keep_from=first.first_kept,
    )
    assert second.trimmed == first.trimmed  # no creeping re-trim every turn


def test_a_message_without_its_reply_is_dropped_with_it(backend: LlamaBackend) -> None:
    thread = _thread(5)
    thread[1] = thread[1].model_copy(update={"status": "error"})
    ctx = build_context(persona=PERSONA, thread=thread, budget=900, count=backend.count_tokens)
    roles = [m.role for m in ctx.messages]
    assert roles == ["system", "user", "assistant", "user"]  # strictly alternating
