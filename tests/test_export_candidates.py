"""`hearth export --candidates` and the score columns: from `Score` rows written to a real
journal (no model: the figures are what `hearth score` would have recorded)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from memory.datadir import ensure_data_dir
from memory.errors import ExportError
from memory.export.candidates import CANDIDATE_DROP
from memory.export.writer import ExportOptions, ExportResult, run_export
from memory.journal.journal import Journal
from memory.journal.schemas import Score
from memory.settings import resolve_paths
from tests.conftest import RunHearth
from tests.scripted_journal import Chat, at

OLD_MODEL = "a" * 64
NEW_MODEL = "b" * 64
SCORES = ("score_full", "score_no_notes", "score_drop")


class Replies(BaseModel):
    leaned: int
    """Its notes carried it: a drop of 1.5 by the newest scoring (an older one said 0.25)."""
    steady: int
    """Barely moved without its notes: 0.25 by the newest scoring (an older one said 1.5)."""
    unscored: int
    noteless: int
    """Scored, but no notes were recalled for it: only `full`."""


def scores(reply: int, model: str, day: int, full: float, no_notes: float | None) -> list[Score]:
    found = [
        Score(
            message_id=reply,
            variant="full",
            mean_logprob=full,
            tokens=8,
            model_sha256=model,
            scored_at=at(day),
        )
    ]
    if no_notes is not None:
        found.append(found[0].model_copy(update={"variant": "no_notes", "mean_logprob": no_notes}))
    return found


@pytest.fixture
def replies(hearth_home: Path) -> Replies:
    paths = resolve_paths()
    ensure_data_dir(paths.data_dir)
    journal = Journal(paths.journal)
    try:
        chat = Chat(journal, journal.create_session("main").id)
        made = []
        for i, text in enumerate(["Your sister Ana", "The weather", "A poem", "Hello"]):
            user = chat.user(f"Tell me about {text}.", at(5 + i))
            made.append(chat.reply(user, f"About {text}: yes.", at(5 + i, 1)).id)
            journal.set_feedback(made[-1], 1)  # kto trains rated replies only
        leaned, steady, unscored, noteless = made
        # The newer model's figures are the ones that count, for better or worse.
        journal.add_scores(scores(leaned, OLD_MODEL, 10, -1.0, -1.25))
        journal.add_scores(scores(leaned, NEW_MODEL, 11, -1.0, -2.5))
        journal.add_scores(scores(steady, OLD_MODEL, 10, -1.0, -2.5))
        journal.add_scores(scores(steady, NEW_MODEL, 11, -1.0, -1.25))
        journal.add_scores(scores(noteless, NEW_MODEL, 11, -0.5, None))
    finally:
        journal.close()
    return Replies(leaned=leaned, steady=steady, unscored=unscored, noteless=noteless)


@pytest.fixture
def journal(replies: Replies) -> Iterator[Journal]:
    opened = Journal(resolve_paths().journal)
    yield opened
    opened.close()


def export(journal: Journal, out: Path, **options: Any) -> ExportResult:
    return run_export(journal, ExportOptions(out=out, command="hearth export (test)", **options))


def jsonl(result: ExportResult) -> list[dict[str, Any]]:
    assert result.path is not None
    return [json.loads(line) for line in result.path.read_text().splitlines()]


EXPECTED = {
    "About Your sister Ana: yes.": (-1.0, -2.5, 1.5),
    "About The weather: yes.": (-1.0, -1.25, 0.25),
    "About A poem: yes.": (None, None, None),
    "About Hello: yes.": (-0.5, None, None),
}


def test_the_rule_sits_between_the_two_drops() -> None:
    assert 0.25 < CANDIDATE_DROP <= 1.5


@pytest.mark.parametrize("kind", ["sft", "kto"])
def test_candidates_keep_only_the_reply_its_notes_carried(
    kind: str, journal: Journal, tmp_path: Path
) -> None:
    result = export(
        journal, tmp_path / f"{kind}.jsonl", kind=kind, context_frozen=True, candidates=True
    )
    rows = jsonl(result)
    assert [r["completion"][0]["content"] for r in rows] == ["About Your sister Ana: yes."]
    assert [r["score_drop"] for r in rows] == [1.5]
    assert result.candidates is not None
    assert result.candidates.model_dump() == {"replies": 4, "candidates": 1, "unscored": 1}


def test_openai_candidates_weight_only_the_candidate(journal: Journal, tmp_path: Path) -> None:
    rows = jsonl(export(journal, tmp_path / "o.jsonl", kind="openai", candidates=True))
    weighted = [m["content"] for r in rows for m in r["messages"] if m.get("weight") == 1]
    assert weighted == ["About Your sister Ana: yes."]


def test_whole_conversation_rows_refuse_candidates(journal: Journal, tmp_path: Path) -> None:
    # A `messages` row trains every reply in it, candidate or not.
    with pytest.raises(ExportError, match="--context-frozen"):
        export(journal, tmp_path / "s.jsonl", kind="sft", candidates=True)


def test_jsonl_rows_carry_the_latest_scores_and_nulls(journal: Journal, tmp_path: Path) -> None:
    rows = jsonl(export(journal, tmp_path / "f.jsonl", kind="sft", context_frozen=True))
    found = {r["completion"][0]["content"]: tuple(r[k] for k in SCORES) for r in rows}
    assert found == EXPECTED


def test_parquet_score_columns_are_nullable_floats(journal: Journal, tmp_path: Path) -> None:
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    result = export(
        journal, tmp_path / "f.parquet", kind="kto", context_frozen=True, file_format="parquet"
    )
    assert result.path is not None
    table = pq.read_table(result.path)
    for name in SCORES:
        assert table.schema.field(name).type == pa.float64()
        assert table.schema.field(name).nullable
    found = {r["completion"][0]["content"]: tuple(r[k] for k in SCORES) for r in table.to_pylist()}
    assert found == EXPECTED


def test_a_parquet_file_of_unscored_rows_still_types_the_columns(
    journal: Journal, replies: Replies, tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # Only the unscored reply: its columns hold nulls alone, which pyarrow would type `null`.
    result = export(
        journal,
        tmp_path / "u.parquet",
        kind="sft",
        context_frozen=True,
        file_format="parquet",
        since=at(7),
        until=at(8),
    )
    assert result.path is not None and result.rows == 1
    table = pq.read_table(result.path)
    assert [table.schema.field(n).type for n in SCORES] == [pa.float64()] * 3
    assert table.column("score_full").to_pylist() == [None]


def test_the_card_describes_the_columns_and_the_rule(journal: Journal, tmp_path: Path) -> None:
    result = export(journal, tmp_path / "c.jsonl", kind="kto", candidates=True)
    assert result.card is not None
    card = result.card.read_text()
    for name in SCORES:
        assert f"`{name}`" in card
    assert f"`score_drop` >= {CANDIDATE_DROP}" in card
    assert "| rows with scores | 1 of 1 |" in card
    assert "1 of 4 replies otherwise selected; 1 never scored" in card
    assert "only training candidates" in card


def test_cli_candidates_says_how_many_and_what_was_unscored(
    journal: Journal, run_hearth: RunHearth, tmp_path: Path
) -> None:
    done = run_hearth("export", "kto", "--candidates", "--out", str(tmp_path / "k.jsonl"))
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())  # the terminal wraps long lines
    assert "candidates: 1 of 4 replies, 1 rows kept" in said
    assert "1 replies never scored (run `hearth score`)" in said
    as_json = run_hearth(
        "export", "kto", "--candidates", "--json", "--out", str(tmp_path / "j.jsonl")
    )
    assert as_json.returncode == 0, as_json.stderr
    found = json.loads(as_json.stdout)
    assert found["rows"] == 1
    assert found["candidates"] == {"replies": 4, "candidates": 1, "unscored": 1}


def test_cli_refuses_candidates_on_whole_conversations(
    journal: Journal, run_hearth: RunHearth
) -> None:
    done = run_hearth("export", "sft", "--candidates")
    assert done.returncode == 2
    assert "--context-frozen" in done.stderr and "Traceback" not in done.stderr


def test_a_conversation_row_carries_its_most_leaning_reply(
    journal: Journal, tmp_path: Path
) -> None:
    # The four replies are one conversation: one `messages` row, as much a candidate as `leaned`.
    rows = jsonl(export(journal, tmp_path / "s.jsonl", kind="sft"))
    assert [tuple(r[k] for k in SCORES) for r in rows] == [(-1.0, -2.5, 1.5)]


def test_dpo_rows_carry_the_chosen_replys_scores(hearth_home: Path, tmp_path: Path) -> None:
    paths = resolve_paths()
    ensure_data_dir(paths.data_dir)
    journal = Journal(paths.journal)
    try:
        chat = Chat(journal, journal.create_session("pairs").id)
        first = chat.user("Who is Ana?", at(5))
        chosen = chat.reply(first, "Your sister, the one in Lisbon.", at(5, 1))
        chat.reply(first, "I don't know.", at(5, 2))
        journal.choose(chosen.id)
        second = chat.user("And the weather?", at(6))
        kept = chat.reply(second, "Sunny.", at(6, 1))
        rejected = chat.reply(second, "Rainy.", at(6, 2))
        journal.choose(kept.id)
        journal.add_scores(scores(chosen.id, NEW_MODEL, 10, -1.0, -2.5))
        journal.add_scores(scores(kept.id, NEW_MODEL, 10, -1.0, -1.25))
        # The rejected reply leaned hard, but a pair is a candidate for the reply it trains to.
        journal.add_scores(scores(rejected.id, NEW_MODEL, 10, -1.0, -3.0))
        every = jsonl(export(journal, tmp_path / "all.jsonl", kind="dpo"))
        found = {r["chosen"][0]["content"]: r["score_drop"] for r in every}
        assert found == {"Your sister, the one in Lisbon.": 1.5, "Sunny.": 0.25}
        only = jsonl(export(journal, tmp_path / "c.jsonl", kind="dpo", candidates=True))
        assert [r["chosen"][0]["content"] for r in only] == ["Your sister, the one in Lisbon."]
    finally:
        journal.close()


def test_the_cli_help_states_the_rule_it_applies() -> None:
    # The help text names the figure without importing the export code at CLI start-up.
    from typing import get_args, get_type_hints

    from tui.cli.training import export as export_command

    hint = get_type_hints(export_command, include_extras=True)["candidates"]
    option = get_args(hint)[1]
    assert f"at least {CANDIDATE_DROP} nats a token" in " ".join(option.help.split())
