"""Bad settings a person can write: each one line and exit 3 (ConfigError), found before a turn."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory.errors import ConfigError
from memory.journal.journal import Journal
from tests.cli_inprocess import Done
from tests.conftest import RunHearth


def _config(home: Path, text: str | bytes) -> None:
    home.mkdir(parents=True, exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    (home / "config.toml").write_bytes(data)


def _say(run_hearth: RunHearth, process: bool = False) -> Done:
    # Without memory: the store's opening (embedder identity, Chroma) would only cost time here.
    # Not short: the reply length must come from the config file these tests write.
    return run_hearth("say", "hi", "--no-memory", short=False, process=process)


def _config_error(done: Done, *needles: str) -> str:
    assert done.returncode == ConfigError.exit_code, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _nothing_said(home: Path) -> None:
    journal = home / "journal.sqlite3"
    assert not journal.exists() or not Journal(journal).sessions()


def test_a_config_that_is_not_utf8(run_hearth: RunHearth, hearth_home: Path) -> None:
    _config(hearth_home, b'[chat]\npersona = "caf\xe9"\n')
    _config_error(_say(run_hearth), "not UTF-8", "config.toml")
    _nothing_said(hearth_home)


@pytest.mark.parametrize(
    ("setting", "value", "bound"),
    [
        ("memory.recall_k", "1e20", ""),  # a float pydantic would read as an int
        ("memory.recall_k", "201", "200"),
        ("model.n_ctx", "100000000", "2097152"),
        ("sampling.max_tokens", "10000000", "2097152"),
        ("sampling.temperature", "inf", "100"),
    ],
)
def test_every_number_has_bounds(
    run_hearth: RunHearth, hearth_home: Path, setting: str, value: str, bound: str
) -> None:
    section, key = setting.split(".")
    _config(hearth_home, f"[{section}]\n{key} = {value}\n")
    _config_error(_say(run_hearth), setting, bound)
    _nothing_said(hearth_home)


def test_a_template_with_a_syntax_error_is_named_before_loading(
    run_hearth: RunHearth, hearth_home: Path
) -> None:
    _config(hearth_home, "[model]\nchat_template = \"{% for m in messages %}{{ m['content'] }}\"\n")
    _config_error(_say(run_hearth), "model.chat_template", "not valid Jinja")
    _nothing_said(hearth_home)


def test_a_template_the_sandbox_blocks(run_hearth: RunHearth, hearth_home: Path) -> None:
    # Mutating a list is what the immutable sandbox forbids (and what an attack would try).
    template = (
        "{% set seen = [] %}{{ seen.append(1) }}{% for m in messages %}{{ m.content }}{% endfor %}"
    )
    _config(hearth_home, f"[model]\nchat_template = '{template}'\n")
    _config_error(_say(run_hearth), "model.chat_template", "sandbox")
    _nothing_said(hearth_home)


def test_a_persona_longer_than_the_window(run_hearth: RunHearth, hearth_home: Path) -> None:
    persona = "You are a kind companion who listens. " * 200
    _config(hearth_home, f'[model]\nn_ctx = 512\n[chat]\npersona = "{persona}"\n')
    line = _config_error(_say(run_hearth), "chat.persona", "model.n_ctx = 512")
    assert "tokens" in line
    _nothing_said(hearth_home)


def test_a_window_too_large_for_this_machine_is_not_a_bad_file(
    run_hearth: RunHearth, hearth_home: Path
) -> None:
    # 2M tokens of KV cache for the embedded model is ~46 GB: no machine running tests has it.
    _config(hearth_home, "[model]\nn_ctx = 2000000\n")
    # In a real process: what llama.cpp itself writes to the screen is part of what is tested.
    line = _config_error(_say(run_hearth, process=True), "model.n_ctx", "lower")
    assert "download" not in line
    _nothing_said(hearth_home)


def test_a_misspelled_environment_section_is_warned_once(run_hearth: RunHearth) -> None:
    done = run_hearth("config", "show", env={"HEARTH_SAMPLNG__TEMPERATURE": "0.5"})
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "HEARTH_SAMPLNG" in line]
    assert len(warnings) == 1, done.stderr
    assert "HEARTH_SAMPLING__TEMPERATURE" in warnings[0] and "warning" in warnings[0]
    right = run_hearth("config", "show", env={"HEARTH_SAMPLING__TEMPERATURE": "0.5"})
    assert right.returncode == 0 and "warning" not in right.stderr, right.stderr
