"""Time to first token through a model server: Hearth's turn against its messages sent raw."""

from __future__ import annotations

import contextlib
import math
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import httpx
from pydantic import BaseModel, SecretStr

from agent.runtime.openai_backend import OpenAIBackend, events
from benchmarks.turn_cost import SCRIPT
from memory.journal.schemas import ChatMessage
from memory.settings import ModelSettings, SamplingSettings, Settings

READY_S = 180.0
"""How long a server the bench starts may take to load its model."""


class ServerTurn(BaseModel):
    turn: int
    prompt_tokens: int
    """Hearth's count of the prompt (the server's tokenizer, or the estimate)."""
    hearth_ms: float
    """`run_turn` called to the first piece of the reply: recall, the context built and counted,
    the journal writes, the request: what the person waits for."""
    request_ms: float
    """Within that, the request sent to the first piece (the backend's own ttft)."""
    raw_ms: float
    """The same messages and parameters POSTed by a bare client, sent to the first piece."""


class ServerBench(BaseModel):
    """`hearth bench server --json`."""

    server: str
    model: str
    tokenizer: str
    launched: bool
    """Whether the bench started the server itself (serve_llama, the embedded model)."""
    n_ctx: int
    reply_tokens: int
    turns: list[ServerTurn]
    median_hearth_ms: float
    median_request_ms: float
    median_raw_ms: float
    median_overhead_ms: float
    """The median of hearth_ms - raw_ms over the turns: what Hearth adds to the wait."""


def _raw_ttft(client: httpx.Client, url: str, body: dict[str, object]) -> float:
    """Milliseconds from sending `body` to the first piece of content; the reply read to its end
    (the server's next request waits for this one)."""
    started = time.perf_counter()
    first: float | None = None
    with client.stream("POST", url, json=body) as response:
        response.raise_for_status()
        for event in events(response):
            for choice in event.get("choices") or []:
                if first is None and (choice.get("delta") or {}).get("content"):
                    first = (time.perf_counter() - started) * 1000
    return first if first is not None else math.nan


@contextlib.contextmanager
def _served(
    base_url: str | None, model: Path | None, n_ctx: int, threads: int
) -> Iterator[tuple[str, bool]]:
    """The server to measure: the one at `base_url`, or serve_llama started here for this run."""
    if base_url is not None:
        yield base_url, False
        return
    from agent.runtime.serve_llama import free_port, launch, stop, wait_ready

    port = free_port()
    flags = ["--n-ctx", str(n_ctx), "--threads", str(threads)]
    if model is not None:
        flags += ["--model", str(model)]
    log_path = Path(tempfile.gettempdir()) / "hearth-bench-server.log"
    with log_path.open("wb") as log:
        process = launch(port, log, args=flags)
        try:
            url = f"http://127.0.0.1:{port}/v1"
            wait_ready(url, process, READY_S)
            yield url, True
        finally:
            stop(process)


def run_server_bench(
    base_url: str | None,
    *,
    model: Path | None,
    n_ctx: int,
    threads: int,
    reply_tokens: int,
    progress: Callable[[str], None],
    api_key: SecretStr | None = None,
    server_model: str | None = None,
    script: Sequence[str] = SCRIPT,
) -> ServerBench:
    """Hearth's turns over the script (memory on, a temporary data dir), then each turn's
    journaled prompt sent raw, in order, so both arms meet the server's prefix cache alike."""
    from agent.startup import Home, load_agent
    from memory.datadir import ensure_data_dir
    from memory.journal.journal import Journal
    from memory.settings import resolve_paths

    sampling = SamplingSettings(
        temperature=0.0, top_k=1, seed=1, max_tokens=reply_tokens, stop_loops=False
    )
    with _served(base_url, model, n_ctx, threads) as (url, launched):
        model_settings = ModelSettings(
            backend="openai", base_url=url, n_ctx=n_ctx, api_key=api_key, server_model=server_model
        )
        settings = Settings(model=model_settings, sampling=sampling)
        with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
            paths = resolve_paths().model_copy(
                update={"data_dir": Path(tmp), "config_file": Path(tmp) / "config.toml"}
            )
            ensure_data_dir(paths.data_dir)
            home = Home(paths=paths, settings=settings, journal=Journal(paths.journal))
            progress("loading the embedder and asking the server")
            agent = load_agent(home)
            assert isinstance(agent.backend, OpenAIBackend)
            backend = agent.backend
            session = agent.session(new=True)
            hearth: list[tuple[float, float, int, list[ChatMessage]]] = []
            raw: list[float] = []
            try:
                for i, line in enumerate(script, start=1):
                    progress(f"hearth turn {i}")
                    first: list[float] = []

                    def seen(_: str, first: list[float] = first) -> None:
                        if not first:
                            first.append(time.perf_counter())

                    started = time.perf_counter()
                    result = agent.run_turn(
                        session.id, line, on_piece=seen, on_remembered=lambda *_: None
                    )
                    agent.settle()  # a person reads the reply and types meanwhile
                    shown = home.journal.message(result.turn_id).prompt or []
                    waited = ((first[0] if first else math.nan) - started) * 1000
                    hearth.append((waited, result.ttft_ms or math.nan, result.prompt_tokens, shown))
                auth = {"Authorization": f"Bearer {api_key.get_secret_value()}"} if api_key else {}
                with httpx.Client(headers=auth, timeout=model_settings.timeout_s) as client:
                    for i, (_, _, _, messages) in enumerate(hearth, start=1):
                        progress(f"raw turn {i}")
                        body = backend.request(messages, sampling, reply_tokens)
                        raw.append(_raw_ttft(client, f"{url}/chat/completions", body))
            finally:
                home.close()
                backend.close()
    turns = [
        ServerTurn(turn=i, prompt_tokens=p, hearth_ms=h, request_ms=r, raw_ms=w)
        for i, ((h, r, p, _), w) in enumerate(zip(hearth, raw, strict=True), start=1)
    ]
    return ServerBench(
        server=backend.url,
        model=backend.name,
        tokenizer=backend.tokenizer,
        launched=launched,
        n_ctx=n_ctx,
        reply_tokens=reply_tokens,
        turns=turns,
        median_hearth_ms=statistics.median(t.hearth_ms for t in turns),
        median_request_ms=statistics.median(t.request_ms for t in turns),
        median_raw_ms=statistics.median(t.raw_ms for t in turns),
        median_overhead_ms=statistics.median(t.hearth_ms - t.raw_ms for t in turns),
    )
