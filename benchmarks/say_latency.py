"""`hearth say` through a running `hearth serve` against raw llama-cpp-python, and cold."""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import BaseModel, ValidationError

from agent.runtime.serve_llama import stop
from benchmarks.machine import Machine
from memory.coordination.serve_files import ServeAddress
from memory.settings import ChatSettings, ModelSettings

READY_S = 180.0
"""How long `hearth serve` may take to load its model and publish serve.json."""

RUN_S = 600.0
"""How long one measured command may take."""

MESSAGE = "Hi! I'm Sam. I live in Lisbon with my cat Miso. What should I cook tonight?"

HEARTH = "import sys; from tui.cli.main import main; sys.exit(main())"
"""The `hearth` command as its entry point runs it, with this interpreter (so a checkout on
PYTHONPATH measures itself, not whatever `hearth` is installed)."""

RAW = """
import sys
from llama_cpp import Llama
path, n_ctx, threads, n_batch, tokens, system, message = sys.argv[1:]
llm = Llama(model_path=path, n_ctx=int(n_ctx), n_threads=int(threads),
            n_threads_batch=int(threads), n_batch=int(n_batch), verbose=False)
out = llm.create_chat_completion(
    messages=[{"role": "system", "content": system}, {"role": "user", "content": message}],
    max_tokens=int(tokens), temperature=0.0, top_k=1, seed=1,
    logit_bias={llm.token_eos(): float("-inf")},
)
print(out["choices"][0]["message"]["content"])
"""
"""Plain llama-cpp-python: load the GGUF, its chat template over the same persona and message,
exactly `tokens` tokens (end-of-sequence suppressed), the reply printed."""


class Run(BaseModel):
    wall_s: float
    """subprocess started to exited."""
    max_rss_mib: float
    """The child's peak resident memory (os.wait4's ru_maxrss)."""


class Arm(BaseModel):
    name: str
    command: str
    runs: list[Run]
    median_wall_s: float
    median_max_rss_mib: float


class SayBench(BaseModel):
    """`hearth bench say --json`."""

    machine: Machine
    model: str
    n_ctx: int
    n_threads: int
    tokens: int
    """Reply length in every arm (end-of-sequence suppressed, temperature 0)."""
    message: str
    served: Arm
    """`hearth say` with `hearth serve` running for its data dir."""
    raw: Arm
    """A `python -c` llama-cpp-python script loading the model and answering."""
    cold: Arm
    """`hearth say` with no server: it loads the model itself."""
    ratio: float
    """served / raw median wall time (the target: at most 1.2)."""
    paired_ratio: float
    """The median over runs of served / raw, each pair run back to back (steadier than `ratio`
    on a machine with other work)."""
    cold_ratio: float
    """cold / raw median wall time."""


