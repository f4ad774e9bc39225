"""`hearth restore` is all or nothing: a damaged backup, a crash mid-swap or a full disk leaves
the data dir exactly as it was."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from memory.backup import MANIFEST, backup
from memory.datadir import ensure_data_dir
from memory.graph.embedder import SentenceEmbedder
from memory.graph.store import MemoryStore
from memory.journal.journal import Journal
from memory.journal.schemas import Role
from memory.restore_swap import MARKER
from memory.settings import Paths, Settings
from tests.conftest import RunHearth

FAULT = "HEARTH_TESTING__FAULT_POINT"
# Runtime state any command touches: the lock file holds the pid of its last holder, the log
# and the run records say what ran. Everything else must stay byte for byte.
RUNTIME = {"hearth.lock", "hearth.log", "runs"}


def _fill(paths: Paths, embedder: SentenceEmbedder, words: list[str], memory: str) -> None:
    ensure_data_dir(paths.data_dir)
    journal = Journal(paths.journal)
    try:
        session = journal.create_session("kept")
        parent = None
        for n, text in enumerate(words):
            role: Role = "user" if n % 2 == 0 else "assistant"
            parent = journal.append(session.id, role, text, parent_id=parent).id
    finally:
        journal.close()
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        store.add(memory)


def snapshot(data_dir: Path) -> dict[str, bytes | None]:
    """Every file's bytes (None for a folder) under the data dir, runtime state aside."""
    found: dict[str, bytes | None] = {}
    for path in sorted(data_dir.rglob("*")):
        name = str(path.relative_to(data_dir))
        if name.split("/", 1)[0] in RUNTIME:
            continue
        found[name] = None if path.is_dir() else path.read_bytes()
    return found


@pytest.fixture
def made(tmp_path: Path, paths: Paths, embedder: SentenceEmbedder) -> tuple[Path, Paths]:
    """A backup of another data dir, and this test's data dir holding a conversation of its
    own (so a restore needs --force)."""
    other = tmp_path / "other"
    source = Paths(config_file=other / "config.toml", data_dir=other, models_dir=other / "m")
    _fill(source, embedder, [f"backed-up message {n}" for n in range(6)], "I live in Porto")
    folder = tmp_path / "backup"
    backup(source, folder)
    _fill(paths, embedder, ["I live here now.", "Nice."], "I live in Lisbon")
    return folder, paths


def _damage_pages(path: Path) -> None:
    """Garbage over every page past the first: the header reads, the b-trees do not."""
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(4096)
        fh.write(b"\xde\xad\xbe\xef" * ((size - 4096) // 4))


def _count_wrong(folder: Path) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["counts"]["messages"] += 1
    (folder / MANIFEST).write_text(json.dumps(manifest))


def _changed_byte(folder: Path) -> None:
    """One letter of a message changed: SQLite still reads the file, the checksum differs."""
    data = (folder / "journal.sqlite3").read_bytes()
    at = data.index(b"backed-up message 3")
    (folder / "journal.sqlite3").write_bytes(data[:at] + b"B" + data[at + 1 :])


def _unsummed(folder: Path, file: str) -> None:
    """As a backup made before checksums were kept: SQLite's own check must catch it."""
    manifest = json.loads((folder / MANIFEST).read_text())
    del manifest["checksums"][file]
    (folder / MANIFEST).write_text(json.dumps(manifest))


def _spoil_memory(folder: Path) -> None:
    _damage_pages(folder / "memory.sqlite3")
    _unsummed(folder, "memory.sqlite3")


def _spoil_journal(folder: Path) -> None:
    _damage_pages(folder / "journal.sqlite3")
    _unsummed(folder, "journal.sqlite3")


def _spoil_summed(folder: Path) -> None:
    _damage_pages(folder / "memory.sqlite3")


def _not_json(folder: Path) -> None:
    (folder / MANIFEST).write_text("{not json")


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "damaged memory.sqlite3": (_spoil_memory, "backup's memory.sqlite3 is damaged"),
    "damaged journal": (_spoil_journal, "backup's journal.sqlite3 is damaged"),
    "count mismatch": (_count_wrong, "messages 6 (manifest: 7)"),
    "non-JSON manifest": (_not_json, "is not a backup manifest"),
    "a changed byte": (_changed_byte, "differs from its checksum"),
    "damaged, with checksums": (_spoil_summed, "memory.sqlite3 differs from its checksum"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_restore_from_a_damaged_backup_leaves_the_data_dir_as_it_was(
    made: tuple[Path, Paths], run_hearth: RunHearth, damage: str
) -> None:
    folder, paths = made
    spoil, said = DAMAGE[damage]
    spoil(folder)
    before = snapshot(paths.data_dir)
    done = run_hearth("restore", str(folder), "--force")
    assert done.returncode == 25, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and said in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(paths.data_dir) == before
    listed = run_hearth("logs", "list", "--json")
    assert sorted(m["text"] for m in json.loads(listed.stdout)) == ["I live here now.", "Nice."]


def test_a_good_restore_moves_the_old_files_aside_and_an_old_backup_restores_on_counts(
    made: tuple[Path, Paths], run_hearth: RunHearth
) -> None:
    folder, paths = made
    manifest = json.loads((folder / MANIFEST).read_text())
    assert set(manifest["checksums"]) == {"journal.sqlite3", "memory.sqlite3"}
    del manifest["checksums"]  # as a backup made before they were kept
    (folder / MANIFEST).write_text(json.dumps(manifest))
    done = run_hearth("restore", str(folder), "--force")
    assert done.returncode == 0, done.stderr
    assert "messages: 6 (backup: 6) ok" in done.stdout
    aside = [p for p in paths.data_dir.iterdir() if p.name.startswith("replaced-")]
    assert len(aside) == 1 and (aside[0] / "journal.sqlite3").exists()
    assert not [p for p in paths.data_dir.iterdir() if p.name.startswith("restoring-")]
    assert not (paths.data_dir / MARKER).exists()
    listed = json.loads(run_hearth("logs", "list", "--json").stdout)
    assert len(listed) == 6


def test_a_crash_mid_swap_is_rolled_back_at_the_next_start(
    made: tuple[Path, Paths], run_hearth: RunHearth
) -> None:
    folder, paths = made
    before = snapshot(paths.data_dir)
    killed = run_hearth(
        "restore", str(folder), "--force", env={FAULT: "mid-restore-swap"}, process=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # Killed half-way: the backup's journal is in place, the memories moved aside.
    assert (paths.data_dir / MARKER).exists()
    assert not (paths.data_dir / "memory.sqlite3").exists()

    listed = run_hearth("logs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert sorted(m["text"] for m in json.loads(listed.stdout)) == ["I live here now.", "Nice."]
    assert snapshot(paths.data_dir) == before


def test_restoring_a_backup_older_than_a_forget_warns(
    made: tuple[Path, Paths], run_hearth: RunHearth, tmp_path: Path
) -> None:
    _, paths = made
    folder = tmp_path / "before-the-forget"
    backup(paths, folder)
    forgot = run_hearth("memory", "forget", "--matching", "Lisbon", "--yes")
    assert forgot.returncode == 0, forgot.stderr
    done = run_hearth("restore", str(folder), "--force")
    assert done.returncode == 0, done.stderr
    assert "before the last forget or reject here" in done.stderr
