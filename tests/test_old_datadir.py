"""A data dir written by today's Hearth, read by every reading command: the output must not change.

`tests/fixtures/old_datadir/` was written through the `hearth` command line only, by
`tests/fixtures/make_old_datadir.py` (its docstring says what is in it). Each test here copies it
into its own tmp dir, runs one command on the copy (TZ=UTC, COLUMNS=200, so times and tables
print the same everywhere) and compares what it prints with a golden file under
`tests/fixtures/old_datadir_golden/`, one per command. Commands run in this process through
`main()` (tests/cli_inprocess.py: a subprocess each cost ~1.5 s of imports, minutes in all);
`test_a_subprocess_prints_the_same` runs a few as the installed `hearth` to show that is equal.
It guards refactors that must not change behaviour: a newer Hearth must read this data dir and
print exactly this.

After an intended change of output (or a rebuilt fixture), rewrite the golden files with

    UPDATE_GOLDENS=1 .venv/bin/pytest tests/test_old_datadir.py

(the variable tests/test_export.py uses) and review the diff. Golden files no case writes are
then deleted.

What is normalised, and only this (everything else must match byte for byte):
- the copy's path, which differs every run, reads `$HEARTH_HOME`; an export's folder `$OUT`;
- `memory search --json`: each hit's `recency` is computed from the current time, so it reads
  `<now>`; its other floats are rounded to 3 decimals (the query is embedded at test time, and
  the last bits of a vector may differ between CPUs). The table prints scores already rounded;
  they are compared as printed;
- an export's dataset card: its `written` line (the current time).
Export files are compared as parsed JSON lines; the sha256 in `export --json` pins their bytes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from tests.cli_inprocess import Done, run_main
from tests.conftest import HEARTH

HERE = Path(__file__).parent
FIXTURE = HERE / "fixtures" / "old_datadir"
GOLDEN = HERE / "fixtures" / "old_datadir_golden"
UPDATE = os.environ.get("UPDATE_GOLDENS") == "1"

# Environment that would change how Rich prints (colours, terminal detection).
RICH_ENV = ("FORCE_COLOR", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "LINES")


def _rows(db: str, sql: str) -> list[tuple[Any, ...]]:
    """Read the committed fixture (immutable: no -wal or -shm appears beside it)."""
    conn = sqlite3.connect(f"{(FIXTURE / db).as_uri()}?immutable=1", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


MESSAGES = [int(i) for (i,) in _rows("journal.sqlite3", "SELECT id FROM messages ORDER BY id")]
SESSIONS = [int(i) for (i,) in _rows("journal.sqlite3", "SELECT id FROM sessions ORDER BY id")]
MEMORIES = [str(i) for (i,) in _rows("memory.sqlite3", "SELECT id FROM memories ORDER BY n")]
FORGOTTEN = [
    str(i)
    for (i,) in _rows(
        "memory.sqlite3", "SELECT DISTINCT memory_id FROM history WHERE action='forget'"
    )
]
PINNED = [str(i) for (i,) in _rows("memory.sqlite3", "SELECT id FROM memories WHERE pinned")]
# Shown as tables too (every memory is shown as JSON): the first of each kind, and every pinned,
# flagged, expired or superseding one.
MEMORIES_SHOWN = [
    str(i)
    for (i,) in _rows(
        "memory.sqlite3",
        "SELECT id FROM memories WHERE n IN (SELECT min(n) FROM memories GROUP BY kind)"
        " OR pinned OR flags_json != '[]' OR expired_at IS NOT NULL"
        " OR id IN (SELECT src FROM edges WHERE type='supersedes') ORDER BY n",
    )
]
# Shown as text too (every message is shown as JSON), as make_old_datadir.py numbers them.
MESSAGES_SHOWN = {
    1: "the first user message",
    2: "a reply with a thumbs up and a note",
    4: "a reply chosen back over its regeneration",
    11: "the regeneration, thumbs down",
    12: "an edited reply",
    13: "an edited user message: a branch, with recalled notes",
    14: "the reply to the edited message, a note only",
    15: "a message with recalled notes, one instruction-like",
    17: "a correction",
    19: "a message whose phrase was forgotten",
    21: "a temporary (--no-memory) message",
    22: "a temporary reply",
    25: "an imported message by the user",
    26: "an imported message by the other speaker",
    44: "a reply after trimmed messages",
}
# Their prompts too (a user message has none: 1 shows that).
PROMPTS_SHOWN = [1, 2, 4, 11, 12, 14, 16, 22, 44]

Form = Literal["text", "json", "search", "error"]


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    form: Form
    exit_code: int = 0

    @property
    def golden(self) -> Path:
        return GOLDEN / (self.name + (".json" if self.form in ("json", "search") else ".txt"))


def _both(name: str, *args: str, search: bool = False) -> list[Case]:
    """The table (or text) and the --json form of one command."""
    return [
        Case(name, args, "text"),
        Case(f"{name}__json", (*args, "--json"), "search" if search else "json"),
    ]


def _cases() -> list[Case]:
    cases: list[Case] = []
    # -- the journal
    cases += _both("logs_list", "logs", "list", "-n", "1000")
    cases += [Case("logs_list_default", ("logs", "list"), "text")]
    for s in SESSIONS:
        cases += _both(f"logs_list_s{s}", "logs", "list", "-s", str(s), "-n", "1000")
    for m in MESSAGES:
        cases += [Case(f"logs_show_{m}__json", ("logs", "show", str(m), "--json"), "json")]
    for m in MESSAGES_SHOWN:
        cases += [Case(f"logs_show_{m}", ("logs", "show", str(m)), "text")]
    for m in PROMPTS_SHOWN:
        cases += _both(f"logs_show_{m}_prompt", "logs", "show", str(m), "--prompt")
    cases += _both("logs_status", "logs", "status")
    cases += [
        Case("logs_path", ("logs", "path"), "text"),
        Case("logs_show_missing", ("logs", "show", "9999"), "error", 9),
    ]
    # -- memory
    cases += _both("memory_list", "memory", "list")
    cases += _both("memory_list_all", "memory", "list", "--all")
    cases += _both("memory_list_n5", "memory", "list", "-n", "5")
    cases += _both("memory_list_fact", "memory", "list", "--kind", "fact")
    cases += _both(
        "memory_list_person_preference",
        *("memory", "list", "--kind", "person", "--kind", "preference"),
    )
    cases += _both(
        "memory_list_episode_reflection_all",
        *("memory", "list", "--kind", "episode", "--kind", "reflection", "--all"),
    )
    for i in MEMORIES:
        cases += [Case(f"memory_show_{i}__json", ("memory", "show", i, "--json"), "json")]
    for i in MEMORIES_SHOWN:
        cases += [Case(f"memory_show_{i}", ("memory", "show", i), "text")]
    for i in FORGOTTEN:
        cases += [
            Case(f"memory_show_{i}_forgotten", ("memory", "show", i), "error", 9),
            Case(f"memory_history_{i}_forgotten__json", ("memory", "history", i, "--json"), "json"),
        ]
    cases += _both("memory_history", "memory", "history")
    cases += [Case("memory_history_n5", ("memory", "history", "-n", "5"), "text")]
    for i in PINNED:
        cases += _both(f"memory_history_{i}", "memory", "history", i)
    cases += _both("memory_stats", "memory", "stats")
    for fmt in ("json", "dot", "mermaid"):
        form: Form = "json" if fmt == "json" else "text"
        cases += [
            Case(f"memory_graph_{fmt}", ("memory", "graph", "--format", fmt), form),
            Case(f"memory_graph_{fmt}_all", ("memory", "graph", "--format", fmt, "--all"), form),
        ]
    cases += _both("memory_search_live", "memory", "search", "where do I live", search=True)
    cases += _both("memory_search_ana", "memory", "search", "What does Ana do?", search=True)
    cases += [
        Case("memory_search_music__json", ("memory", "search", "music", "--json"), "search"),
        Case("memory_search_rui", ("memory", "search", "hiking with Rui"), "text"),
        Case(
            "memory_search_live_k3_all__json",
            ("memory", "search", "where do I live", "-k", "3", "--all", "--json"),
            "search",
        ),
        Case(
            "memory_search_sister_person__json",
            ("memory", "search", "my sister", "--kind", "person", "--json"),
            "search",
        ),
    ]
    # -- the settings in the data dir
    cases += _both("config_show", "config", "show")
    cases += [Case("config_path", ("config", "path"), "text")]
    return cases


CASES = {c.name: c for c in _cases()}
assert len(CASES) == len(_cases()), "two cases share a golden file"

# `hearth export KIND ... --out $OUT/<name>.jsonl --json`, each on its own copy: an export
# writes its ledger row, and each must see only the fixture's own (export 1, of sft).
EXPORTS: dict[str, tuple[str, ...]] = {
    "sft": ("sft",),
    "sft_frozen": ("sft", "--context-frozen"),
    "sft_only_new": ("sft", "--only-new"),
    "dpo": ("dpo",),
    "kto": ("kto",),
    "openai": ("openai",),
    "sharegpt": ("sharegpt",),
}


@pytest.fixture
def home(hearth_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the fixture: nothing a command writes reaches the repository."""
    shutil.copytree(FIXTURE, hearth_home)
    for name in RICH_ENV:
        monkeypatch.delenv(name, raising=False)
    return hearth_home.resolve()


