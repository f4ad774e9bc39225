"""A data dir from an earlier schema is backed up before it is migrated, its counts unchanged."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from memory.errors import StorageError
from memory.graph.db import MemoryDB
from memory.graph.db.migrations import MIGRATIONS as MEMORY_MIGRATIONS
from memory.journal.journal import Journal
from memory.journal.migrations import MIGRATIONS as JOURNAL_MIGRATIONS
from memory.sqlite import Database, Migration
from tests.conftest import RunHearth

OLD_DATADIR = Path(__file__).parent / "fixtures" / "old_datadir"
TABLES = {
    "journal": ("sessions", "messages"),
    "memory": ("memories", "vectors", "edges", "history"),
}


def _version(path: Path) -> int:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def _counts(path: Path, tables: tuple[str, ...]) -> dict[str, int]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {t: int(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables}
    finally:
        db.close()


@pytest.fixture
def old_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(OLD_DATADIR, home)
    home.chmod(0o700)
    return home


# A migration this Hearth does not have yet: the fixture is then one schema behind, as a data
# dir from the previous release is, whatever migrations have landed since it was made.
NEXT: Migration = ("9999_probe", ["CREATE TABLE probe (x INTEGER)"])


@pytest.mark.parametrize(
    ("name", "migrations"),
    [("journal", JOURNAL_MIGRATIONS), ("memory", MEMORY_MIGRATIONS)],
)
def test_a_pending_migration_backs_the_file_up_first_with_counts_unchanged(
    old_home: Path, name: str, migrations: list[Migration]
) -> None:
    path = old_home / f"{name}.sqlite3"
    # Brought up to this Hearth's schema first (without a probe, there may be nothing to do).
    Database(path, what=name, migrations=migrations).close()
    version = _version(path)
    before = _counts(path, TABLES[name])
    backups = old_home / "backups"
    kept = sorted(backups.glob(f"{name}-*.sqlite3")) if backups.exists() else []

    Database(path, what=name, migrations=[*migrations, NEXT]).close()

    assert _version(path) == version + 1
    assert _counts(path, TABLES[name]) == before
    made = sorted(set(backups.glob(f"{name}-*.sqlite3")) - set(kept))
    assert len(made) == 1 and made[0].name.startswith(f"{name}-v{version}-")
    backup = made[0]
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700
    assert _version(backup) == version and _counts(backup, TABLES[name]) == before
    db = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()

    # Up to date, the next open makes no further copy.
    Database(path, what=name, migrations=[*migrations, NEXT]).close()
    assert sorted(backups.glob(f"{name}-*.sqlite3")) == sorted([*kept, backup])


def test_the_old_data_dir_opens_with_a_backup_of_each_file_it_upgrades(
    old_home: Path, run_hearth: RunHearth, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTH_HOME", str(old_home))
    journal, memory = old_home / "journal.sqlite3", old_home / "memory.sqlite3"
    behind = {
        "journal": _version(journal) < len(JOURNAL_MIGRATIONS),
        "memory": _version(memory) < len(MEMORY_MIGRATIONS),
    }
    before = {
        "journal": _counts(journal, TABLES["journal"]),
        "memory": _counts(memory, TABLES["memory"]),
    }
    Journal(journal).close()
    MemoryDB(memory).close()
    for name, path in (("journal", journal), ("memory", memory)):
        made = list((old_home / "backups").glob(f"{name}-v*.sqlite3"))
        # A file already at this schema is not copied; one behind is, once.
        assert len(made) == int(behind[name]), name
        assert _counts(path, TABLES[name]) == before[name]
    status = run_hearth("logs", "status", "--json")
    assert status.returncode == 0, status.stderr


def test_an_upgrade_that_cannot_be_backed_up_changes_nothing(old_home: Path) -> None:
    path = old_home / "journal.sqlite3"
    Database(path, what="journal", migrations=JOURNAL_MIGRATIONS).close()
    version = _version(path)
    # Bringing the fixture up to this schema may have made the folder already.
    shutil.rmtree(old_home / "backups", ignore_errors=True)
    (old_home / "backups").write_text("a file where the backups folder should be")
    with pytest.raises(StorageError, match=r"could not back up the journal .* nothing was changed"):
        Database(path, what="journal", migrations=[*JOURNAL_MIGRATIONS, NEXT])
    assert _version(path) == version
