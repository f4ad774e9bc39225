"""The model extractor: candidate memories written by the chat model under a JSON schema."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from agent.learn.extract import Candidate, resolve_when
from agent.learn.extract.pipeline import UNNAMED, plain, referent
from agent.learn.write_path import MAX_EXTRACT_CHARS
from memory.graph.flags import with_flags
from memory.graph.kinds import REGISTRY, TAUGHT_KINDS
from memory.journal.schemas import ChatMessage

if TYPE_CHECKING:
    from agent.runtime.backend import KVState, LlamaBackend

log = logging.getLogger(__name__)


if TYPE_CHECKING:
    from memory.graph.kinds import Kind

    ModelKind = Kind
else:
    # The kinds a message can teach (the registry's `taught`): the schema's enum holds only them.
    ModelKind = Literal[TAUGHT_KINDS]
Importance = Literal["low", "medium", "high"]
# "low" falls under the write path's MIN_IMPORTANCE (small talk), as the rules' chatter does.
IMPORTANCE = {"low": 0.4, "medium": 0.6, "high": 0.8}

# The schema's bounds are what keep a small model's loop finite: a string can only grow to its
# maxLength and the list to MAX_ITEMS, so a reply always closes within max_tokens (below).
MAX_ITEMS = 3
MAX_TEXT = 120
MAX_NAME = 24
MAX_QUOTE = 200
# Enough tokens for every item at its longest (a token is at least one character): the keys
# and punctuation, then the strings.
_ITEM_CHARS = 110 + MAX_TEXT + 3 * MAX_NAME


class ModelMemory(BaseModel):
    """One memory as the model writes it (the schema its output is held to)."""

    kind: ModelKind
    text: str = Field(max_length=MAX_TEXT)
    quote: str = Field(max_length=MAX_QUOTE)
    subject: str = Field(max_length=MAX_NAME)
    relation: str | None = Field(max_length=MAX_NAME)
    slot: str | None = Field(max_length=MAX_NAME)
    importance: Importance


class ModelMemories(BaseModel):
    """The model's whole reply: a list, empty when the message teaches nothing."""

    memories: list[ModelMemory] = Field(max_length=MAX_ITEMS)


def schema_for(message: str) -> dict[str, Any]:
    """The JSON schema for one message: a quote can be no longer than the message itself."""
    schema = ModelMemories.model_json_schema()
    quote = schema["$defs"]["ModelMemory"]["properties"]["quote"]
    quote["maxLength"] = max(1, min(MAX_QUOTE, len(message)))
    return schema


def max_tokens_for(message: str) -> int:
    """Room for the longest reply the schema allows for this message."""
    quote = min(MAX_QUOTE, len(message))
    return 16 + MAX_ITEMS * (_ITEM_CHARS + quote)


def _kinds_in_words() -> str:
    """The taught kinds as the instructions list them: "fact, ... or commitment (a plan ...)"."""
    said = [f"{k} ({REGISTRY[k].hint})" if REGISTRY[k].hint else k for k in TAUGHT_KINDS]
    return f"{', '.join(said[:-1])} or {said[-1]}"


INSTRUCTIONS = """\
You find what a message tells about its speaker and the people and animals in their life, \
for a companion's long-term memory. The speaker is {speaker}. Reply with JSON: \
{{"memories": [...]}}, one item per thing worth remembering:
- kind: {kinds}
- text: the memory in the third person, naming its subject ("{speaker} works as a nurse", \
"{speaker}'s cat Biscuit is a grey tabby"), in the message's language
- quote: the exact words of the message it comes from, copied character for character
- subject: "{speaker}", or the name of the person it is about
- relation: what that person is to {speaker} ("sister"), else null
- slot: a single-valued attribute (name, job, home, age), else null
- importance: low, medium or high
Only what the message says. Questions, greetings and small talk teach nothing: \
{{"memories": []}}.""".replace("{kinds}", _kinds_in_words())


def prompt_for(message: str, speaker: str) -> list[ChatMessage]:
    # "you" (the default chat.user_name) is no name: "you works as a nurse" would be nonsense.
    called = referent(speaker)
    return [
        ChatMessage(role="system", content=INSTRUCTIONS.format(speaker=called)),
        ChatMessage(role="user", content=message),
    ]


@dataclass
class Reading:
    """What the model's reply held: the candidates kept, and the quotes dropped as invented."""

    kept: list[Candidate] = field(default_factory=list)
    invented: list[str] = field(default_factory=list)
    valid: bool = True
    """False when the reply was not JSON of the schema (cut short by max_tokens)."""


