"""One table of exit codes: the README's, checked both ways against every HearthError class."""

from __future__ import annotations

import re
from pathlib import Path

from memory.errors import EXIT_CODES, HearthError

README = Path(__file__).parents[1] / "README.md"

# Codes no HearthError class raises: success, the unexpected, usage, and signals.
FIXED = {
    0: "fine",
    1: "unexpected error",
    2: "usage",
    129: "SIGHUP",
    130: "ctrl+c",
    143: "SIGTERM",
}


def _readme_codes() -> list[int]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    return [int(m) for m in re.findall(r"^\| (\d+) \|", section, flags=re.MULTILINE)]


def test_every_error_class_is_in_the_table() -> None:
    leaves = {cls.__name__ for cls in HearthError.__subclasses__()}
    assert leaves <= set(EXIT_CODES)
    assert "HearthError" not in EXIT_CODES


def test_each_error_class_has_its_own_code() -> None:
    codes = list(EXIT_CODES.values())
    assert len(codes) == len(set(codes)), EXIT_CODES
    assert not set(codes) & set(FIXED), "an error class reuses a fixed code"


def test_the_readme_table_matches_the_code_both_ways() -> None:
    rows = _readme_codes()
    assert len(rows) == len(set(rows)), f"a code has two rows in the README: {rows}"
    expected = set(EXIT_CODES.values()) | set(FIXED)
    assert set(rows) - expected == set(), "README rows no error class raises"
    assert expected - set(rows) == set(), "codes the README does not document"
    assert rows == sorted(rows), "README rows out of order"
