"""A forget reaches the backups `hearth backup` wrote outside the data dir: each listed (an
unreachable one as such), and with --backups rewritten without the words or deleted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from memory.backup import MANIFEST, backup, sha256_of
from memory.graph.embedder import SentenceEmbedder
from memory.journal.journal import Journal
from memory.settings import Paths
from tests.conftest import RunHearth, seed


@pytest.fixture
def backups(paths: Paths, embedder: SentenceEmbedder, tmp_path: Path) -> tuple[Path, Path]:
    """A data dir that speaks of Ziggy, backed up to a folder outside it and to one since
    removed (a disk not plugged in)."""
    journal = Journal(paths.journal)
    try:
        session = journal.create_session("neighbours")
        first = journal.append(session.id, "user", "My neighbour Ziggy plays the drums.")
        journal.append(session.id, "assistant", "Loud!", parent_id=first.id)
    finally:
        journal.close()
    seed(paths, embedder, "Neighbour Ziggy plays the drums", "I live in Porto")
    kept, gone = tmp_path / "usb" / "hearth", tmp_path / "unplugged" / "hearth"
    backup(paths, kept)
    backup(paths, gone)
    shutil.rmtree(gone)
    return kept, gone


def _holds(folder: Path, word: bytes) -> bool:
    return any(word in p.read_bytes().lower() for p in folder.iterdir() if p.is_file())


def test_forget_lists_a_backup_outside_the_data_dir_and_an_unreachable_one(
    backups: tuple[Path, Path], run_hearth: RunHearth
) -> None:
    kept, gone = backups
    dry = run_hearth("memory", "forget", "--matching", "Ziggy", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    seen = {b["path"]: b for b in json.loads(dry.stdout)["backups"]}
    assert seen[str(kept)]["holds_phrase"] is True and seen[str(gone)]["exists"] is False
    done = run_hearth("memory", "forget", "--matching", "Ziggy", "--yes")
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert f"backup elsewhere, NOT touched, still holds it: {kept}" in said
    assert f"backup elsewhere, unreachable (not there now): {gone}" in said
    assert _holds(kept, b"ziggy")  # listed, never touched without the flag


def test_forget_rewrites_an_outside_backup_which_then_restores(
    backups: tuple[Path, Path], run_hearth: RunHearth, tmp_path: Path
) -> None:
    kept, _ = backups
    done = run_hearth("memory", "forget", "--matching", "Ziggy", "--yes", "--backups", "rewrite")
    assert done.returncode == 0, done.stderr
    assert f"backup elsewhere, rewritten without it: {kept}" in " ".join(done.stdout.split())
    assert not _holds(kept, b"ziggy")
    manifest = json.loads((kept / MANIFEST).read_text())
    assert manifest["counts"] == {"sessions": 1, "messages": 2, "memories": 1}
    assert manifest["checksums"]["memory.sqlite3"] == sha256_of(kept / "memory.sqlite3")
    restored = run_hearth("restore", str(kept), env={"HEARTH_HOME": str(tmp_path / "new")})
    assert restored.returncode == 0, restored.stderr


def test_forget_everything_deletes_the_outside_backups_when_asked(
    backups: tuple[Path, Path], run_hearth: RunHearth
) -> None:
    kept, gone = backups
    done = run_hearth("memory", "forget", "--everything", "--yes", "--backups", "delete")
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert f"backup elsewhere, deleted: {kept}" in said
    assert f"unreachable (not there now): {gone}" in said
    assert not kept.exists()
