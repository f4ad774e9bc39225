"""Errors a user can cause: one line naming the problem and the fix, a distinct exit code."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from memory.coordination.lock import DataDirLock
from memory.errors import (
    ConfigError,
    DataDirLockedError,
    DataDirNewerError,
    ModelInvalidError,
    ModelNotFoundError,
)
from tests.cli_inprocess import Done
from tests.conftest import RunHearth


def _one_line_error(result: Done, code: int, *needles: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_missing_gguf(run_hearth: RunHearth, tmp_path: Path) -> None:
    result = run_hearth("say", "hi", "--model", str(tmp_path / "nope.gguf"))
    _one_line_error(result, ModelNotFoundError.exit_code, "does not exist", "--model")


def test_file_that_is_not_gguf(run_hearth: RunHearth, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.gguf"
    bogus.write_text("just some text, not a model\n")
    result = run_hearth("say", "hi", "--model", str(bogus))
    _one_line_error(result, ModelInvalidError.exit_code, "not a GGUF")


def test_truncated_gguf(run_hearth: RunHearth, tmp_path: Path, embedded_gguf: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(embedded_gguf.read_bytes()[: 4 * 1024 * 1024])
    result = run_hearth("say", "hi", "--model", str(cut))
    _one_line_error(result, ModelInvalidError.exit_code, "cut.gguf")


def test_a_models_metadata_is_read_again_once_its_file_changes(
    hearth_home: Path, tmp_path: Path, embedded_gguf: Path
) -> None:
    from agent.runtime import gguf

    hearth_home.mkdir()
    model = tmp_path / "model.gguf"
    model.write_bytes(embedded_gguf.read_bytes())
    first = gguf.read_info(model)
    cache = hearth_home / "gguf-info.json"
    assert cache.stat().st_mode & 0o777 == 0o600
    # The next process reads the record, not the file (reading it takes seconds).
    entries = json.loads(cache.read_text())
    entries[str(model.resolve())]["info"]["name"] = "as recorded"
    cache.write_text(json.dumps(entries))
    gguf._read.cache_clear()
    assert gguf.read_info(model).name == "as recorded" != first.name
    # A file changed since (here: cut short) is read again, and refused as it would be.
    with model.open("r+b") as fh:
        fh.truncate(4 * 1024 * 1024)
    gguf._read.cache_clear()
    with pytest.raises(ModelInvalidError, match="damaged or truncated"):
        gguf.read_info(model)


def test_malformed_config_writes_nothing(run_hearth: RunHearth, hearth_home: Path) -> None:
    hearth_home.mkdir(parents=True)
    (hearth_home / "config.toml").write_text("[model\nn_ctx = 2048\n")
    result = run_hearth("say", "hi")
    _one_line_error(result, ConfigError.exit_code, "not valid TOML", "config.toml")
    assert not (hearth_home / "journal.sqlite3").exists()


def test_unknown_config_key_is_named(run_hearth: RunHearth, hearth_home: Path) -> None:
    hearth_home.mkdir(parents=True)
    (hearth_home / "config.toml").write_text("[model]\nn_ctxx = 2048\n")
    result = run_hearth("config", "show")
    _one_line_error(result, ConfigError.exit_code, "model.n_ctxx", "unknown setting")


def test_bad_value_from_environment(run_hearth: RunHearth) -> None:
    result = run_hearth("say", "hi", env={"HEARTH_MODEL__N_CTX": "lots"})
    _one_line_error(result, ConfigError.exit_code, "model.n_ctx")


def test_newer_data_dir_is_refused_untouched(run_hearth: RunHearth, hearth_home: Path) -> None:
    assert run_hearth("logs", "status").returncode == 0
    journal = hearth_home / "journal.sqlite3"
    with sqlite3.connect(journal) as db:
        db.execute("PRAGMA user_version = 99")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = journal.read_bytes()
    result = run_hearth("say", "hi")
    _one_line_error(result, DataDirNewerError.exit_code, "newer Hearth")
    assert journal.read_bytes() == before


def test_second_writer_is_refused_naming_the_holder(
    run_hearth: RunHearth, hearth_home: Path
) -> None:
    hearth_home.mkdir(parents=True)
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            " from memory.coordination.lock import DataDirLock;"
            f"lock = DataDirLock(Path({str(hearth_home / 'hearth.lock')!r})).acquire();"
            "print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = run_hearth("say", "hi")
        _one_line_error(result, DataDirLockedError.exit_code, f"pid {holder.pid}")
        # Reading never needs the lock.
        assert run_hearth("logs", "list").returncode == 0
    finally:
        holder.kill()
        holder.wait()


def test_lock_is_released_when_the_holder_dies(tmp_path: Path) -> None:
    lock = DataDirLock(tmp_path / "hearth.lock").acquire()
    with pytest.raises(DataDirLockedError):
        DataDirLock(tmp_path / "hearth.lock").acquire()
    lock.release()
    DataDirLock(tmp_path / "hearth.lock").acquire().release()


def test_unknown_message_id(run_hearth: RunHearth) -> None:
    result = run_hearth("logs", "show", "12345")
    _one_line_error(result, 9, "no message 12345")
