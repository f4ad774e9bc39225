"""The write path: what a human message teaches Hearth, reconciled with what it already knows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel

from agent.learn.extract import Candidate, extract
from memory.clock import now
from memory.graph.kinds import LEARNED_KINDS, SAID
from memory.graph.nodes import Actor, Hit, NewMemory
from memory.secrets import has_secret

if TYPE_CHECKING:
    from memory.graph.store import MemoryStore

# Cosine similarity (all-MiniLM-L6-v2) above which a candidate says what a memory already says.
DUPLICATE = 0.88
# Above this, and when one text's words contain the other's, the longer text replaces the shorter.
MERGE = 0.75
# Small talk ("I had a long day") is not worth remembering on its own.
MIN_IMPORTANCE = 0.45
# Statements are sentences: past this, a message is a pasted document, and the rules' regexes
# would only spend time on it (quadratic on long unbroken tokens).
MAX_EXTRACT_CHARS = 4000

WriteKind = Literal["add", "update", "supersede", "noop"]


class Extractor(Protocol):
    """What finds candidate memories in one message: the rules' `extract`, or a model's."""

    def __call__(self, text: str, *, speaker: str, when: datetime) -> list[Candidate]: ...


class WriteAction(BaseModel):
    """What one candidate did to the graph (`say --json`'s `stored` lists the changed ids)."""

    action: WriteKind
    memory_id: str
    text: str
    previous_id: str | None = None


_NEGATION = re.compile(r"\b(not|never|no longer|any ?more|nobody|nothing)\b|n['\u2019]t\b", re.I)


def _negated(text: str) -> bool:
    return _NEGATION.search(text) is not None


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.casefold()))


def _new(candidate: Candidate, subject: str, message_id: int, when: datetime) -> NewMemory:
    return NewMemory(
        text=candidate.text,
        kind=candidate.kind,
        subject=subject,
        importance=candidate.importance,
        flags=candidate.flags,
        provenance=[message_id],
        # A plan is true in the world on the day it is for: its note shows that date.
        valid_from=candidate.valid_from or candidate.due or when,
        slot=candidate.slot,
        quote=candidate.quote,
    )


def _same_subject(hit: Hit, subject: str) -> bool:
    return hit.memory.subject.casefold() == subject.casefold()


def _reconcile(
    store: MemoryStore, item: NewMemory, hits: Sequence[Hit], message_id: int, actor: Actor
) -> WriteAction:
    if item.slot is not None:
        current = store.in_slot(item.subject, item.slot)
        if any(_words(m.text) == _words(item.text) for m in current):
            same = next(m for m in current if _words(m.text) == _words(item.text))
            store.add_provenance(same.id, [message_id], actor=actor)
            return WriteAction(action="noop", memory_id=same.id, text=same.text)
        if current:
            # A new value of a single-valued attribute: the old one stops being true, and stays.
            new = store.supersede(current[-1].id, item, actor=actor)
            for older in current[:-1]:
                store.merge(new.id, older.id, actor=actor)
            return WriteAction(
                action="supersede", memory_id=new.id, text=new.text, previous_id=current[-1].id
            )
    # The person's kept words (`said`) are what was said, not a value to merge into or
    # supersede: a fact is reconciled with facts only.
    best = next(
        (
            h
            for h in hits
            if h.dense is not None and _same_subject(h, item.subject) and h.memory.kind != SAID
        ),
        None,
    )
    if best is not None and best.dense is not None:
        old, new_words = _words(best.memory.text), _words(item.text)
        if best.dense >= MERGE and _negated(best.memory.text) != _negated(item.text):
            # "I don't like hiking" then "I like hiking": a change of mind, not a repeat.
            new = store.supersede(best.memory.id, item, actor=actor)
            return WriteAction(
                action="supersede", memory_id=new.id, text=new.text, previous_id=best.memory.id
            )
        if best.dense >= MERGE and old < new_words:
            # Says the same and more: the fuller wording replaces the memory's text (a merge).
            store.update_text(best.memory.id, item.text, actor=actor)
            store.add_provenance(best.memory.id, [message_id], actor=actor)
            return WriteAction(action="update", memory_id=best.memory.id, text=item.text)
        if best.dense >= DUPLICATE or (best.dense >= MERGE and new_words <= old):
            store.add_provenance(best.memory.id, [message_id], actor=actor)
            return WriteAction(action="noop", memory_id=best.memory.id, text=best.memory.text)
    added = store.add_many([item], actor=actor)[0]
    return WriteAction(action="add", memory_id=added.id, text=added.text)