def _hearth_env(home: Path, model: Path, settings: ModelSettings, tokens: int) -> dict[str, str]:
    """This environment without HEARTH_*, then a scratch data dir and fixed sampling: every
    reply exactly `tokens` tokens long, the same model and threads in every arm."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    env.update(
        HEARTH_HOME=str(home),
        HEARTH_MODEL__PATH=str(model),
        HEARTH_MODEL__N_CTX=str(settings.n_ctx),
        HEARTH_MODEL__N_THREADS=str(settings.n_threads),
        HEARTH_MODEL__N_BATCH=str(settings.n_batch),
        HEARTH_SAMPLING__MAX_TOKENS=str(tokens),
        HEARTH_SAMPLING__IGNORE_EOS="true",
        HEARTH_SAMPLING__STOP_LOOPS="false",
        HEARTH_SAMPLING__TEMPERATURE="0",
        HEARTH_SAMPLING__TOP_K="1",
        HEARTH_SAMPLING__SEED="1",
    )
    return env


def _timed(command: list[str], env: dict[str, str], log: Path) -> tuple[Run, str]:
    """Run `command` to its end: its wall time, its peak RSS and its stdout."""
    with tempfile.TemporaryFile() as stdout, log.open("ab") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, env=env
        )
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        text = stdout.read().decode("utf-8", errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{command[:3]} exited {process.returncode}; see {log}")
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return Run(wall_s=wall, max_rss_mib=rss), text


def _cpu_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime


def _quiet(pid: int, limit_s: float = 60.0) -> None:
    """Wait until the server stops using the CPU: the memory write after a reply runs on after
    `say` has its answer, and would slow whichever arm runs next."""
    deadline = time.monotonic() + limit_s
    last = _cpu_ticks(pid)
    if last is None:
        time.sleep(2.0)  # no /proc: a pause instead
        return
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = _cpu_ticks(pid)
        if now is None or now - last <= 1:
            return
        last = now


@contextlib.contextmanager
def _served(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`hearth serve --port 0` for the data dir in `env`, stopped (SIGTERM) afterwards."""
    address = Path(env["HEARTH_HOME"]) / "serve.json"
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", HEARTH, "serve", "--port", "0"],
            stdout=stderr,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    try:
        deadline = time.monotonic() + READY_S
        while not _published(address, process.pid):
            if process.poll() is not None:
                raise RuntimeError(f"hearth serve exited {process.returncode}; see {log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"hearth serve did not start in {READY_S:.0f} s; see {log}")
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            stop(process)


def _published(address: Path, pid: int) -> bool:
    """The address file names this server: it has loaded its model and listens."""
    try:
        return ServeAddress.model_validate_json(address.read_bytes()).pid == pid
    except (OSError, ValidationError):
        return False


def _arm(name: str, command: str, runs: list[Run]) -> Arm:
    return Arm(
        name=name,
        command=command,
        runs=runs,
        median_wall_s=statistics.median(r.wall_s for r in runs),
        median_max_rss_mib=statistics.median(r.max_rss_mib for r in runs),
    )


def run_say_bench(
    model: Path,
    *,
    runs: int,
    tokens: int,
    progress: Callable[[str], None],
    settings: ModelSettings | None = None,
    message: str = MESSAGE,
) -> SayBench:
    """Paired runs, interleaved: `say` through a running serve, the raw script, a cold `say`.
    Each arm is run once first, unmeasured (the server's first turn, the page cache)."""
    settings = settings or ModelSettings()
    persona = ChatSettings().persona
    say = [sys.executable, "-c", HEARTH, "say", "--new", message]
    raw = [
        sys.executable, "-c", RAW, str(model), str(settings.n_ctx), str(settings.n_threads),
        str(settings.n_batch), str(tokens), persona, message,
    ]  # fmt: skip
    figures: dict[str, list[Run]] = {"served": [], "raw": [], "cold": []}
    with (
        tempfile.TemporaryDirectory(prefix="hearth-bench-say-") as served_home,
        tempfile.TemporaryDirectory(prefix="hearth-bench-cold-") as cold_home,
    ):
        log = Path(tempfile.gettempdir()) / "hearth-bench-say.log"
        log.write_bytes(b"")
        served_env = _hearth_env(Path(served_home), model, settings, tokens)
        cold_env = _hearth_env(Path(cold_home), model, settings, tokens)
        raw_env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
        progress("starting hearth serve")
        with _served(served_env, log) as server:
            arms = (("served", say, served_env), ("raw", raw, raw_env), ("cold", say, cold_env))
            for i in range(runs + 1):
                for name, command, env in arms:
                    progress(f"{name} {'warm-up' if i == 0 else f'run {i} of {runs}'}")
                    run, text = _timed(command, env, log)
                    if not text.strip():
                        raise RuntimeError(f"the {name} arm printed no reply; see {log}")
                    _quiet(server.pid)
                    if i > 0:
                        figures[name].append(run)
    shown = f"hearth say --new {message!r}"
    served = _arm("served", f"{shown} (hearth serve running)", figures["served"])
    raw_arm = _arm("raw", "python -c <llama-cpp-python chat completion>", figures["raw"])
    cold = _arm("cold", f"{shown} (no server)", figures["cold"])
    return SayBench(
        machine=Machine.here(),
        model=model.name,
        n_ctx=settings.n_ctx,
        n_threads=settings.n_threads,
        tokens=tokens,
        message=message,
        served=served,
        raw=raw_arm,
        cold=cold,
        ratio=served.median_wall_s / raw_arm.median_wall_s,
        paired_ratio=statistics.median(
            a.wall_s / b.wall_s for a, b in zip(served.runs, raw_arm.runs, strict=True)
        ),
        cold_ratio=cold.median_wall_s / raw_arm.median_wall_s,
    )
