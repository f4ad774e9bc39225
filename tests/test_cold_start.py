"""A cold `hearth say` does only what its turn needs: rule patterns compiled when first reached."""

from __future__ import annotations

import subprocess
import sys

from agent.learn.extract import vocabulary

_COMPILED_AT_IMPORT = """
from agent.learn.extract import extract
from agent.learn.extract.vocabulary import _MADE
print(len(_MADE), sum(p._compiled is not None for p in _MADE))
"""


def test_importing_the_rules_compiles_none_of_their_patterns() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _COMPILED_AT_IMPORT], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    made, compiled = map(int, done.stdout.split())
    assert made > 150  # the rules' patterns, all lazy
    assert compiled == 0


def test_every_rule_pattern_compiles() -> None:
    # Lazily compiled, a broken pattern would fail at the first message reaching it: here instead.
    import agent.learn.extract  # noqa: F401 (makes every rule's patterns)

    assert len(vocabulary._MADE) > 150
    for pattern in vocabulary._MADE:
        assert pattern.compiled.pattern
