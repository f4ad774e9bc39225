"""Shared fixtures: an isolated HEARTH_HOME per test, the real embedded model, a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.runtime.backend import LlamaBackend
from agent.runtime.model_files import embedded_model
from agent.startup import Home, load_agent, open_home
from agent.turn import Agent
from memory.datadir import ensure_data_dir
from memory.graph.embedder import SentenceEmbedder
from memory.graph.nodes import NewMemory
from memory.graph.store import MemoryStore
from memory.settings import ModelSettings, Paths, Settings, resolve_paths
from tests.cli_inprocess import Done, run_main
from tests.model_pool import BackendPool, as_loaded
from tests.served import Served, running_server

HEARTH = Path(sys.executable).with_name("hearth")

RunHearth = Callable[..., Done]

CLI_MAX_TOKENS = 24
"""The reply length `run_hearth` asks for unless a test passes its own."""


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests never reach a hub or send telemetry, whatever the developer's shell says.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    for key in list(os.environ):
        if key.startswith("HEARTH_"):
            monkeypatch.delenv(key)


@pytest.fixture
def hearth_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data dir for this test, set as HEARTH_HOME for in-process and CLI use."""
    home = tmp_path / "home"
    monkeypatch.setenv("HEARTH_HOME", str(home))
    return home


