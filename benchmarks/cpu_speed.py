"""Measuring generation speed per llama.cpp thread count and per CPU path (extra buffer types)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from agent.runtime.factory import extra_buffers, make_llama, system_info, uses_extra_buffers
from agent.runtime.native_log import stderr_to
from memory.settings import ModelSettings

PROMPT = "Write a short letter to a friend about a walk by the sea."
# A competing process, as when the embedder, another app or a build runs beside the chat.
BUSY_LOOP = "import time\nend = time.time() + 600\nwhile time.time() < end: pass"


class ThreadFigure(BaseModel):
    n_threads: int
    busy: bool
    prompt_tps: float
    gen_tps: float
    extra_buffers: bool
    """What llama.cpp was given (read back from the loaded model's parameters)."""


class CpuFigure(BaseModel):
    """Median speed over `repeat` fresh loads with extra buffer types on or off."""

    extra_buffers: bool
    prompt_tps: float
    gen_tps: float


class CpuBench(BaseModel):
    """`hearth bench cpu --json`."""

    model: str
    n_threads: int
    tokens: int
    repeat: int
    system_info: str
    auto: str
    """What `model.extra_buffer_types = auto` chooses on this machine, and why."""
    figures: list[CpuFigure]


def measure_speed(path: Path, settings: ModelSettings, tokens: int) -> tuple[float, float, bool]:
    """Prompt and generation tokens/s of one fresh load, and whether extra buffer types were on."""
    with stderr_to(Path(tempfile.gettempdir()) / "hearth-bench.log"):
        llm = make_llama(path, settings, n_ctx=1024)
    prompt = llm.tokenize(PROMPT.encode() * 8)
    started = time.perf_counter()
    llm.eval(prompt)
    prompt_s = time.perf_counter() - started
    started = time.perf_counter()
    llm.create_completion(
        prompt,
        max_tokens=tokens,
        temperature=0.0,
        logit_bias={llm.token_eos(): float("-inf")},
    )
    gen_s = time.perf_counter() - started
    return len(prompt) / prompt_s, tokens / gen_s, uses_extra_buffers(llm)


def run_thread_bench(
    path: Path, settings: ModelSettings, tokens: int, progress: Callable[[str], None]
) -> list[ThreadFigure]:
    counts = sorted({1, 2, os.cpu_count() or 2})
    figures: list[ThreadFigure] = []
    for busy in (False, True):
        hog = subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) if busy else None
        try:
            for n in counts:
                progress(f"{n} thread(s){' beside a busy process' if busy else ''}")
                prompt_tps, gen_tps, extra = measure_speed(
                    path, settings.model_copy(update={"n_threads": n}), tokens
                )
                figures.append(
                    ThreadFigure(
                        n_threads=n,
                        busy=busy,
                        prompt_tps=prompt_tps,
                        gen_tps=gen_tps,
                        extra_buffers=extra,
                    )
                )
        finally:
            if hog is not None:
                hog.kill()
                hog.wait()
    return figures


def run_cpu_bench(
    path: Path, settings: ModelSettings, tokens: int, repeat: int, progress: Callable[[str], None]
) -> CpuBench:
    """The same load and generation with extra buffer types on and off, alternating runs."""
    runs: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for i in range(repeat):
        for setting in ("on", "off"):
            progress(f"run {i + 1}/{repeat}, extra buffer types {setting}")
            prompt_tps, gen_tps, extra = measure_speed(
                path, settings.model_copy(update={"extra_buffer_types": setting}), tokens
            )
            runs[extra].append((prompt_tps, gen_tps))
    return CpuBench(
        model=path.name,
        n_threads=settings.n_threads,
        tokens=tokens,
        repeat=repeat,
        system_info=system_info(),
        auto=extra_buffers(settings.model_copy(update={"extra_buffer_types": "auto"})).summary,
        figures=[
            CpuFigure(
                extra_buffers=extra,
                prompt_tps=statistics.median(p for p, _ in values),
                gen_tps=statistics.median(g for _, g in values),
            )
            for extra, values in runs.items()
        ],
    )
