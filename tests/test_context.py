"""The context builder keeps the newest message, trims the oldest in chunks counting each
message once, and refuses (never cuts) a message that cannot fit alone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from agent.context import TRIM_TO, build_context, check_fits
from agent.runtime.backend import LlamaBackend
from memory.errors import TooManyTokensError
from memory.journal.schemas import ChatMessage, Message, Role

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


def test_a_message_that_cannot_fit_alone_is_refused_never_cut(backend: LlamaBackend) -> None:
    thread = _thread(3)
    thread[-1] = thread[-1].model_copy(update={"text": "word " * 3000})
    with pytest.raises(TooManyTokensError, match=r"more than the 400 ") as refused:
        build_context(persona=PERSONA, thread=thread, budget=400, count=backend.count_tokens)
    assert refused.value.exit_code == 26
    with pytest.raises(TooManyTokensError):
        check_fits(PERSONA, thread[-1].text, 400, backend.count_tokens)
    check_fits(PERSONA, "hello", 400, backend.count_tokens)  # a message that fits passes


def test_only_the_notes_shown_with_a_message_are_cut_never_its_words(
    backend: LlamaBackend,
) -> None:
    thread = _thread(3)
    words = "what did I say about the garden?"
    notes = "[Notes]\n" + "- a note about the roses and the rain\n" * 200 + "[End of notes]"
    meta = thread[-1].meta.model_copy(update={"shown_as": f"{notes}\n\n{words}"})
    thread[-1] = thread[-1].model_copy(update={"text": words, "meta": meta})
    ctx = build_context(persona=PERSONA, thread=thread, budget=400, count=backend.count_tokens)
    assert ctx.prompt_tokens <= 400
    assert ctx.messages[-1].content.endswith(words)
    assert "left out" in ctx.messages[-1].content


class _Counting:
    """The backend's counts, noting how often each message's text was tokenized."""

    def __init__(self, backend: LlamaBackend) -> None:
        self.backend = backend
        self.seen: Counter[str] = Counter()

    def count(self, messages: Sequence[ChatMessage]) -> int:
        self.seen.update(m.content for m in messages if m.role != "system")
        return self.backend.count_tokens(messages)

    def count_text(self, text: str) -> int:
        self.seen[text] += 1
        return self.backend.count_text(text)


@pytest.mark.parametrize("with_text", [True, False])
def test_trimming_a_long_history_counts_each_message_a_few_times(
    backend: LlamaBackend, with_text: bool
) -> None:
    thread = [
        m.model_copy(update={"text": f"{m.text} ({m.id})"}) for m in _thread(801)
    ]  # every text its own
    counting = _Counting(backend)
    ctx = build_context(
        persona=PERSONA,
        thread=thread,
        budget=400,
        count=counting.count,
        count_text=counting.count_text if with_text else None,
    )
    assert ctx.prompt_tokens <= 400 * TRIM_TO
    assert ctx.prompt_tokens == backend.count_tokens(ctx.messages)
    assert ctx.messages[1].role == "user" and ctx.messages[-1].content == thread[-1].text
    # Each message tokenized O(1) times (the old loop re-counted the whole prompt after each
    # drop: the kept messages hundreds of times each), and only those near the budget at all.
    assert max(counting.seen.values()) <= 4, counting.seen.most_common(3)
    assert len(counting.seen) < 60
    # The same trim as one count per drop would give: the oldest kept is a user message and
    # the one before it would not have fit the target.
    first = len(ctx.trimmed)
    wider = [ChatMessage(role="system", content=PERSONA)] + [
        ChatMessage(role=m.role, content=m.text) for m in thread[first - 2 :]
    ]
    assert backend.count_tokens(wider) > 400 * TRIM_TO


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