def _env(home: Path) -> dict[str, str]:
    return {"HEARTH_HOME": str(home), "TZ": "UTC", "COLUMNS": "200", "PYTHONIOENCODING": "utf-8"}


def hearth(home: Path, *args: str) -> Done:
    """`hearth ARGS` on this copy, in this process."""
    return run_main(*args, env=_env(home))


def hearth_subprocess(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`hearth ARGS` on this copy, as the installed command."""
    return subprocess.run(
        [str(HEARTH), *args],
        capture_output=True,
        encoding="utf-8",
        env={**os.environ, **_env(home)},
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def _search_json(text: str) -> str:
    hits = json.loads(text)
    for hit in hits:
        hit["recency"] = "<now>"
    return json.dumps(_round(hits), ensure_ascii=False) + "\n"


def check(actual: str, golden: Path, *, as_json: bool = False) -> None:
    """Compare with the golden file (or write it, with UPDATE_GOLDENS=1)."""
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}; run with UPDATE_GOLDENS=1"
    expected = golden.read_text(encoding="utf-8")
    if as_json:
        # First as data, for a readable diff; then as text (key order, spacing).
        assert json.loads(actual) == json.loads(expected)
    assert actual == expected


def _check_case(case: Case, done: Done | subprocess.CompletedProcess[str], home: Path) -> None:
    assert done.returncode == case.exit_code, done.stdout + done.stderr
    if case.form == "error":
        actual = f"exit {done.returncode}\n{done.stderr.replace(str(home), '$HEARTH_HOME')}"
    else:
        actual = done.stdout.replace(str(home), "$HEARTH_HOME")
        if case.form == "search":
            actual = _search_json(actual)
    check(actual, case.golden, as_json=case.form in ("json", "search"))


@pytest.mark.parametrize("name", list(CASES))
def test_reading_command_prints_what_it_always_printed(name: str, home: Path) -> None:
    case = CASES[name]
    _check_case(case, hearth(home, *case.args), home)


# Tables, JSON and an error line, as the installed command prints them (a search would add
# seconds of torch for nothing: the embedder runs the same in this process).
@pytest.mark.parametrize(
    "name", ["logs_list", "logs_show_13__json", "logs_show_missing", "memory_list"]
)
def test_a_subprocess_prints_the_same(name: str, home: Path) -> None:
    if UPDATE:
        pytest.skip("goldens are written in process")
    case = CASES[name]
    _check_case(case, hearth_subprocess(home, *case.args), home)


@pytest.mark.parametrize("name", list(EXPORTS))
def test_export_writes_what_it_always_wrote(name: str, home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    target = out / f"{name}.jsonl"
    # Every row, as before sensitive kinds were left out by default (test_export_as_text
    # shows the default).
    done = hearth(
        home, "export", *EXPORTS[name], "--include-sensitive", "--out", str(target), "--json"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    check(done.stdout.replace(str(out), "$OUT"), GOLDEN / f"export_{name}.json", as_json=True)

    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    golden_rows = GOLDEN / f"export_{name}.jsonl"
    if UPDATE:
        shutil.copyfile(target, golden_rows)
    assert rows == [json.loads(line) for line in golden_rows.read_text("utf-8").splitlines()]

    card = (out / f"{name}.jsonl.card.md").read_text(encoding="utf-8")
    card = re.sub(r"^\| written \| .* \|$", "| written | <now> |", card, count=1, flags=re.M)
    check(card.replace(str(out), "$OUT"), GOLDEN / f"export_{name}.card.md")


def test_export_as_text(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    # The installed command, once: an export writes files and a ledger row, not only output.
    done = hearth_subprocess(home, "export", "kto", "--out", str(out / "kto.jsonl"))
    assert done.returncode == 0, done.stdout + done.stderr
    check(done.stdout.replace(str(out), "$OUT"), GOLDEN / "export_kto.txt")


def _golden_names() -> Iterator[str]:
    for case in CASES.values():
        yield case.golden.name
    for name in EXPORTS:
        yield from (f"export_{name}.json", f"export_{name}.jsonl", f"export_{name}.card.md")
    yield "export_kto.txt"


def test_every_golden_file_belongs_to_a_case() -> None:
    stray = sorted({p.name for p in GOLDEN.iterdir()} - set(_golden_names()))
    if UPDATE:
        for name in stray:
            (GOLDEN / name).unlink()
        return
    assert not stray, f"golden files no case checks (delete them): {stray}"


def test_the_fixture_needs_no_write_ahead_log() -> None:
    leftovers = [p.name for p in FIXTURE.rglob("*") if p.name.endswith(("-wal", "-shm"))]
    assert not leftovers
    assert {p.name for p in FIXTURE.iterdir()} == {
        "journal.sqlite3",
        "memory.sqlite3",
        "config.toml",
        "chroma",
    }