def remember(
    store: MemoryStore,
    text: str,
    *,
    message_id: int,
    speaker: str,
    when: datetime,
    user_speaker: str | None = None,
    actor: Actor = "extraction",
    extract: Extractor = extract,
) -> list[WriteAction]:
    """Extract candidates from one human message and write each as ADD, UPDATE, SUPERSEDE or
    NOOP. Statements about `user_speaker` themself are stored with subject "user".

    A statement holding a secret (a password, PIN, card number, key or token) is dropped, not
    stored with the secret blanked out: what it says is the secret, "my password is [secret]"
    would only be recalled to no use, and a detector that missed part of the secret would
    have kept that part. Only `hearth memory add --secret` stores one, as the person says.

    A statement the person rejected before (its words, or the sentence it was learned from:
    `MemoryStore.reject`) is dropped too: a rejected memory never comes back from the same
    sentence.

    `extract` finds the candidates: the rules unless a caller passes another (the model
    extractor, `hearth bench extraction`)."""
    candidates = [
        c
        for c in extract(text[:MAX_EXTRACT_CHARS], speaker=speaker, when=when)
        if (c.importance >= MIN_IMPORTANCE or c.flags)
        and not has_secret(c.text)
        and not store.rejected(c.text, c.quote, said_in=text)
    ]
    if not candidates:
        return []
    vectors = store.embed([c.text for c in candidates])
    actions: list[WriteAction] = []
    for candidate, vector in zip(candidates, vectors, strict=True):
        subject = candidate.subject
        if user_speaker is not None and subject.casefold() == user_speaker.casefold():
            subject = "user"
        item = _new(candidate, subject, message_id, when)
        hits = store.search_by_vector(item.text, vector, 5, kinds=LEARNED_KINDS, valid_only=True)
        action = _reconcile(store, item, hits, message_id, actor)
        actions.append(action)
        if action.previous_id is not None:
            expire_said_of(store, action.previous_id)
        if subject == "user" and candidate.slot == "name" and candidate.value:
            # A query that names the person ("what does Priya do?") means "user".
            store.add_names("user", [candidate.value])
    _link_relations(store, candidates, actions, user_speaker, actor)
    return actions


def _link_relations(
    store: MemoryStore,
    candidates: Sequence[Candidate],
    actions: Sequence[WriteAction],
    user_speaker: str | None,
    actor: Actor,
) -> None:
    """ "my sister Anjali": Anjali's memory is linked to who the person is (their name) and to
    what else the same message said about her, so one hop of the graph finds either."""
    speaker = (user_speaker or "").casefold()
    related = [
        (c, a)
        for c, a in zip(candidates, actions, strict=True)
        if c.relation is not None and c.subject.casefold() != speaker
    ]
    if not related:
        return  # most messages name no one: no lookup of the person's name memory
    names = store.in_slot("user", "name")
    for candidate, action in related:
        if names and action.action != "noop":
            store.link(action.memory_id, names[-1].id, "related", actor=actor)
        for other, done in zip(candidates, actions, strict=True):
            if other.quote == candidate.quote and done.memory_id != action.memory_id:
                store.link(action.memory_id, done.memory_id, "related", actor=actor)


def expire_said_of(store: MemoryStore, memory_id: str) -> list[str]:
    """A superseded value's kept words (`said`, linked from it) stop being current (still
    listed with `--all`; history keeps them): what was said then is not what is true now.
    Returns their ids."""
    at = now()
    expired: list[str] = []
    for edge in store.edges(memory_id):
        if edge.type != "derived_from" or edge.src != memory_id:
            continue
        said = store.get(edge.dst)
        if said.kind == SAID and said.is_valid(at):
            store.update(said.id, valid_to=at, actor="extraction")
            expired.append(said.id)
    return expired
