"""Where a reply ends: stopped when it starts repeating itself (small models loop, paragraph
after paragraph), and, cut at its length limit, at its last full sentence."""

from __future__ import annotations

import re

from memory.settings import SamplingSettings

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


ECHO_WORDS = 6
"""A run of this many words of the system prompt's own instructions in a reply is an echo:
"You are Hearth, a warm and attentive companion" is seven."""

_TOKEN = re.compile(r"[\w']+")


class EchoGuard:
    """Fed a reply piece by piece; says when it starts to print its prompt back: a mark of the
    notes (`shows`: their markers, a note line's header) or a run of ECHO_WORDS words of the
    instructions (the persona). A note's words alone are not an echo: "your dog is called
    Lupo" is the answer the notes are there for."""

    def __init__(self, shows: re.Pattern[str], instructions: str, words: int = ECHO_WORDS) -> None:
        self.shows = shows
        self.words = words
        self.echo_from: int | None = None
        """Where, in the reply's text, the echo began."""
        self._text = ""
        self._scanned = 0
        self._words: list[str] = []
        self._starts: list[int] = []
        said = [w.casefold() for w in _TOKEN.findall(instructions)]
        self._grams = {tuple(said[i : i + words]) for i in range(len(said) - words + 1)}
        # Every shorter start of a run: words that may yet become one are held back, so the
        # start of a recited persona never reaches the screen.
        self._starts_of = {g[:n] for g in self._grams for n in range(1, words)}

    def feed(self, piece: str) -> bool:
        """Add a piece; True once the reply has printed part of its prompt."""
        if self.echo_from is not None:
            return True
        before = len(self._text)
        self._text += piece
        # A mark is short: looked for where it may end in the new piece, not in the whole reply.
        found = self.shows.search(self._text, max(0, before - 80))
        if found is not None:
            self.echo_from = _line_start(self._text, found.start())
            return True
        for match in _TOKEN.finditer(self._text, self._scanned):
            if match.end() == len(self._text):
                break  # still being written
            self._scanned = match.end()
            self._words.append(match.group().casefold())
            self._starts.append(match.start())
            if len(self._words) >= self.words and tuple(self._words[-self.words :]) in self._grams:
                self.echo_from = self._starts[-self.words]
                return True
        return False

    def shown_upto(self) -> int:
        """How much of the reply may be shown as it streams: all but a tail that may still turn
        out to be an echo (from a recent "[", which every mark of the notes begins with, or
        from words that begin a run of the instructions, the word still being written too)."""
        if self.echo_from is not None:
            return self.echo_from
        if not any(c.isalnum() for c in self._text[:HOLD_CHARS]):
            return 0  # only a mark so far ("- ", "* "): a note's line may begin so
        upto = len(self._text)
        partial = _TOKEN.search(self._text, self._scanned)
        if partial is not None and partial.end() == len(self._text):
            upto = partial.start()
        for n in range(min(self.words - 1, len(self._words)), 0, -1):
            if tuple(self._words[-n:]) in self._starts_of:
                upto = min(upto, self._starts[-n])
                break
        start = self._text.rfind("[", max(0, len(self._text) - HOLD_CHARS))
        return upto if start == -1 else min(upto, _line_start(self._text, start))


HOLD_CHARS = 56
"""Text after a "[" held back this long at most while it may become a mark of the notes (the
longest, a note's "[13 days ago] about Name:" with a name of up to thirty characters, is
shorter)."""


def _line_start(text: str, at: int) -> int:
    """Where an echoed note begins: back over the list dash and spaces that lead its line."""
    while at > 0 and text[at - 1] in " \t-*•":
        at -= 1
    return at


def echoes(text: str, shows: re.Pattern[str], instructions: str) -> bool:
    """The finished text prints part of its prompt (EchoGuard)."""
    return EchoGuard(shows, instructions).feed(text + " ")


NO_WORDS = "Sorry, I lost my thread there. Could you say that again?"
"""The reply when the model began by printing its prompt back twice: the person gets an
answer, never an empty bubble."""


def redraw(sampling: SamplingSettings) -> SamplingSettings:
    """The sampling for a second draw of a reply whose first began as an echo: another seed
    (a set one moved on by one, so a run stays repeatable) and at least the default
    temperature (a greedy draw would print the same echo again)."""
    floor = SamplingSettings.model_fields["temperature"].default
    seed = sampling.seed
    if seed is not None and seed >= 0:
        seed = (seed + 1) % 2**32
    return sampling.model_copy(
        update={"seed": seed, "temperature": max(sampling.temperature, floor)}
    )
