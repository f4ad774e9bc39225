"""A cold `hearth say` does only what its turn needs, and waits for as little as it can."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from agent.learn.extract import vocabulary
from agent.runtime.loading import SWITCH_S, Beside, short_switches
from memory.graph import chroma_import
from memory.graph import embedder as embedder_module
from memory.graph.embedder import model_identity

_COMPILED_AT_IMPORT = """
from agent.learn.extract import extract
from agent.learn.extract.vocabulary import _MADE
print(len(_MADE), sum(p._compiled is not None for p in _MADE))
"""


def test_importing_the_rules_compiles_none_of_their_patterns() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _COMPILED_AT_IMPORT], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    made, compiled = map(int, done.stdout.split())
    assert made > 150  # the rules' patterns, all lazy
    assert compiled == 0


def test_every_rule_pattern_compiles() -> None:
    # Lazily compiled, a broken pattern would fail at the first message reaching it: here instead.
    import agent.learn.extract  # noqa: F401 (makes every rule's patterns)

    assert len(vocabulary._MADE) > 150
    for pattern in vocabulary._MADE:
        assert pattern.compiled.pattern


def test_the_model_folder_hash_is_remembered_by_names_sizes_and_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 4}))
    weights = folder / "weights.bin"
    weights.write_bytes(b"\x01" * 1000)
    first = model_identity(folder).hash
    remembered = list((tmp_path / "cache").rglob("hashes/*"))
    assert len(remembered) == 1 and remembered[0].read_text().strip() == first

    # A new process (no in-process cache) reads the remembered hash instead of the files: the
    # proof is a remembered value the files would not give.
    embedder_module._hash_files.cache_clear()
    remembered[0].write_text("ab" * 32 + "\n")
    assert model_identity(folder).hash == "ab" * 32

    # A file written again (its time changes) is hashed again, and the new hash is right.
    embedder_module._hash_files.cache_clear()
    weights.write_bytes(b"\x02" * 1000)
    os.utime(weights, ns=(1, 1))
    changed = model_identity(folder).hash
    assert changed not in (first, "ab" * 32)
    embedder_module._hash_files.cache_clear()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
    assert model_identity(folder).hash == changed  # computed afresh: the same


def test_a_model_load_beside_a_failing_caller_is_waited_for_and_handed_back() -> None:
    started, release = threading.Event(), threading.Event()
    warmed: list[str] = []

    def load() -> str:
        started.set()
        release.wait(5)
        return "model"

    loading = Beside(load, after=lambda: warmed.append("warm"))
    assert started.wait(5) and loading.running
    release.set()
    assert loading.abandon() == "model"  # the caller failed: it gets the model to unload
    assert warmed == []  # and the warm-up was skipped

    def broken() -> str:
        raise ValueError("damaged file")

    with pytest.raises(ValueError, match="damaged file"):
        Beside(broken).wait()
    done = Beside(lambda: "model", after=lambda: warmed.append("warm"))
    assert done.wait() == "model" and warmed == ["warm"]


def test_chromadb_imported_without_override_checks_still_marks_its_overrides() -> None:
    chromadb = chroma_import.chromadb()
    import overrides

    # The marker EnforceOverrides classes look for is still set, so a method that overrides
    # without it is refused as before; only the bytecode and signature checks are skipped.
    class Base(overrides.EnforceOverrides):
        def step(self) -> int:
            return 1

    class Marked(Base):
        @overrides.override
        def step(self) -> int:
            return 2

    assert Marked().step() == 2
    with pytest.raises(TypeError, match="does not have @override"):

        class Unmarked(Base):
            def step(self) -> int:
                return 3

    assert chroma_import.chromadb() is chromadb  # imported once


_LIST_MODULES = """
import atexit, sys
atexit.register(lambda: print(*sorted({m.split(".")[0] for m in sys.modules}), file=sys.stderr))
from tui.cli.main import main
main()
"""


def test_an_off_record_say_loads_no_memory_machinery(hearth_home: Path) -> None:
    # Nothing is recalled or remembered: neither the index nor the embedder is loaded.
    done = subprocess.run(
        [sys.executable, "-c", _LIST_MODULES, "say", "--no-memory", "hello"],
        capture_output=True,
        text=True,
        env={**os.environ, "HEARTH_HOME": str(hearth_home), "HEARTH_SAMPLING__MAX_TOKENS": "4"},
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    imported = set(done.stderr.splitlines()[-1].split())
    assert "llama_cpp" in imported  # the list is real: the turn ran
    assert imported.isdisjoint({"chromadb", "onnxruntime", "tokenizers"}), imported


def test_short_switches_nest_and_put_back_the_interval_found() -> None:
    before = sys.getswitchinterval()
    with short_switches():
        assert sys.getswitchinterval() == pytest.approx(SWITCH_S)
        with short_switches():
            pass
        assert sys.getswitchinterval() == pytest.approx(SWITCH_S)  # the inner one kept it
    assert sys.getswitchinterval() == before
