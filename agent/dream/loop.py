"""`hearth dream`: pick memories, make scenarios of them, and let the model answer each."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel

from agent.dream.pick import pick, pickable, unsafe
from agent.dream.review import Dream, dream
from agent.dream.scenarios import scenario
from agent.turn import Agent
from memory.clock import now
from memory.errors import ConfigError
from memory.journal.schemas import DreamMeta, MessageMeta

TITLE = "Dreams (synthetic) {at:%Y-%m-%d %H:%M}"
"""A run's session: its title says what it is wherever a session id is shown."""


class DreamReport(BaseModel):
    """What `hearth dream --json` prints."""

    made: int
    asked: int
    pickable: int
    """Memories a dream could draw on (valid, not secret, not sensitive)."""
    corrected: int
    """Of those, memories the person corrected."""
    session_id: int | None
    """The run's journal session (None: nothing to dream from, no session made)."""
    seed: int
    seconds: float
    per_dream_s: float | None
    dreams: list[Dream]


def run_dreams(
    agent: Agent,
    n: int,
    seed: int,
    *,
    at: datetime | None = None,
    advance: Callable[[], None] = lambda: None,
) -> DreamReport:
    """Up to n dreams in one new session, each a pending, synthetic candidate. Nothing is
    remembered and no recall is counted (`Agent.dream_reply`); the memories are only read."""
    store = agent.store
    if store is None:
        raise ConfigError("dreams draw on memories, and memory is off")
    at = at or now()
    rng = random.Random(seed)
    pool = pickable(store, agent.journal, at)
    picked = pick(pool, n, rng)
    hide = frozenset(m.id for m in store.list() if unsafe(m))
    started = time.perf_counter()
    made: list[Dream] = []
    session_id: int | None = None
    if picked:
        local = agent.settings.chat.local_time(at)
        session_id = agent.journal.create_session(title=TITLE.format(at=local)).id
    picked_ids = {p.memory.id for p in picked}
    others = [p for p in pool if p.memory.id not in picked_ids]
    for chosen in picked:
        assert session_id is not None
        made_up = scenario(chosen, others, at, rng)
        meta = MessageMeta(
            synthetic=True,
            dream=DreamMeta(kind=made_up.kind, memory_ids=made_up.memory_ids, seed=seed),
        )
        user = agent.journal.append(
            session_id,
            "user",
            made_up.text,
            speaker=agent.settings.chat.user_name,
            meta=meta,
            root=True,  # a dream follows no other: its prompt holds itself alone
        )
        agent.dream_reply(user.id, meta, hide)
        made.append(dream(agent.journal, user.id))
        advance()
    seconds = time.perf_counter() - started
    return DreamReport(
        made=len(made),
        asked=n,
        pickable=len(pool),
        corrected=sum(1 for p in pool if p.corrected),
        session_id=session_id,
        seed=seed,
        seconds=round(seconds, 3),
        per_dream_s=round(seconds / len(made), 3) if made else None,
        dreams=made,
    )
