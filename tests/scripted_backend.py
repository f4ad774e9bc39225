"""A named fake: a chat backend that streams fixed replies, for snapshots (a real model's words
differ between CPUs and builds) and for tests about the pipeline, not the words (trims, the
write path, recall). Everything around it (journal, memory, app) is real."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Sequence
from pathlib import Path

from agent.runtime.backend import Generation
from agent.startup import Home
from agent.turn import Agent
from memory.graph.embedder import SentenceEmbedder
from memory.graph.store import MemoryStore
from memory.journal.schemas import ChatMessage, ModelInfo
from memory.settings import SamplingSettings

REPLIES = [
    "Lovely to meet you, **Sam**. Green tea in the morning sounds calm.\n\n"
    "- I will remember the tea\n- and the cat",
    "Here is one way:\n\n```python\nprint('hello, Sam')\n```",
    "Or in the shell:\n\n```sh\necho 'hello, Sam'\n```",
]


class ScriptedBackend:
    """Streams `REPLIES` in turn, a word at a time; counts a token per four characters."""

    name = "scripted"
    path = Path("scripted-reply.gguf")
    template_fallback = False

    def __init__(self, replies: Sequence[str] = REPLIES) -> None:
        self.replies = list(replies)
        self.turn = 0

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return sum(self.count_text(m.content) + 4 for m in messages)

    def count_text(self, text: str) -> int:
        return len(text) // 4 + 1

    def stream(
        self,
        messages: Sequence[ChatMessage],
        sampling: SamplingSettings,
        stats: Generation,
        stop: threading.Event | None = None,
    ) -> Generator[str, None, None]:
        reply = self.replies[self.turn % len(self.replies)]
        self.turn += 1
        stats.prompt_tokens = self.count_tokens(messages)
        stats.tokens_evaluated = stats.prompt_tokens
        for word in reply.split(" "):
            stats.completion_tokens += 1
            yield word if stats.completion_tokens == 1 else " " + word
        stats.ttft_ms, stats.total_ms = 10.0, 100.0
        stats.finish_reason = "stop"


def scripted_agent(
    home: Home, embedder: SentenceEmbedder, replies: Sequence[str] = REPLIES
) -> Agent:
    """An agent on the scripted backend over `home`, with the real memory store opened on it."""
    home.store = MemoryStore.open(
        home.paths, home.settings, write=True, lock=home.lock, embedder=embedder
    )
    backend = ScriptedBackend(replies)
    info = ModelInfo(name=backend.name, path=str(backend.path), sha256="0" * 64)
    return Agent(home.settings, home.journal, backend, info, home.store)


def scripted_loader(embedder: SentenceEmbedder) -> Callable[[Home], Agent]:
    """An app loader giving an agent on the scripted backend, with the real memory store."""

    def load(home: Home) -> Agent:
        return scripted_agent(home, embedder)

    return load
