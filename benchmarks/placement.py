"""Where the model extractor runs: its own model instance, or the chat's between turns.

`hearth bench placement [--model MODEL.gguf] --json` prints both (docs/benchmarks.md, "Model
extractor"). A scripted conversation is evaluated on the chat's instance, then one message is
extracted (a) on a second instance of the same file and (b) on the chat's own instance with its
state saved and loaded back; after each, the next chat turn reports how many prompt tokens it
had to evaluate (few: the KV prefix was kept; all: it was lost).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from agent.learn.model_extract import ModelExtractor
from agent.runtime.backend import Generation, LlamaBackend
from benchmarks.turn_cost import SCRIPT
from memory.journal.schemas import ChatMessage
from memory.settings import ModelSettings, SamplingSettings

# The conversation before the extracted message, and the fixed reply each turn had.
TURNS = 8
REPLY = "That sounds lovely, tell me more."
WHEN = datetime(2026, 3, 4, 12, tzinfo=UTC)


class Memory(BaseModel):
    """This process's resident memory, from /proc/self/status (MiB)."""

    rss: float
    anon: float
    """Anonymous memory: KV caches, compute buffers, repacked weights (not shared)."""
    file: float
    """File-backed pages: the mmapped GGUF, shared by every instance of it."""


class Extraction(BaseModel):
    """One message through the model extractor on one placement."""

    seconds: float
    kept: int
    invented: int


class SecondInstance(BaseModel):
    """(a) A second Llama for extraction."""

    load_seconds: float
    extra_mib: Memory
    """Memory after loading it and extracting once, less memory before."""
    first: Extraction
    second: Extraction
    """A second message: its instructions are still in this instance's cache."""
    next_turn_evaluated: int
    """Prompt tokens the chat's next turn evaluated (its own instance was never touched)."""


class FullState(BaseModel):
    """(b) with llama-cpp-python's `Llama.save_state()` / `load_state()` instead."""

    save_seconds: float
    load_seconds: float
    state_mib: float
    """KV cache, logits and llama-cpp-python's own n_batch x vocabulary logits array."""
    next_turn_evaluated: int


class SharedInstance(BaseModel):
    """(b) The chat's own Llama, between turns, its KV sequence saved before and put back
    after (`LlamaBackend.cache_kept`)."""

    first: Extraction
    """The first message: the extractor's instructions are evaluated."""
    extraction: Extraction
    """A second message, with the save and the restore of the chat's cache and the swap to
    and from the extractor's own (its instructions kept from the first)."""
    save_and_restore_seconds: float
    state_mib: float
    """The saved KV sequence held during the extraction."""
    next_turn_evaluated: int
    same_reply: bool
    """The next turn's reply (temperature 0) is the one a turn with its prompt evaluated
    afresh gives: the restored cache is the cache."""
    full_state: FullState
    next_turn_evaluated_unrestored: int
    """The same next turn after an extraction with no state restored: the prefix lost."""


class PlacementReport(BaseModel):
    model: str
    n_ctx: int
    n_threads: int
    conversation_tokens: int
    second_instance: SecondInstance
    shared_instance: SharedInstance


def memory_now() -> Memory:
    fields: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            fields[key] = int(value.split()[0]) / 1024
    return Memory(rss=fields["VmRSS"], anon=fields["RssAnon"], file=fields["RssFile"])


def _less(after: Memory, before: Memory) -> Memory:
    return Memory(
        rss=round(after.rss - before.rss, 1),
        anon=round(after.anon - before.anon, 1),
        file=round(after.file - before.file, 1),
    )


def _conversation(upto: int) -> list[ChatMessage]:
    messages = [ChatMessage(role="system", content="You are Hearth, a warm companion.")]
    for text in SCRIPT[:upto]:
        messages += [
            ChatMessage(role="user", content=text),
            ChatMessage(role="assistant", content=REPLY),
        ]
    return messages


def _turn(chat: LlamaBackend, upto: int) -> tuple[int, str]:
    """One chat turn over the conversation so far: the prompt tokens it evaluated, its reply."""
    stats = Generation()
    sampling = SamplingSettings(max_tokens=8, temperature=0.0)
    prompt = [*_conversation(upto), ChatMessage(role="user", content=SCRIPT[upto])]
    reply = "".join(chat.stream(prompt, sampling, stats))
    return stats.tokens_evaluated, reply


def _extract(extractor: ModelExtractor, text: str) -> Extraction:
    started = time.perf_counter()
    reading = extractor.read(text, speaker="Sam", when=WHEN)
    return Extraction(
        seconds=round(time.perf_counter() - started, 2),
        kept=len(reading.kept),
        invented=len(reading.invented),
    )


def measure(path: Path, settings: ModelSettings) -> PlacementReport:
    chat = LlamaBackend(path, settings)
    _turn(chat, TURNS - 1)  # the conversation is in the chat's KV cache
    message = SCRIPT[TURNS - 1]

    before = memory_now()
    started = time.perf_counter()
    own = LlamaBackend(path, settings)
    load = time.perf_counter() - started
    first = _extract(ModelExtractor(own, keep_cache=False), message)
    second = _extract(ModelExtractor(own, keep_cache=False), SCRIPT[TURNS])
    extra = _less(memory_now(), before)
    separate = SecondInstance(
        load_seconds=round(load, 2),
        extra_mib=extra,
        first=first,
        second=second,
        next_turn_evaluated=_turn(chat, TURNS)[0],
    )
    own.llm.close()

    _turn(chat, TURNS - 1)  # back to the cache (a) started from
    shared_extractor = ModelExtractor(chat, keep_cache=True)
    shared_first = _extract(shared_extractor, SCRIPT[TURNS])
    _turn(chat, TURNS - 1)
    extraction = _extract(shared_extractor, message)
    state_mib = chat.kept_bytes / 2**20
    started = time.perf_counter()
    with chat.cache_kept():
        pass
    kept_seconds = time.perf_counter() - started
    kept_prefix, kept_reply = _turn(chat, TURNS)
    _turn(chat, TURNS - 1)
    started = time.perf_counter()
    state = chat.llm.save_state()
    saved = time.perf_counter() - started
    size = state.llama_state_size + state.scores.nbytes + state.input_ids.nbytes
    _extract(ModelExtractor(chat, keep_cache=False), message)
    started = time.perf_counter()
    chat.llm.load_state(state)
    loaded = time.perf_counter() - started
    full_state_prefix, _reply = _turn(chat, TURNS)
    _turn(chat, TURNS - 1)
    _extract(ModelExtractor(chat, keep_cache=False), message)
    lost, fresh_reply = _turn(chat, TURNS)
    shared = SharedInstance(
        first=shared_first,
        extraction=extraction,
        save_and_restore_seconds=round(kept_seconds, 3),
        state_mib=round(state_mib, 2),
        next_turn_evaluated=kept_prefix,
        same_reply=kept_reply == fresh_reply,
        full_state=FullState(
            save_seconds=round(saved, 3),
            load_seconds=round(loaded, 3),
            state_mib=round(size / 2**20, 1),
            next_turn_evaluated=full_state_prefix,
        ),
        next_turn_evaluated_unrestored=lost,
    )
    return PlacementReport(
        model=path.name,
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        conversation_tokens=chat.count_tokens(_conversation(TURNS)),
        second_instance=separate,
        shared_instance=shared,
    )
