"""Which GGUF in models/ the chat replies with: the chosen one, else the newest not passed over
(a pulled file the person did not choose never silently takes over)."""

from __future__ import annotations

import os
from pathlib import Path

from agent.runtime.model_files import (
    CHOICE_FILE,
    ModelChoice,
    read_choice,
    resolve_model,
    write_choice,
)


def _gguf(folder: Path, name: str, age_s: int) -> Path:
    path = folder / name
    path.write_bytes(b"GGUF")
    stamp = 1_700_000_000 - age_s
    os.utime(path, (stamp, stamp))
    return path


def test_the_choice_comes_before_the_newest_and_a_passed_over_file_never_wins(
    tmp_path: Path, embedded_gguf: Path
) -> None:
    old = _gguf(tmp_path, "old.gguf", age_s=100)
    new = _gguf(tmp_path, "new.gguf", age_s=0)
    assert resolve_model(None, tmp_path).path == new  # no choice: the newest, as before

    write_choice(tmp_path, ModelChoice(passed_over=["new.gguf"]))
    assert resolve_model(None, tmp_path).path == old
    write_choice(tmp_path, ModelChoice(passed_over=["new.gguf", "old.gguf"]))
    assert resolve_model(None, tmp_path).path.resolve() == embedded_gguf.resolve()

    write_choice(tmp_path, ModelChoice(use="old.gguf", passed_over=["new.gguf"]))
    assert resolve_model(None, tmp_path).path == old
    assert resolve_model(tmp_path / "x.gguf", tmp_path).source == "setting"  # model.path first

    old.unlink()  # the chosen file gone: the finder goes on (new.gguf still passed over)
    assert resolve_model(None, tmp_path).path.resolve() == embedded_gguf.resolve()


def test_an_unreadable_choice_is_no_choice(tmp_path: Path) -> None:
    (tmp_path / CHOICE_FILE).write_text("{not json")
    assert read_choice(tmp_path) == ModelChoice()
    assert read_choice(tmp_path / "missing") == ModelChoice()
