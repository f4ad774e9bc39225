"""Import-time memories: what Hearth keeps of imported history beyond the write path's facts."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from agent.importing.records import Conversation, DatasetSession, Turn
from memory.graph import people
from memory.graph.nodes import Memory, NewMemory
from memory.secrets import without_secrets
from memory.text import sentences as split_sentences

if TYPE_CHECKING:
    from memory.graph.store import MemoryStore

# How it works. The write path keeps first-person facts; much of what people tell each other is
# not phrased that way ("the weeknd!", a long story in the third person, the answer to a
# question). So every turn is also remembered as itself, dated and signed, plus memories that
# make it findable: each sentence of a long turn (one embedding cannot hold five topics), each
# exchange of two consecutive turns, and each question with its answer (the answer holds what
# was learned; the question holds the words someone will later ask with). Every memory cites
# exactly the turns its text comes from, so none costs more places in a recall than it holds.
# Measured choices (docs/benchmarks.md): windows of three turns, context quoted inside a turn's
# memory and similarity links between turns all recalled less than this set.

# A sentence shorter than this says too little to be remembered on its own.
MIN_SENTENCE_WORDS = 4

# Names one speaker calls the other by ("Hi Kate!", "thanks, Kate"): a speaker's label in an
# export is often not the name people use in the conversation.
_GREETING = (
    r"(?i:hi|hey|hello|hiya|heya|morning|good\s+(?:morning|afternoon|evening|night)|thanks"
    r"|thank\s+you|bye|goodbye|see\s+you|welcome|dear|sorry|congrats|congratulations)"
)
_ADDRESSED = (
    re.compile(r"^\W*" + _GREETING + r"[\s,!.]+([A-Z][a-z]+)\b"),
    re.compile(r",\s*([A-Z][a-z]+)\s*[!?.]*\s*$"),
)
# A name heard this often, and written in lower case at most a tenth as often (so "How" and
# "Hope" are not names), is what the other speaker is called.
MIN_ALIAS_COUNT = 2
MAX_ALIASES = 2


@dataclass
class Built:
    """Memories to add for one part of a conversation."""

    items: list[NewMemory] = field(default_factory=list)
    names: dict[str, list[str]] = field(default_factory=dict)
    """Subject -> what that person is also called, for searches that name them."""


def aliases(conversation: Conversation) -> dict[str, list[str]]:
    """For a two-person conversation, the names each speaker is called by the other (besides
    their label); empty for anything else."""
    speakers = conversation.speakers or sorted({t.speaker for _s, _i, t in conversation.turns()})
    if len(speakers) != 2:
        return {}
    other = {speakers[0]: speakers[1], speakers[1]: speakers[0]}
    called: dict[str, Counter[str]] = {s: Counter() for s in speakers}
    words: Counter[str] = Counter()
    for _s, _i, turn in conversation.turns():
        words.update(re.findall(r"[A-Za-z]+", turn.text))
        if turn.speaker not in other:
            continue
        for pattern in _ADDRESSED:
            found = pattern.search(turn.text)
            if found:
                called[other[turn.speaker]][found.group(1)] += 1
    labels = {w.casefold() for s in speakers for w in s.split()}
    return {
        speaker: [
            name
            for name, count in names.most_common()
            if count >= MIN_ALIAS_COUNT
            and name.casefold() not in labels
            and words[name.lower()] * 10 <= words[name]
        ][:MAX_ALIASES]
        for speaker, names in called.items()
    }


def _long_date(moment: datetime) -> str:
    return moment.strftime("%A %d %B %Y")


def sentences(text: str) -> list[str]:
    """The sentences of a turn worth a memory of their own (none when it has only one)."""
    kept = [p for p in split_sentences(text) if len(p.split()) >= MIN_SENTENCE_WORDS]
    return kept if len(kept) >= 2 else []


def is_question(text: str) -> bool:
    return text.rstrip().endswith("?")


class MemoryBuilder:
    """Builds one conversation's import-time memories as its sessions arrive."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.aliases = aliases(conversation)
        self.memories: list[Memory] = []
        self._first: dict[str, tuple[int, datetime]] = {}
        self._spoken: Counter[str] = Counter()

    @property
    def count(self) -> int:
        return len(self.memories)

    def _signed(self, speaker: str) -> str:
        names = self.aliases.get(speaker)
        return f"{speaker} ({', '.join(names)})" if names else speaker

    def _memory(
        self, text: str, kind: str, subject: str, provenance: list[int], when: datetime
    ) -> NewMemory:
        return NewMemory.model_validate(
            {
                # A turn's words are kept as said, but a secret in them is never a memory.
                "text": without_secrets(text),
                "kind": kind,
                "subject": subject,
                "provenance": provenance,
                "valid_from": when,
            }
        )

    def session(self, session: DatasetSession, ids: Mapping[str, int], when: datetime) -> Built:
        """A memory for each turn, sentence of a long turn, exchange, and answered question;
        `ids` maps turn ids to journal message ids, `when` is the session's time."""
        built = Built()
        turns = session.turns
        for turn in turns:
            self._first.setdefault(turn.speaker, (ids[turn.id], when))
            self._spoken[turn.speaker] += 1
            # The same text as a plain "[date] speaker: text" index of the turns, on purpose:
            # dated and signed, and embedded once for both.
            signed = f"[{session.date.isoformat()}] {self._signed(turn.speaker)}: {turn.text}"
            built.items.append(self._memory(signed, "event", turn.speaker, [ids[turn.id]], when))
            for part in sentences(turn.text):
                text = f"{turn.speaker} ({_long_date(session.date)}): {part}"
                built.items.append(self._memory(text, "fact", turn.speaker, [ids[turn.id]], when))
        for first, second in itertools.pairwise(turns):
            built.items.append(self._exchange(session, first, second, ids, when))
            if is_question(first.text) and second.speaker != first.speaker:
                built.items.append(self._answer(session, first, second, ids, when))
        return built

    def _exchange(
        self,
        session: DatasetSession,
        first: Turn,
        second: Turn,
        ids: Mapping[str, int],
        when: datetime,
    ) -> NewMemory:
        text = f"{_long_date(session.date)}: {first.speaker}: {first.text} / "
        text += f"{second.speaker}: {second.text}"
        provenance = [ids[first.id], ids[second.id]]
        return self._memory(text, "episode", self.conversation.id, provenance, when)

    def _answer(
        self,
        session: DatasetSession,
        question: Turn,
        answer: Turn,
        ids: Mapping[str, int],
        when: datetime,
    ) -> NewMemory:
        text = f"{_long_date(session.date)}: {question.speaker} asked: {question.text} "
        text += f"{answer.speaker}: {answer.text}"
        # The answer first: it holds what was learned; the question only how it was asked.
        provenance = [ids[answer.id], ids[question.id]]
        return self._memory(text, "event", answer.speaker, provenance, when)

    def finish(self) -> Built:
        """A person memory for each speaker: who they are called and when they spoke."""
        built = Built()
        others = ", ".join(self._first)
        for speaker, (first_id, when) in self._first.items():
            called = self.aliases.get(speaker)
            also = f", also called {' and '.join(called)}" if called else ""
            text = (
                f"{speaker}{also}: one of {others} in the conversation {self.conversation.id}; "
                f"first spoke on {_long_date(when)}, {self._spoken[speaker]} messages."
            )
            built.items.append(self._memory(text, "person", speaker, [first_id], when))
            if called:
                built.names[speaker] = list(called)
        user = self._user()
        if user is not None:
            built.names["user"] = [*people.name_tokens(user), *self.aliases.get(user, [])]
        return built

    def _user(self) -> str | None:
        """The speaker who is the user: the write path keeps their facts under "user"."""
        wanted = (self.conversation.user or "").casefold()
        return next((s for s in self._first if s.casefold() == wanted), None)

    def add(self, store: MemoryStore, built: Built) -> None:
        if built.items:
            self.memories.extend(store.add_many(built.items, actor="import"))
        for subject, names in built.names.items():
            store.add_names(subject, names)
