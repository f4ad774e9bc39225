"""Where a reply ends: stopped when it starts repeating itself (small models loop, paragraph
after paragraph), and, cut at its length limit, at its last full sentence."""

from __future__ import annotations

import re

LOOP_WORDS = 12
"""A run of this many words said twice in one reply is a loop: prose almost never repeats
twelve words verbatim, and a loop repeats whole sentences."""

_WORD = re.compile(r"\S+")


class LoopGuard:
    """Fed a reply piece by piece; says when the words just completed were already said.

    Words are compared case-folded, split on whitespace; a word counts once the whitespace after
    it has arrived, so a word split across pieces is never half-compared."""

    def __init__(self, words: int = LOOP_WORDS) -> None:
        self.words = words
        self.repeat_from: int | None = None
        """Where, in the reply's text, the repeated run began (once it looped)."""
        self._text = ""
        self._scanned = 0
        self._words: list[str] = []
        self._starts: list[int] = []
        self._seen: set[tuple[str, ...]] = set()

    def feed(self, piece: str) -> bool:
        """Add a piece; True once a run of `words` words has come a second time."""
        self._text += piece
        for match in _WORD.finditer(self._text, self._scanned):
            if match.end() == len(self._text):
                break  # still being written
            self._scanned = match.end()
            self._words.append(match.group().casefold())
            self._starts.append(match.start())
            if len(self._words) < self.words:
                continue
            gram = tuple(self._words[-self.words :])
            if gram in self._seen and self.repeat_from is None:
                self.repeat_from = self._starts[-self.words]
            self._seen.add(gram)
        return self.repeat_from is not None


_SENTENCE_END = re.compile(r"""[.!?…]["')\]*]*(?=\s)|\n\s*\n""")


def end_at_sentence(text: str) -> str:
    """A reply cut at max_tokens, ended at its last full sentence (or paragraph), so it does not
    stop mid-word. Unchanged if that would drop more than half of it, or inside a code block
    (a fence left open: code has no sentences)."""
    if text.count("```") % 2:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text + " ")]
    if not ends or ends[-1] >= len(text.rstrip()):
        return text
    kept = text[: ends[-1]].rstrip()
    return kept if len(kept) >= len(text) / 2 else text
