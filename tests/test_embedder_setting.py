"""memory.embedder: the bundled model, or any sentence-transformers folder the person brings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from memory.errors import ConfigError, EmbedderChangedError
from memory.graph.embedder import bundled_model_dir
from tests.conftest import RunHearth


def _memory(run_hearth: RunHearth, *args: str, env: dict[str, str] | None = None) -> object:
    done = run_hearth("memory", *args, "--json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_copy_of_the_bundled_model_is_the_same_model_and_a_changed_one_is_reembedded(
    run_hearth: RunHearth, tmp_path: Path
) -> None:
    added = _memory(run_hearth, "add", "I keep bees on the roof")
    assert isinstance(added, dict)

    # The same files in a folder of the person's own: the same vectors, nothing to redo.
    mine = tmp_path / "my-minilm"
    shutil.copytree(bundled_model_dir(), mine)
    env = {"HEARTH_MEMORY__EMBEDDER": str(mine)}
    found = _memory(run_hearth, "search", "beekeeping", env=env)
    assert isinstance(found, list) and found[0]["id"] == added["id"]
    assert _memory(run_hearth, "add", "I grow tomatoes too", env=env)

    # Another model (here: other files): refused with both models named and the fix...
    (mine / "notes.txt").write_text("fine-tuned on my own words")
    refused = run_hearth("memory", "add", "I like jazz", env=env)
    assert refused.returncode == EmbedderChangedError.exit_code, refused.stderr
    assert "all-MiniLM-L6-v2 (384-d" in refused.stderr and "my-minilm (384-d" in refused.stderr
    assert "hearth memory rebuild --reembed" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1

    # ...which re-embeds every memory with it; then it works, and search finds with it.
    rebuilt = _memory(run_hearth, "rebuild", "--reembed", env=env)
    assert isinstance(rebuilt, dict) and rebuilt["reembedded"] == 2
    stats = _memory(run_hearth, "stats", env=env)
    assert isinstance(stats, dict) and stats["embedder"]["name"] == "my-minilm"
    assert _memory(run_hearth, "add", "I like jazz", env=env)
    found = _memory(run_hearth, "search", "beekeeping", env=env)
    assert isinstance(found, list) and found[0]["id"] == added["id"]


def test_a_folder_that_is_no_model_is_one_clear_line(run_hearth: RunHearth, tmp_path: Path) -> None:
    done = run_hearth("memory", "list", env={"HEARTH_MEMORY__EMBEDDER": str(tmp_path)})
    assert done.returncode == ConfigError.exit_code
    assert "memory.embedder" in done.stderr and "sentence-transformers" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("setting", ["bundled"])
def test_bundled_is_the_default_and_names_the_model(setting: str) -> None:
    from memory.graph.embedder import configured_identity
    from memory.settings import MemorySettings

    assert MemorySettings().embedder == setting
    assert configured_identity(setting).name == "all-MiniLM-L6-v2"
