"""Loss and recovery: a broken index rebuilt, a damaged database recovered, a mismatch refused."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from memory.datadir import ensure_data_dir
from memory.graph.embedder import SentenceEmbedder
from memory.graph.nodes import NewMemory
from memory.graph.store import MemoryStore
from memory.settings import Paths, Settings, resolve_paths

RunHearth = Callable[..., subprocess.CompletedProcess[str]]
SHORT = {"HEARTH_SAMPLING__MAX_TOKENS": "4"}


@pytest.fixture
def paths(hearth_home: Path) -> Paths:
    resolved = resolve_paths()
    ensure_data_dir(resolved.data_dir)
    return resolved


def seed(paths: Paths, embedder: SentenceEmbedder, *texts: str) -> list[str]:
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        return [m.id for m in store.add_many([NewMemory(text=t) for t in texts])]


def garble(path: Path) -> None:
    """Overwrite a file with bytes that are not SQLite, keeping its size."""
    path.write_bytes(b"garbage!" * (path.stat().st_size // 8))


@pytest.mark.slow
def test_a_broken_index_is_rebuilt_and_say_recalls(
    run_hearth: RunHearth, paths: Paths, embedder: SentenceEmbedder
) -> None:
    lisbon, _ = seed(paths, embedder, "I live in Lisbon", "My sister Ana plays the cello")
    index_file = paths.chroma_dir / "chroma.sqlite3"
    garble(index_file)

    # A reader writes nothing: it says so and searches by words.
    found = run_hearth("memory", "search", "Lisbon", "--json")
    assert found.returncode == 0, found.stderr
    assert [h["id"] for h in json.loads(found.stdout)] == [lisbon]
    assert "could not be read" in found.stderr and "Traceback" not in found.stderr
    assert index_file.read_bytes().startswith(b"garbage!")

    said = run_hearth("say", "--json", "Where do I live?", env=SHORT)
    assert said.returncode == 0, said.stderr
    assert lisbon in [m["id"] for m in json.loads(said.stdout)["recalled"]]
    assert said.stderr.count("rebuilt it from memory.sqlite3 (2 vectors)") == 1
    stats = json.loads(run_hearth("memory", "stats", "--json").stdout)
    assert stats["indexed"] == 2

    garble(index_file)
    rebuilt = run_hearth("memory", "rebuild", "--json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout)["indexed"] == 2
    dense = json.loads(run_hearth("memory", "search", "which city is my home", "--json").stdout)
    assert dense[0]["id"] == lisbon and dense[0]["dense"] > 0
