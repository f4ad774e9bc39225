"""Measuring what a turn costs: prompt tokens re-evaluated per new token, against raw llama.cpp."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from agent.runtime.backend import LlamaBackend
from agent.runtime.factory import make_llama, uses_extra_buffers
from memory.settings import ExtraBuffers, ModelSettings, SamplingSettings, Settings

if TYPE_CHECKING:
    from llama_cpp import Llama

# A scripted conversation: the same for both arms, so only the prompt layout differs.
SCRIPT = [
    "Hi! I'm Sam. I live in Lisbon with my cat Miso.",
    "I work as a nurse, mostly night shifts.",
    "My sister Ana is visiting next weekend.",
    "I'm allergic to hazelnuts, so I have to be careful with desserts.",
    "What should I cook for Ana on Saturday?",
    "She likes spicy food, but not too spicy.",
    "I'm also learning the guitar, slowly.",
    "Yesterday I managed to play a whole song.",
    "Work was hard this week. Two long nights in a row.",
    "Miso knocked a plant off the shelf again.",
    "Do you think I should get a second cat?",
    "My favourite book is The Left Hand of Darkness.",
    "I want to run a half marathon in the spring.",
    "I ran eight kilometres this morning.",
    "Ana just told me she is pregnant!",
    "I'm going to be an aunt. I'm so happy.",
    "Can you help me pick a gift for the baby?",
    "Something handmade would be nice.",
    "I could knit a small blanket, maybe.",
    "Thanks for listening, as always.",
]


class TurnFigure(BaseModel):
    turn: int
    prompt_tokens: int
    new_tokens: int
    evaluated: int
    ratio: float
    trimmed: bool
    hearth_ms: float
    """Message sent to reply done: what the person waits for, as in the chat."""
    raw_ms: float
    write_ms: float = 0.0
    """The memory write after the reply, on the agent's worker (the chat's next message, typed
    meanwhile, waits for it before recalling)."""


class TurnBench(BaseModel):
    """`hearth bench turn --json`."""

    model: str
    n_ctx: int
    n_threads: int
    reply_tokens: int
    turns: list[TurnFigure]
    median_ratio: float
    trim_turns: list[int]
    median_overhead: float
    extra_buffers: list[bool]
    """llama.cpp's extra buffer types in the Hearth arm and the raw arm, read back from each."""


def _bench_settings(
    n_ctx: int, threads: int, reply_tokens: int, extra_buffer_types: ExtraBuffers
) -> Settings:
    return Settings(
        model=ModelSettings(n_ctx=n_ctx, n_threads=threads, extra_buffer_types=extra_buffer_types),
        sampling=SamplingSettings(
            temperature=0.0,
            max_tokens=reply_tokens,
            ignore_eos=True,
            seed=1,
            top_k=1,
            stop_loops=False,  # the same reply length in both arms
        ),
    )


def _raw_arm(
    path: Path, settings: Settings, script: Sequence[str], progress: Callable[[str], None]
) -> tuple[list[float], bool]:
    """Plain llama-cpp-python: create_chat_completion over the full history each turn."""
    from agent.runtime.native_log import stderr_to

    with stderr_to(Path(tempfile.gettempdir()) / "hearth-bench.log"):
        llm = make_llama(path, settings.model)
    messages: list[dict[str, str]] = [{"role": "system", "content": settings.chat.persona}]
    times: list[float] = []
    s = settings.sampling
    for i, line in enumerate(script, start=1):
        progress(f"raw turn {i}")
        messages.append({"role": "user", "content": line})
        # The raw arm has no budget of its own: drop the oldest exchange when it would overflow.
        while _approx_tokens(llm, messages) > settings.model.n_ctx - s.max_tokens:
            del messages[1:3]
        started = time.perf_counter()
        out = llm.create_chat_completion(
            messages=messages,  # type: ignore[arg-type]
            temperature=s.temperature,
            top_k=s.top_k,
            max_tokens=s.max_tokens,
            seed=s.seed,
            logit_bias={llm.token_eos(): float("-inf")},
        )
        times.append((time.perf_counter() - started) * 1000)
        reply = str(out["choices"][0]["message"]["content"])  # type: ignore[index]
        messages.append({"role": "assistant", "content": reply})
    return times, uses_extra_buffers(llm)


def _approx_tokens(llm: Llama, messages: list[dict[str, str]]) -> int:
    per_message = 8  # role markers and separators of a chat template
    return sum(len(llm.tokenize(m["content"].encode())) + per_message for m in messages)


def run_turn_bench(
    path: Path,
    *,
    n_ctx: int,
    threads: int,
    reply_tokens: int,
    progress: Callable[[str], None],
    extra_buffer_types: ExtraBuffers = "auto",
    script: Sequence[str] = SCRIPT,
) -> TurnBench:
    """Run both arms on the same script in a temporary data dir (never the user's)."""
    from agent.runtime.model_files import ResolvedModel
    from agent.startup import Home, load_agent
    from memory.datadir import ensure_data_dir
    from memory.journal.journal import Journal
    from memory.settings import resolve_paths

    settings = _bench_settings(n_ctx, threads, reply_tokens, extra_buffer_types)
    raw_ms, raw_extra = _raw_arm(path, settings, script, progress)
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        paths = resolve_paths().model_copy(
            update={"data_dir": Path(tmp), "config_file": Path(tmp) / "config.toml"}
        )
        ensure_data_dir(paths.data_dir)
        home = Home(paths=paths, settings=settings, journal=Journal(paths.journal))
        agent = load_agent(home, ResolvedModel(path=path, source="bench"))
        assert isinstance(agent.backend, LlamaBackend)
        session = agent.session(new=True)
        figures: list[TurnFigure] = []
        previous_total = 0
        previous_trimmed: list[int] = []
        for i, line in enumerate(script, start=1):
            progress(f"hearth turn {i}")
            started = time.perf_counter()
            result = agent.run_turn(session.id, line, on_remembered=lambda *_: None)
            elapsed = (time.perf_counter() - started) * 1000
            writing = time.perf_counter()
            agent.settle()  # a person reads the reply and types meanwhile
            write_ms = (time.perf_counter() - writing) * 1000
            new = result.prompt_tokens - previous_total
            trimmed = result.trimmed != previous_trimmed  # this turn moved the trim point
            previous_trimmed = result.trimmed
            figures.append(
                TurnFigure(
                    turn=i,
                    prompt_tokens=result.prompt_tokens,
                    new_tokens=new,
                    evaluated=result.tokens_evaluated,
                    ratio=result.tokens_evaluated / new if new > 0 else float("inf"),
                    trimmed=trimmed,
                    hearth_ms=elapsed,
                    raw_ms=raw_ms[i - 1],
                    write_ms=write_ms,
                )
            )
            previous_total = result.prompt_tokens + result.completion_tokens
        home.journal.close()
    steady = [f for f in figures[1:] if not f.trimmed]
    return TurnBench(
        model=agent.model.name,
        n_ctx=n_ctx,
        n_threads=threads,
        reply_tokens=reply_tokens,
        turns=figures,
        median_ratio=statistics.median(f.ratio for f in steady),
        trim_turns=[f.turn for f in figures if f.trimmed],
        median_overhead=statistics.median((f.hearth_ms - f.raw_ms) / f.raw_ms for f in figures[1:]),
        extra_buffers=[uses_extra_buffers(agent.backend.llm), raw_extra],
    )
