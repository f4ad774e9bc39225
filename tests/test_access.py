"""One way for a command to reach the data dir (agent/access.py), and the registries it leans on:
the export kinds (memory/export/kinds.py), the memory kinds a message can teach, and the
exports a forget reaches without the graph importing them (memory/graph/forget_exports.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import agent.startup  # noqa: F401  (registers the exports with the forget, as every opener does)
from agent.access import Here, opened, reach
from agent.serving.client import Client
from memory.coordination.lock import DataDirLock
from memory.errors import DataDirLockedError
from memory.graph import forget_exports


def test_with_no_server_a_writing_command_holds_the_data_dir_itself(hearth_home: Path) -> None:
    with reach(write=True) as where:
        assert isinstance(where, Here)
        assert not where.borrowed
        assert where.home.lock is not None
        # Held: no other process (nor a second lock here) takes it meanwhile.
        with pytest.raises(DataDirLockedError):
            DataDirLock(hearth_home / "hearth.lock").acquire()
    # Let go when the block ends.
    DataDirLock(hearth_home / "hearth.lock").acquire().release()


def test_a_reading_command_takes_no_lock(hearth_home: Path) -> None:
    with opened() as here, DataDirLock(hearth_home / "hearth.lock"):
        assert here.home.lock is None
        with pytest.raises(RuntimeError, match="store=True"):
            _ = here.memory


def test_connect_goes_to_the_hearth_there_and_opens_nothing_here(
    hearth_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTH_REMOTE__TOKEN", "t" * 40)
    with reach("http://127.0.0.1:9/", write=True, store=True) as where:
        assert isinstance(where, Client)
        assert where.remote.url == "http://127.0.0.1:9"
        assert not where.remote.here
    assert not (hearth_home / "journal.sqlite3").exists()


def test_a_model_named_here_opens_the_data_dir_here_even_with_remote_url(
    hearth_home: Path, monkeypatch: pytest.MonkeyPatch, embedded_gguf: Path
) -> None:
    # The CLI refuses --model with --connect (usage); remote.url alone yields to --model.
    monkeypatch.setenv("HEARTH_REMOTE__URL", "http://127.0.0.1:9")
    monkeypatch.setenv("HEARTH_REMOTE__TOKEN", "t" * 40)
    with reach(model=embedded_gguf) as where:
        assert isinstance(where, Here)
        assert where.home.settings.model.path == embedded_gguf


def test_every_export_kind_is_offered_and_carded(hearth_home: Path) -> None:
    from agent.training_data import EXPORT_KINDS, candidates_refused, in_words, writes_frozen
    from memory.export.kinds import REGISTRY, card_format

    assert in_words() == "sft, dpo, kto, openai or sharegpt"
    for kind in EXPORT_KINDS:
        assert card_format(kind, False) == REGISTRY[kind].format_name
        # --context-frozen changes only the kinds that have a frozen shape.
        assert writes_frozen(kind, True) == (kind in ("sft", "openai", "sharegpt"))
        assert not writes_frozen(kind, False)
        assert candidates_refused(kind, False) == (kind in ("sft", "sharegpt"))
        assert not candidates_refused(kind, True)


def test_the_model_extractor_is_offered_exactly_the_taught_kinds() -> None:
    from agent.learn.model_extract import INSTRUCTIONS, schema_for
    from memory.graph.kinds import KINDS, TAUGHT_KINDS

    enum = schema_for("hello")["$defs"]["ModelMemory"]["properties"]["kind"]["enum"]
    assert tuple(enum) == TAUGHT_KINDS
    line = next(x for x in INSTRUCTIONS.splitlines() if x.startswith("- kind: "))
    for kind in KINDS:
        assert (f" {kind}" in line) == (kind in TAUGHT_KINDS), kind


def test_a_forget_refuses_to_leave_exports_it_cannot_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = tmp_path / "exports"
    assert forget_exports.registered(exports) is not None  # agent/startup.py registered it
    monkeypatch.setattr(forget_exports, "_registered", [])
    assert forget_exports.registered(exports) is None  # none written: nothing to reach
    exports.mkdir()
    (exports / "sft.jsonl").write_text("{}\n")
    os.chmod(exports / "sft.jsonl", 0o600)
    with pytest.raises(RuntimeError, match="nothing registered"):
        forget_exports.registered(exports)
