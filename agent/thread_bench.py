"""Measuring generation speed per llama.cpp thread count, on a quiet and on a busy machine."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from agent.native_log import stderr_to

PROMPT = "Write a short letter to a friend about a walk by the sea."
# A competing process, as when the embedder, another app or a build runs beside the chat.
BUSY_LOOP = "import time\nend = time.time() + 600\nwhile time.time() < end: pass"


class ThreadFigure(BaseModel):
    n_threads: int
    busy: bool
    prompt_tps: float
    gen_tps: float


def _measure(path: Path, threads: int, tokens: int) -> tuple[float, float]:
    from llama_cpp import Llama

    with stderr_to(Path(tempfile.gettempdir()) / "hearth-bench.log"):
        llm = Llama(
            model_path=str(path),
            n_ctx=1024,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
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
    return len(prompt) / prompt_s, tokens / gen_s


def run_thread_bench(
    path: Path, tokens: int, progress: Callable[[str], None]
) -> list[ThreadFigure]:
    counts = sorted({1, 2, os.cpu_count() or 2})
    figures: list[ThreadFigure] = []
    for busy in (False, True):
        hog = subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) if busy else None
        try:
            for n in counts:
                progress(f"{n} thread(s){' beside a busy process' if busy else ''}")
                prompt_tps, gen_tps = _measure(path, n, tokens)
                figures.append(
                    ThreadFigure(n_threads=n, busy=busy, prompt_tps=prompt_tps, gen_tps=gen_tps)
                )
        finally:
            if hog is not None:
                hog.kill()
                hog.wait()
    return figures
