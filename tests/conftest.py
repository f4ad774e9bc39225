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
def backend(embedded_gguf: Path) -> Iterator[LlamaBackend]:
    """The real embedded model, loaded once for the tests that need only its tokenizer."""
    yield LlamaBackend(embedded_gguf, ModelSettings(n_ctx=1024, n_threads=1))


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


# The longest runs, as one group: with two workers (scripts/test: `-n 2 --dist loadgroup`) they
# run on one while everything else runs on the other. The group is a whole module's, or a test's.
LONG_RUNS = (
    "tests/test_soak.py",
    "tests/test_continuity.py::test_facts_survive_overflow",
    "tests/test_say_bench.py",
)


# Modules that start a process of their own (a model server) for all their tests: one group
# each, so the process is started once, on one worker.
OWN_GROUPS = (
    "tests/test_openai_backend.py",
    "tests/test_chroma_server.py",
    "tests/test_serve.py",
    "tests/test_serve_connect.py",
    "tests/test_remote_tui.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        long = item.nodeid.startswith(LONG_RUNS)
        own = next((m for m in OWN_GROUPS if item.nodeid.startswith(m)), None)
        item.add_marker(pytest.mark.xdist_group("long" if long else own or "rest"))
