"""The real model, loaded once per test worker: `load_agent`'s LlamaBackend is handed out again to
the next test that asks for the same file and settings, its KV cache, seed and counters cleared,
so what a test sees (token counts, replies at a fixed seed) does not depend on what ran before."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Any

from agent.runtime.backend import Generation, LlamaBackend
from agent.runtime.factory import extra_buffers
from memory.journal.schemas import ChatMessage
from memory.settings import ModelSettings, SamplingSettings

Key = tuple[object, ...]


def _key(path: Path, settings: ModelSettings) -> Key:
    """What a loaded Llama is fixed by: the file as it is now, and the model settings it was
    made with (sampling is per call; a changed file or n_ctx is another model)."""
    st = path.stat()
    return (
        str(path.resolve()),
        st.st_size,
        st.st_mtime_ns,
        settings.n_ctx,
        settings.n_threads,
        settings.n_batch,
        settings.n_gpu_layers,
        settings.chat_template,
        extra_buffers(settings).use,
    )


def as_loaded(backend: LlamaBackend) -> None:
    """Put a used backend back as a fresh load leaves it: an empty KV cache, llama-cpp-python's
    default seed (its next seed follows from the last one when a call gives none) and zeroed
    performance counters (benchmarks read them)."""
    import llama_cpp

    backend.load_cache(None)
    backend.llm.set_seed(llama_cpp.LLAMA_DEFAULT_SEED)
    llama_cpp.llama_perf_context_reset(backend.llm._ctx.ctx)
    backend.kept_bytes = 0


SETTLES_IN_S = 30.0
"""How long a test's leftover thread (a reply or memory write still running as it ended) may
take to finish with a backend before that backend is dropped rather than lent again."""


class PooledBackend(LlamaBackend):
    """The real backend, counting the calls that use its KV cache, so the pool lends it again
    only once nothing from the last test is still in one."""

    def __init__(self, path: Path, settings: ModelSettings) -> None:
        super().__init__(path, settings)
        self._users = 0
        self._count = threading.Lock()

    @contextlib.contextmanager
    def _using(self) -> Iterator[None]:
        with self._count:
            self._users += 1
        try:
            yield
        finally:
            with self._count:
                self._users -= 1

    @property
    def busy(self) -> bool:
        return self._users > 0

    def stream(
        self,
        messages: Sequence[ChatMessage],
        sampling: SamplingSettings,
        stats: Generation,
        stop: threading.Event | None = None,
    ) -> Generator[str, None, None]:
        with self._using():
            yield from super().stream(messages, sampling, stats, stop)

    def constrained(
        self, messages: Sequence[ChatMessage], schema: dict[str, Any], max_tokens: int
    ) -> str:
        with self._using():
            return super().constrained(messages, schema, max_tokens)

    @contextlib.contextmanager
    def cache_kept(self) -> Iterator[None]:
        with self._using(), super().cache_kept():
            yield


class BackendPool:
    """Loaded chat backends by key; a test borrows them and `give_back` returns them all when it
    ends. Two agents open at once in one test get two instances (they would fight over one KV
    cache); a scoring instance (`logits_all`) is its own, as its user closes it."""

    def __init__(self) -> None:
        self._free: dict[Key, list[PooledBackend]] = {}
        self._lent: list[tuple[Key, PooledBackend]] = []
        self.loads = 0

    def __call__(self, path: Path, settings: ModelSettings, **params: Any) -> LlamaBackend:
        if params:
            return LlamaBackend(path, settings, **params)
        key = _key(path, settings)
        free = self._free.get(key)
        if free:
            backend = free.pop()
            as_loaded(backend)
        else:
            backend = PooledBackend(path, settings)
            self.loads += 1
        self._lent.append((key, backend))
        return backend

    def give_back(self) -> None:
        """At the end of a test: what it borrowed is free again, once no call is left in it."""
        deadline = time.monotonic() + SETTLES_IN_S
        for key, backend in self._lent:
            while backend.busy and time.monotonic() < deadline:
                time.sleep(0.05)
            if not backend.busy:
                self._free.setdefault(key, []).append(backend)
        self._lent.clear()