_SPACE = re.compile(r"\s+")
# A quote of a word or two could be found in almost any message and prove nothing.
MIN_QUOTE_CHARS = 4


def find_quote(quote: str, message: str) -> str | None:
    """The message's own span that `quote` copies, or None if it is not in the message.

    Only whitespace runs and typographic quotes may differ (a model retypes them); the span
    returned is the message's, verbatim."""
    words = _SPACE.split(plain(quote).strip().strip("\"'"))
    if sum(len(w) for w in words) < MIN_QUOTE_CHARS:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    found = re.search(pattern, plain(message))
    # `plain` maps one character to one: offsets slice the original.
    return message[found.start() : found.end()] if found else None


_SELF = {"i", "me", "myself", "speaker", "the speaker", "user", "the user"}


def _subject(raw: str, relation: str | None, speaker: str) -> str:
    name = raw.strip()
    low = name.casefold()
    if not name or low in _SELF or low in (speaker.casefold(), UNNAMED):
        return speaker
    if low.startswith("my "):
        # "my sister": an unnamed relative, stored as the rules store one.
        return f"{speaker}'s {name[3:].strip()}"
    if relation is not None and low == relation.strip().casefold():
        return f"{speaker}'s {name}"
    return name


def _candidate(item: ModelMemory, quote: str, speaker: str, when: datetime) -> Candidate:
    future = item.kind == "commitment"
    # Dates come from the message's words, never from the model's arithmetic.
    resolved = resolve_when(quote, when, future=future)
    text = item.text.strip() or quote
    relation = (item.relation or "").strip() or None
    slot = (item.slot or "").strip().casefold() or None
    return Candidate(
        kind=item.kind,
        text=text,
        quote=quote,
        subject=_subject(item.subject, relation, speaker),
        slot=slot,
        relation=relation,
        importance=IMPORTANCE[item.importance],
        valid_from=None if future else resolved,
        due=resolved if future else None,
        flags=with_flags(text, with_flags(quote, [])),
    )


def read_reply(raw: str, message: str, *, speaker: str, when: datetime) -> Reading:
    """Candidates from the model's JSON; an item whose quote is not in the message is dropped
    (no invented memories), as is a second item with the same text."""
    try:
        parsed = ModelMemories.model_validate_json(raw)
    except ValidationError:
        log.info("the model extractor's reply was not JSON of the schema: %.200r", raw)
        return Reading(valid=False)
    reading = Reading()
    seen: set[str] = set()
    for item in parsed.memories:
        quote = find_quote(item.quote, message)
        if quote is None:
            reading.invented.append(item.quote)
            continue
        candidate = _candidate(item, quote, speaker, when)
        if candidate.text.casefold() not in seen:
            seen.add(candidate.text.casefold())
            reading.kept.append(candidate)
    return reading


class ModelExtractor:
    """`extract`'s signature, answered by a loaded model (`LlamaBackend.constrained`).

    Calls must not overlap with each other or with a turn on the same backend: the agent runs
    them on its one memory worker, which a turn waits for (agent/turn.py)."""

    name = "model"

    def __init__(self, backend: LlamaBackend, *, keep_cache: bool = True) -> None:
        self.backend = backend
        # On the chat's own instance, its KV cache is saved and loaded around each call.
        self.keep_cache = keep_cache
        self._own: KVState | None = None
        self.last: Reading = Reading()

    def read(self, text: str, *, speaker: str, when: datetime) -> Reading:
        """The whole reading of one message (the probe counts what was dropped)."""
        message = text[:MAX_EXTRACT_CHARS]
        if not message.strip():
            return Reading()
        messages = prompt_for(message, speaker)
        schema, room = schema_for(message), max_tokens_for(message)
        if self.keep_cache:
            with self.backend.cache_kept():
                # Its own cache from the last message: the instructions are not evaluated again.
                self.backend.load_cache(self._own)
                raw = self.backend.constrained(messages, schema, room)
                self._own = self.backend.save_cache()
        else:
            raw = self.backend.constrained(messages, schema, room)
        self.last = read_reply(raw, message, speaker=speaker, when=when)
        return self.last

    def __call__(self, text: str, *, speaker: str, when: datetime) -> list[Candidate]:
        return self.read(text, speaker=speaker, when=when).kept
