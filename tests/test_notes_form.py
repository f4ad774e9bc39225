"""How the notes with a message read: dated relative to the message, in the order given (the
turn puts the most relevant last), and still found by forgetting in that form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from agent.context import ECHO, ago, memory_block
from agent.recall import shown_line_pattern
from memory.graph.nodes import Memory

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("days", "said"),
    [
        (0, "today"), (1, "yesterday"), (3, "3 days ago"), (13, "13 days ago"),
        (20, "2 weeks ago"), (90, "3 months ago"), (800, "2 years ago"),
        (-1, "tomorrow"), (-5, "in 5 days"),
    ],
)  # fmt: skip
def test_a_day_is_said_as_a_person_says_it(days: int, said: str) -> None:
    assert ago(NOW - timedelta(days=days), NOW) == said


def test_relative_days_are_counted_on_the_persons_clock() -> None:
    said = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)  # 23:00 on the 6th two hours east
    asked = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)  # 01:00 on the 7th there
    east = timezone(timedelta(hours=2))
    assert ago(said, asked) == "today"
    assert ago(said, asked.astimezone(east)) == "yesterday"


def _memory(text: str, days: int) -> Memory:
    return Memory(id=text[:8], kind="fact", text=text, learned_at=NOW - timedelta(days=days))


def test_the_notes_are_dated_from_the_message_in_the_order_given() -> None:
    notes = [_memory("Ingrid drives an old red Saab", 3), _memory("The person's name is Ingrid", 0)]
    block = memory_block(notes, "Ingrid", now=NOW)
    lines = block.splitlines()[1:-1]
    assert lines == [
        '- [3 days ago] about Ingrid: "Ingrid drives an old red Saab"',
        '- [today] about Ingrid: "The person\'s name is Ingrid"',
    ]
    # Without a time they keep their date (the core block in the system prompt: it must not
    # change from day to day).
    assert "[2026-12-04]" in memory_block(notes, "Ingrid")
    # A reply printing such a line back is an echo; forgetting finds the line in the prompt.
    assert all(ECHO.search(line) for line in lines)
    for memory, line in zip(notes, lines, strict=True):
        pattern = re.compile(shown_line_pattern(memory, [memory.text]))
        assert pattern.fullmatch(line), line
        assert pattern.fullmatch(line.replace("Ingrid:", "Marta:"))  # under another name too
