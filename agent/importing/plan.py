"""What an import of another app's export would bring: the conversations chosen, and the
summary `--dry-run` shows (nothing read from or written to the data dir)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from agent.importing.memories import sentences
from agent.importing.threads import Node, Thread
from agent.learn.extract import extract
from agent.learn.write_path import MIN_IMPORTANCE
from memory.graph.nodes import NewMemory
from memory.secrets import without_secrets


class ImportOptions(BaseModel):
    """How `hearth import` brings an export in."""

    since: datetime | None = None
    """Only conversations with a message from then on."""
    conversations: list[str] = Field(default_factory=list)
    """Only these conversations (their ids in the export); empty: all."""
    remember: bool = True
    """The person's messages go through the write path (False: `--journal-only`)."""
    include_instructions: bool = False
    """The person's custom instructions (ChatGPT) become one memory to review."""
    user_name: str = "user"
    """Who the person is called in the journal (`chat.user_name`)."""


class Summary(BaseModel):
    """What an export holds, as `--dry-run` shows it, and as the import reports it."""

    format: str
    conversations: int = 0
    messages: int = 0
    person: int = 0
    """The person's messages."""
    replies: int = 0
    """Replies written by another model."""
    first: datetime | None = None
    last: datetime | None = None
    speakers: list[str] = Field(default_factory=list)
    """The names the export gives the speakers (the models' names where it has no other)."""
    skipped: dict[str, int] = Field(default_factory=dict)
    """Messages and content left out, by why (hidden, system, tool, an unknown type)."""
    memories: int = 0
    """Memories the person's messages make (at most: the write path merges repeats)."""
    instructions: list[str] = Field(default_factory=list)
    """The person's custom instructions for the other app (kept out unless asked for)."""


def select(threads: Sequence[Thread], options: ImportOptions) -> list[Thread]:
    """The conversations `--conversation` and `--since` keep."""
    chosen = list(threads)
    if options.conversations:
        wanted = set(options.conversations)
        chosen = [t for t in chosen if t.id in wanted]
    if options.since is not None:
        since = options.since
        if since.tzinfo is None:
            since = since.astimezone()  # a date typed without a zone is the person's own clock
        chosen = [t for t in chosen if (t.last_time or since) >= since]
    return chosen


def remembered(thread: Thread) -> list[Node]:
    """The person's messages memory learns from: those on the kept path (an edited-away
    version was corrected; the other model's replies are never remembered)."""
    return [n for n in thread.kept() if n.role == "user"]


def said(node: Node, speaker: str, message_id: int) -> list[NewMemory]:
    """The person's message remembered as itself, dated and signed, and each sentence of a
    long one: what the neutral import keeps of a turn, the person's side only."""
    when = node.time
    stamp = when.isoformat() if when else "undated"
    texts = [(f"[{stamp}] {speaker}: {node.text}", "event")]
    day = when.strftime("%A %d %B %Y") if when else "undated"
    texts += [(f"{speaker} ({day}): {part}", "fact") for part in sentences(node.text)]
    return [
        NewMemory(
            text=without_secrets(text),
            kind=kind,  # type: ignore[arg-type]
            subject=speaker,
            provenance=[message_id],
            valid_from=when,
        )
        for text, kind in texts
    ]


def extracted(node: Node, speaker: str) -> list[str]:
    """The write path's candidates from a message (what it would embed and store)."""
    return [
        c.text
        for c in extract(node.text, speaker=speaker, when=node.time or datetime.now(UTC))
        if c.importance >= MIN_IMPORTANCE or c.flags
    ]


def summarize(format: str, threads: Sequence[Thread], options: ImportOptions) -> Summary:
    summary = Summary(format=format, conversations=len(threads))
    skipped: Counter[str] = Counter()
    speakers: dict[str, None] = {}
    times: list[datetime] = []
    for thread in threads:
        skipped.update(thread.skipped)
        for text in thread.instructions:
            if text not in summary.instructions:
                summary.instructions.append(text)
        for node in thread.nodes:
            summary.messages += 1
            if node.role == "user":
                summary.person += 1
            else:
                summary.replies += 1
            name = node.speaker or (options.user_name if node.role == "user" else node.model)
            speakers.setdefault(name or "(unnamed model)")
            if node.time is not None:
                times.append(node.time)
        if options.remember:
            for node in remembered(thread):
                summary.memories += len(said(node, options.user_name, 0))
                summary.memories += len(extracted(node, options.user_name))
    if options.include_instructions:
        summary.memories += len(summary.instructions)
    summary.skipped = {k: v for k, v in sorted(skipped.items()) if v}
    summary.speakers = list(speakers)
    summary.first, summary.last = (min(times), max(times)) if times else (None, None)
    return summary
