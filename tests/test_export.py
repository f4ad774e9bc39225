"""`hearth export`: each format matches its golden file, loads with `datasets`, and is ledgered."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from memory.datadir import ensure_data_dir
from memory.errors import ExportError
from memory.export.candidates import SCORE_COLUMNS
from memory.export.writer import ExportOptions, ExportResult, run_export
from memory.journal.journal import Journal
from memory.settings import resolve_paths
from tests.conftest import RunHearth
from tests.scripted_journal import CARD, EMAIL, PHONE, Script, write_journal

GOLDEN = Path(__file__).parent / "golden"
# Set UPDATE_GOLDENS=1 to rewrite the golden files after an intended change; review the diff.
UPDATE = os.environ.get("UPDATE_GOLDENS") == "1"

CASES: dict[str, dict[str, Any]] = {
    "sft": {"kind": "sft"},
    "sft-frozen": {"kind": "sft", "context_frozen": True},
    "sft-frozen-strip": {"kind": "sft", "context_frozen": True, "system_prompt": "strip"},
    "dpo": {"kind": "dpo"},
    "kto": {"kind": "kto"},
    "openai": {"kind": "openai"},
    "openai-frozen": {"kind": "openai", "context_frozen": True},
    "sharegpt": {"kind": "sharegpt"},
}
KEYS = {
    "sft": {"messages"},
    "sft-frozen": {"prompt", "completion"},
    "dpo": {"prompt", "chosen", "rejected"},
    "kto": {"prompt", "completion", "label"},
    "openai": {"messages"},
    "sharegpt": {"conversations"},
}


@pytest.fixture
def script(hearth_home: Path) -> Script:
    paths = resolve_paths()
    ensure_data_dir(paths.data_dir)
    return write_journal(paths.journal)


@pytest.fixture
def journal(script: Script) -> Iterator[Journal]:
    opened = Journal(resolve_paths().journal)
    yield opened
    opened.close()


def export(journal: Journal, out: Path, **options: Any) -> ExportResult:
    return run_export(journal, ExportOptions(out=out, command="hearth export (test)", **options))


def rows_of(result: ExportResult) -> list[dict[str, Any]]:
    assert result.path is not None
    return [json.loads(line) for line in result.path.read_text().splitlines()]


def load_dataset(path: Path, cache: Path) -> Any:
    import datasets  # type: ignore[import-untyped]

    loader = "parquet" if path.suffix == ".parquet" else "json"
    return datasets.load_dataset(loader, data_files=str(path), split="train", cache_dir=str(cache))


# -- the formats ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_format_matches_its_golden_file(name: str, journal: Journal, tmp_path: Path) -> None:
    result = export(journal, tmp_path / f"{name}.jsonl", **CASES[name])
    assert result.path is not None
    text = result.path.read_text()
    golden = GOLDEN / f"{name}.jsonl"
    if UPDATE:
        golden.write_text(text)
    assert text == golden.read_text()


@pytest.mark.parametrize("file_format", ["jsonl", "parquet"])
@pytest.mark.parametrize("name", sorted(KEYS))
def test_every_export_loads_with_datasets_with_the_expected_keys(
    name: str, file_format: str, journal: Journal, tmp_path: Path
) -> None:
    options = CASES[name]
    result = export(journal, tmp_path / f"{name}.{file_format}", file_format=file_format, **options)
    assert result.path is not None
    dataset = load_dataset(result.path, tmp_path / "hf-cache")
    assert len(dataset) == result.rows > 0
    for row in dataset:
        # The openai kind is uploaded as it is: no keys but its own.
        scored = set() if name.startswith("openai") else set(SCORE_COLUMNS)
        assert set(row) == KEYS[name] | scored
        for key, value in row.items():
            if key in SCORE_COLUMNS:
                assert value is None  # the scripted journal has no scores
                continue
            if key == "label":
                assert isinstance(value, bool)
                continue
            assert isinstance(value, list) and value
            for message in value:
                if name == "sharegpt":
                    assert message["from"] in {"system", "human", "gpt"}
                    assert isinstance(message["value"], str)
                    continue
                assert message["role"] in {"system", "user", "assistant"}
                assert isinstance(message["content"], str)
                if name == "openai" and message["role"] == "assistant":
                    assert message["weight"] in (0, 1)


def test_sft_trains_the_kept_replies_with_edits_in_place(journal: Journal, tmp_path: Path) -> None:
    rows = rows_of(export(journal, tmp_path / "sft.jsonl", kind="sft"))
    replies = [m["content"] for r in rows for m in r["messages"] if m["role"] == "assistant"]
    assert "Hello Sam! I'll remember your name." in replies  # the edit, where the original was
    assert "How about Whiskers?" in replies  # chosen over its regeneration
    assert "Maybe Miso, after the soup." not in replies
    assert "I will remember your card number forever." not in replies  # edited away
    assert "6." in replies and "4." not in replies  # the user's edit branched; the old branch went
    assert all(r["messages"][-1]["role"] == "assistant" for r in rows)


def test_context_frozen_sft_rows_have_the_exact_prompt_and_one_completion(
    journal: Journal, script: Script, tmp_path: Path
) -> None:
    rows = rows_of(export(journal, tmp_path / "f.jsonl", kind="sft", context_frozen=True))
    assert rows and all(set(r) == {"prompt", "completion", *SCORE_COLUMNS} for r in rows)
    assert all(len(r["completion"]) == 1 for r in rows)
    reply = journal.message(script.thumbs_up)
    assert reply.prompt is not None
    seen = [m.model_dump() for m in reply.prompt]
    unscored = dict.fromkeys(SCORE_COLUMNS)  # the scripted journal has no scores
    completion = [{"role": "assistant", "content": reply.text}]
    assert {"prompt": seen, "completion": completion, **unscored} in rows


def test_strip_removes_the_system_prompt_in_context_frozen_mode(
    journal: Journal, tmp_path: Path
) -> None:
    for kind in ["sft", "openai", "dpo", "kto"]:
        out = tmp_path / f"{kind}.jsonl"
        export(journal, out, kind=kind, context_frozen=True, system_prompt="strip")
        assert '"role": "system"' not in out.read_text()
        assert "You are Hearth" not in out.read_text()


def test_a_regenerate_and_choose_and_an_edit_each_make_a_dpo_pair(
    journal: Journal, tmp_path: Path
) -> None:
    result = export(journal, tmp_path / "dpo.jsonl", kind="dpo")
    pairs = {(r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in rows_of(result)}
    assert ("How about Whiskers?", "Maybe Miso, after the soup.") in pairs
    assert (
        "I won't keep card numbers; please keep them private.",
        "I will remember your card number forever.",
    ) in pairs
    assert ("Hello Sam! I'll remember your name.", "Hello Sam! Nice to meet you.") in pairs
    assert result.signals == {"sibling": 1, "edit": 2}


def test_kto_labels_follow_the_thumbs(journal: Journal, tmp_path: Path) -> None:
    rows = rows_of(export(journal, tmp_path / "kto.jsonl", kind="kto"))
    labels = {r["completion"][0]["content"]: r["label"] for r in rows}
    assert labels == {
        "Sorry! Then Shadow, or Pepper.": True,
        "I will remember your card number forever.": False,
    }
    positives = rows_of(export(journal, tmp_path / "up.jsonl", kind="kto", min_rating=1))
    assert [r["label"] for r in positives] == [True]


def test_openai_weights_only_the_selected_replies(journal: Journal, tmp_path: Path) -> None:
    result = export(journal, tmp_path / "o.jsonl", kind="openai", context_frozen=True)
    for row in rows_of(result):
        weights = [m["weight"] for m in row["messages"] if m["role"] == "assistant"]
        assert weights[-1] == 1 and set(weights[:-1]) <= {0}
        assert all("weight" not in m for m in row["messages"] if m["role"] != "assistant")


def test_redaction_removes_the_seeded_email_phone_and_card(
    journal: Journal, tmp_path: Path
) -> None:
    for kind in ["sft", "dpo", "kto", "sharegpt"]:
        plain = export(journal, tmp_path / f"{kind}-plain.jsonl", kind=kind).path
        assert plain is not None and EMAIL in plain.read_text()
        result = export(journal, tmp_path / f"{kind}.jsonl", kind=kind, redact=True)
        assert result.path is not None
        text = result.path.read_text()
        for secret in (EMAIL, PHONE, CARD, "4111"):
            assert secret not in text
        assert "<EMAIL_ADDRESS>" in text
        assert result.redacted and result.redacted["EMAIL_ADDRESS"] >= 1
        assert result.card is not None and "redaction | on" in result.card.read_text()
    sft = (tmp_path / "sft.jsonl").read_text()
    assert "<PHONE_NUMBER>" in sft and "<CREDIT_CARD>" in sft


def test_redaction_never_opens_a_network_connection(tmp_path: Path) -> None:
    # Any socket use fails loudly: no spaCy model download, no public-suffix-list fetch.
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise AssertionError(f'network use: {a}')\n"
        "socket.socket.connect = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "socket.create_connection = refuse\n"
        "from memory.export.redaction import Redactor\n"
        "r = Redactor()\n"
        f"out = r.text('mail {EMAIL} or call {PHONE}, card {CARD}')\n"
        "assert out == 'mail <EMAIL_ADDRESS> or call <PHONE_NUMBER>, card <CREDIT_CARD>', out\n"
        "import sys\n"
        "assert not [m for m in sys.modules if m.startswith('en_core')]\n"
    )
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert not (tmp_path / "cache").exists()  # and nothing cached from a fetch


def test_synthetic_and_temporary_messages_stay_out_unless_asked(
    journal: Journal, tmp_path: Path
) -> None:
    export(journal, tmp_path / "a.jsonl", kind="sft")
    text = (tmp_path / "a.jsonl").read_text()
    assert "The sea is wide" not in text and "Then I will forget it." not in text
    export(journal, tmp_path / "b.jsonl", kind="sft", include_synthetic=True)
    text = (tmp_path / "b.jsonl").read_text()
    assert "The sea is wide" in text and "Then I will forget it." not in text


def test_dates_sessions_and_ratings_filter_the_replies(
    journal: Journal, script: Script, tmp_path: Path
) -> None:
    frozen = {"kind": "sft", "context_frozen": True}
    window = export(
        journal,
        tmp_path / "w.jsonl",
        since=datetime(2026, 1, 6, tzinfo=UTC),
        until=datetime(2026, 1, 7, 12, tzinfo=UTC),
        **frozen,
    )
    assert [r["completion"][0]["content"] for r in rows_of(window)] == [
        "How about Whiskers?",
        "Sorry! Then Shadow, or Pepper.",
    ]
    branch = journal.message(script.branch_reply).session_id
    only = export(journal, tmp_path / "s.jsonl", session_id=branch, **frozen)
    assert {r["completion"][0]["content"] for r in rows_of(only)} == {"4.", "6."}
    liked = export(journal, tmp_path / "l.jsonl", min_rating=1, **frozen)
    assert [r["completion"][0]["content"] for r in rows_of(liked)] == [
        "Sorry! Then Shadow, or Pepper."
    ]


# -- files, ledger and card ---------------------------------------------------------------


def test_only_new_exports_nothing_the_second_time(journal: Journal, tmp_path: Path) -> None:
    first = export(journal, tmp_path / "1.jsonl", kind="dpo", only_new=True)
    assert first.rows == 3
    second = export(journal, tmp_path / "2.jsonl", kind="dpo", only_new=True)
    assert second.rows == 0 and second.path is None
    assert not (tmp_path / "2.jsonl").exists() and not (tmp_path / "2.jsonl.card.md").exists()
    # Another kind has its own ledger of what it trained.
    assert export(journal, tmp_path / "3.jsonl", kind="kto", only_new=True).rows == 2


def test_the_ledger_knows_which_exports_hold_a_message(
    journal: Journal, script: Script, tmp_path: Path
) -> None:
    result = export(journal, tmp_path / "k.jsonl", kind="kto")
    assert result.export_id is not None and result.sha256 is not None
    found = journal.exports_containing([script.thumbs_down, 99999])
    assert [(e.id, e.message_ids) for e in found] == [(result.export_id, [script.thumbs_down])]
    assert found[0].path == str((tmp_path / "k.jsonl").resolve())
    assert found[0].sha256 == result.sha256
    # The user message a row shows as context counts too: forgetting it must find this file.
    assert journal.exports_containing([script.correction])
    assert script.thumbs_up in journal.exported_message_ids("kto")
    assert script.correction not in journal.exported_message_ids("kto")


def test_exports_and_cards_are_private_files(journal: Journal, tmp_path: Path) -> None:
    for file_format in ("jsonl", "parquet"):
        out = tmp_path / f"{file_format}.{file_format}"
        result = export(journal, out, kind="sft", file_format=file_format)
        assert result.path is not None and result.card is not None
        for path in (result.path, result.card):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_file_of_another_format_beside_it_has_its_own_card(
    journal: Journal, tmp_path: Path
) -> None:
    jsonl = export(journal, tmp_path / "sft.jsonl", kind="sft")
    parquet = export(journal, tmp_path / "sft.parquet", kind="sft", file_format="parquet")
    assert jsonl.card == tmp_path / "sft.jsonl.card.md"
    assert parquet.card == tmp_path / "sft.parquet.card.md"
    assert "data_files: sft.jsonl" in jsonl.card.read_text()
    assert "data_files: sft.parquet" in parquet.card.read_text()


def test_the_card_counts_what_the_file_holds(journal: Journal, tmp_path: Path) -> None:
    result = export(journal, tmp_path / "dpo.jsonl", kind="dpo", redact=True)
    assert result.card == tmp_path / "dpo.jsonl.card.md"
    card = result.card.read_text()
    assert "data_files: dpo.jsonl" in card
    assert "| rows | 3 |" in card
    assert "| edit | 2 |" in card and "| sibling | 1 |" in card
    assert "| models | scripted-135M |" in card
    assert "2026-01-05 to" in card
    assert "redaction | on" in card
    assert f"| sha256 | `{result.sha256}` |" in card
    assert "hearth export (test)" in card


def test_an_existing_file_is_never_overwritten(journal: Journal, tmp_path: Path) -> None:
    target = tmp_path / "taken.jsonl"
    target.write_text("mine\n")
    with pytest.raises(ExportError):
        export(journal, target, kind="sft")
    assert target.read_text() == "mine\n"


# -- the command line ---------------------------------------------------------------------


def test_cli_export_writes_file_and_card_in_the_data_dir(
    script: Script, run_hearth: RunHearth, hearth_home: Path
) -> None:
    done = run_hearth("export", "sft", "--redact")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote 2 sft rows to ")
    data, card = sorted((hearth_home / "exports").iterdir())
    assert data.suffix == ".jsonl" and card.name == f"{data.name}.card.md"
    assert stat.S_IMODE((hearth_home / "exports").stat().st_mode) == 0o700
    assert EMAIL not in data.read_text()
    assert "hearth export sft --redact" in card.read_text()


def test_cli_empty_export_says_so_and_writes_nothing(
    run_hearth: RunHearth, hearth_home: Path
) -> None:
    done = run_hearth("export", "kto", "--format", "parquet")
    assert done.returncode == 0, done.stderr
    assert "nothing to export" in done.stdout
    exports = hearth_home / "exports"
    assert not exports.exists() or not any(exports.iterdir())


def test_cli_only_new_twice(script: Script, run_hearth: RunHearth, tmp_path: Path) -> None:
    first = run_hearth("export", "dpo", "--only-new", "--json", "--out", str(tmp_path / "a.jsonl"))
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["rows"] == 3
    second = run_hearth("export", "dpo", "--only-new", "--out", str(tmp_path / "b.jsonl"))
    assert second.returncode == 0 and "nothing to export" in second.stdout
    assert not (tmp_path / "b.jsonl").exists()


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["export", "sft", "--since", "last tuesday"], 2),
        (["export", "sft", "--min-rating", "2"], 2),
        (["export", "yaml"], 2),
    ],
)
def test_cli_export_refuses_bad_options(
    argv: list[str], code: int, script: Script, run_hearth: RunHearth
) -> None:
    done = run_hearth(*argv)
    assert done.returncode == code
    assert "Traceback" not in done.stderr


def test_cli_export_refuses_to_overwrite(
    script: Script, run_hearth: RunHearth, tmp_path: Path
) -> None:
    (tmp_path / "x.jsonl").write_text("")
    done = run_hearth("export", "sft", "--out", str(tmp_path / "x.jsonl"))
    assert done.returncode == ExportError.exit_code
    assert done.stderr.startswith("hearth: ") and "already exists" in done.stderr
