"""Ablation scoring: how likely each reply is with, and without, the notes recalled for it."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime

from pydantic import BaseModel

from agent.recall import shown_line_pattern
from agent.runtime.backend import LlamaBackend
from memory.clock import now
from memory.errors import ConfigError
from memory.graph.nodes import Memory
from memory.journal.journal import Journal
from memory.journal.schemas import ChatMessage, Message, Score

TOP_ABLATED = 3
"""A reply is scored without each of its first (best) recalled memories, this many: one more
forward pass each, and the later ones were the least likely to matter."""

Recalled = Callable[[str], tuple[Memory, list[str]] | None]
"""A memory by id and every text it has had (an edited one was shown with an older text);
None when it is gone."""

WINDOW_STEP = 256
"""The scoring window is rounded up to this many tokens (its logits cost n_ctx rows)."""


class ScoreReport(BaseModel):
    """What one `hearth score` run did."""

    model: str
    model_sha256: str
    scored: int
    """Replies scored in this run."""
    done_before: int
    """Replies in range this model had scored already (skipped: a run resumes)."""
    other_model: int
    """Of those scored, replies another model had written."""
    skipped: list[int]
    """Replies that could not be scored (their prompt and text do not fit the window)."""
    rows: int
    """Scores written: one per variant of a reply's prompt."""
    load_s: float
    """Loading the scoring instance of the model (none when nothing was left to score)."""
    seconds: float
    """Scoring, loading left out."""
    per_reply_s: float | None


def scorable(
    journal: Journal, *, session_id: int | None = None, since: datetime | None = None
) -> list[Message]:
    """Replies with the prompt they saw and some text, on the record and said (never a
    dream's), oldest first."""
    return [
        m
        for m in journal.messages(session_id, newest_first=False)
        if m.role == "assistant"
        and m.prompt
        and m.text
        and m.status != "error"
        and not m.off_record
        and not m.meta.synthetic  # a dream's recall is never counted, nor its reply scored
        and m.meta.imported is None  # another model's reply, brought in: never scored as Hearth's
        and (since is None or m.created_at >= since)
    ]


def window(replies: Sequence[Message], chat_n_ctx: int) -> int:
    """A scoring window that fits every reply's recorded prompt and its text: a reply's text
    is never fewer characters than tokens, and an unrecorded length takes the chat's window."""
    need = max(
        (
            m.usage.prompt_tokens + max(m.usage.completion_tokens, len(m.text))
            if m.usage.prompt_tokens
            else chat_n_ctx
            for m in replies
        ),
        default=WINDOW_STEP,
    )
    return -(-need // WINDOW_STEP) * WINDOW_STEP


def variants(reply: Message, user: Message | None, get: Recalled) -> dict[str, list[ChatMessage]]:
    """The prompts to score the reply under: the one it saw ('full'), without the notes
    recalled for its message ('no_notes'; pinned core memories, in the system prompt, stay),
    and without each of the first `TOP_ABLATED` notes ('without:<memory id>')."""
    prompt = list(reply.prompt or [])
    found: dict[str, list[ChatMessage]] = {"full": prompt}
    if user is None or not prompt or prompt[-1].role != "user":
        return found
    shown = user.meta.shown_as
    # A prompt cut to fit the window no longer shows the notes as recorded: only 'full'.
    if not user.meta.recalled_ids or shown is None or prompt[-1].content != shown:
        return found
    head = prompt[:-1]
    found["no_notes"] = [*head, ChatMessage(role="user", content=user.text)]
    for memory_id in user.meta.recalled_ids[:TOP_ABLATED]:
        found_memory = get(memory_id)
        if found_memory is None:
            continue  # forgotten: its line was redacted, there is nothing of it to take out
        memory, texts = found_memory
        line = re.compile(f"(?:{shown_line_pattern(memory, texts)})\n")
        without, n = line.subn("", shown, count=1)
        if n:
            found[f"without:{memory_id}"] = [*head, ChatMessage(role="user", content=without)]
    return found


def score_reply(
    scorer: LlamaBackend,
    reply: Message,
    user: Message | None,
    get: Recalled,
    model_sha256: str,
) -> list[Score]:
    """Every variant of one reply's prompt, scored."""
    at = now()
    other = reply.model is None or reply.model.sha256 != model_sha256
    scores: list[Score] = []
    for name, messages in variants(reply, user, get).items():
        mean, tokens = scorer.reply_logprob(messages, reply.text)
        scores.append(
            Score(
                message_id=reply.id,
                variant=name,
                mean_logprob=mean,
                tokens=tokens,
                model_sha256=model_sha256,
                other_model=other,
                scored_at=at,
            )
        )
    return scores


def score_replies(
    journal: Journal,
    scorer: LlamaBackend,
    replies: Sequence[Message],
    get: Recalled,
    model_sha256: str,
    advance: Callable[[], None] = lambda: None,
) -> tuple[list[int], list[int], int]:
    """Score and record each reply in turn (a stopped run keeps the replies done); returns
    the replies scored, those skipped, and how many rows were written."""
    scored: list[int] = []
    skipped: list[int] = []
    rows = 0
    for reply in replies:
        user = journal.message(reply.parent_id) if reply.parent_id is not None else None
        try:
            scores = score_reply(scorer, reply, user, get, model_sha256)
        except ConfigError:
            skipped.append(reply.id)  # longer than the window (its text was edited longer)
        else:
            journal.add_scores(scores)
            scored.append(reply.id)
            rows += len(scores)
        advance()
    return scored, skipped, rows