@pytest.fixture
def run_hearth(hearth_home: Path) -> RunHearth:
    """Run `hearth ARGS` against this test's data dir: in this process (tests/cli_inprocess.py),
    or as the installed command in a real process with `process=True`."""

    def run(
        *args: str,
        env: dict[str, str] | None = None,
        timeout: float = 180,
        process: bool = False,
        short: bool = True,
    ) -> Done:
        added = {"HEARTH_HOME": str(hearth_home)}
        if short:
            # Short replies: the tiny model fills the default 512 tokens, which would make the
            # CLI tests spend most of their time generating. A test that needs more says so.
            added["HEARTH_SAMPLING__MAX_TOKENS"] = str(CLI_MAX_TOKENS)
        added.update(env or {})
        if not process:
            return run_main(*args, env=added)
        done = subprocess.run(
            [str(HEARTH), *args],
            capture_output=True,
            text=True,
            env={**os.environ, **added},
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        return Done(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture(scope="session")
def embedded_gguf() -> Path:
    return embedded_model()


@pytest.fixture(scope="session")
def _loaded_backend(embedded_gguf: Path) -> LlamaBackend:
    return LlamaBackend(embedded_gguf, ModelSettings(n_ctx=1024, n_threads=1))


@pytest.fixture
def backend(_loaded_backend: LlamaBackend) -> LlamaBackend:
    """The real embedded model, loaded once per worker, its KV cache emptied for each test."""
    as_loaded(_loaded_backend)
    return _loaded_backend


@pytest.fixture(scope="session")
def _backend_pool() -> BackendPool:
    return BackendPool()


@pytest.fixture(autouse=True)
def _one_model_per_worker(
    _backend_pool: BackendPool, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """`load_agent` (make_agent, the chat app, the CLI run in this process) takes the real model
    from the worker's pool (tests/model_pool.py) instead of loading it again for every test."""
    monkeypatch.setattr("agent.startup.LlamaBackend", _backend_pool)
    yield
    _backend_pool.give_back()


@pytest.fixture(scope="session")
def embedder() -> SentenceEmbedder:
    """The bundled embedding model, loaded once for every test that needs it."""
    model = SentenceEmbedder()
    model.embed(["warm up"])
    return model


@pytest.fixture(scope="session")
def gguf_without_template(tmp_path_factory: pytest.TempPathFactory, embedded_gguf: Path) -> Path:
    """The embedded model with its chat template removed from the metadata (with gguf's tool)."""
    out = tmp_path_factory.mktemp("gguf") / "no-template.gguf"
    tool = Path(sys.executable).with_name("gguf-new-metadata")
    subprocess.run(
        [
            str(tool),
            str(embedded_gguf),
            str(out),
            "--remove-metadata",
            "tokenizer.chat_template",
            "--force",
        ],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One `hearth serve` per worker (tests/served.py), with `run_hearth`'s short replies, for
    the modules whose tests each start sessions of their own on it (test_serve, test_remote_tui).
    A module that needs a server in a state of its own (an empty memory) starts its own."""
    home = tmp_path_factory.mktemp("served") / "home"
    with running_server(home, HEARTH_SAMPLING__MAX_TOKENS=str(CLI_MAX_TOKENS)) as served:
        yield served


@pytest.fixture
def paths(hearth_home: Path) -> Paths:
    """This test's data dir, created."""
    resolved = resolve_paths()
    ensure_data_dir(resolved.data_dir)
    return resolved


def seed(paths: Paths, embedder: SentenceEmbedder, *texts: str) -> list[str]:
    """Memories added in-process (one model load for the whole session, not one per CLI call)."""
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        return [m.id for m in store.add_many([NewMemory(text=t) for t in texts])]


@pytest.fixture
def make_home(hearth_home: Path) -> Iterator[Callable[..., Home]]:
    """Open this test's data dir for writing, with settings overrides; closed after the test."""
    opened: list[Home] = []

    def make(**overrides: Any) -> Home:
        home = open_home(overrides or None, write_lock=True)
        opened.append(home)
        return home

    yield make
    for home in opened:
        home.close()


@pytest.fixture
def make_agent(
    make_home: Callable[..., Home], embedder: SentenceEmbedder
) -> Callable[..., tuple[Home, Agent]]:
    """A home and its agent with memory on, sharing the session's embedder."""

    def make(**overrides: Any) -> tuple[Home, Agent]:
        home = make_home(**overrides)
        home.store = MemoryStore.open(
            home.paths, home.settings, write=True, lock=home.lock, embedder=embedder
        )
        return home, load_agent(home)

    return make


# The longest runs, first: `scripts/test` runs `-n 2 --dist worksteal`, which hands each worker a
# half of the tests in this order and lets an idle one take from the other's queue, so a long
# run started early never leaves one core waiting on the other at the end. A module's, or a test's.
LONG_RUNS = (
    "tests/test_say_bench.py",
    "tests/test_lending_chat.py::test_memory_commands_and_say_run_beside_the_open_chat",
    "tests/test_soak.py",
    "tests/test_continuity.py::test_facts_survive_overflow",
    "tests/test_model_extract.py",
)

BIG_MODEL = "HEARTH_TEST_BIG_MODEL"
"""The GGUF the `bigmodel` tier runs on (a model that can do what the embedded 135M cannot)."""
SOAK = "HEARTH_TEST_SOAK"
"""Set (to anything but empty) to run the `soak` tier: the 500-turn soak, the longer load."""

OPT_IN = {"bigmodel": BIG_MODEL, "soak": SOAK}
"""The opt-in tiers: a marker's tests skip unless its variable is set or `-m` names it."""


def _wanted(config: pytest.Config, marker: str) -> bool:
    return bool(os.environ.get(OPT_IN[marker])) or marker in (config.option.markexpr or "")


def _long_run_rank(item: pytest.Item) -> int:
    """Where LONG_RUNS puts the test: the longest first, every other test after them."""
    return next(
        (rank for rank, long in enumerate(LONG_RUNS) if item.nodeid.startswith(long)),
        len(LONG_RUNS),
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Stable: everything else keeps its order (a module's tests together, its fixtures once).
    items.sort(key=_long_run_rank)
    for marker, variable in OPT_IN.items():
        if _wanted(config, marker):
            continue
        skip = pytest.mark.skip(reason=f"the {marker} tier: set {variable} or `-m {marker}`")
        for item in items:
            if marker in item.keywords:
                item.add_marker(skip)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # `-m bigmodel` where no test has the marker (yet) selects nothing: that is not a failure.
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and any(
        _wanted(session.config, marker) for marker in OPT_IN
    ):
        session.exitstatus = pytest.ExitCode.OK


@pytest.fixture(scope="session")
def big_gguf() -> Path:
    """The bigger model for a `bigmodel` test: HEARTH_TEST_BIG_MODEL, or the test skips."""
    found = os.environ.get(BIG_MODEL)
    if not found:
        pytest.skip(f"the bigmodel tier needs {BIG_MODEL}=PATH.gguf")
    path = Path(found).expanduser()
    if not path.is_file():
        pytest.fail(f"{BIG_MODEL}={found} is not a file")
    return path
