"""Rule machinery: what a rule says about a clause (_Hit), what it knows (_Ctx), running rules."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from agent.learn.extract.vocabulary import _Pat, _Rx
from memory.graph.nodes import Kind


@dataclass(frozen=True)
class _Hit:
    kind: Kind
    slot: str | None = None
    importance: float = 0.5
    subject: str | None = None
    """None: the speaker."""
    correction: bool = False
    value: str | None = None
    """The slot's value, where it is a name (the speaker's own name, a pet's)."""
    relation: str | None = None
    """What the named subject is to the speaker ("sister", "cat")."""
    text: str | None = None
    """The memory text, when the rule words it itself; "{person}" stands for the speaker."""


@dataclass(frozen=True)
class _Ctx:
    speaker: str
    lower: bool
    """The whole message is lowercase, so names are not capitalised either."""
    greeted: bool
    """The message opens with a greeting or says "nice to meet you": "I'm Sam" is a name."""
    future_time: bool
    """The clause names a future time ("tomorrow", "next week", "on Friday", "in two days")."""
    past_time: bool
    """The clause names a past time ("yesterday", "last week", "in 2019", "two days ago")."""


_Builder = Callable[[re.Match[str], _Ctx], "_Hit | None"]
_Rule = tuple["_Pat | _Rx | re.Pattern[str]", _Builder]


def _const(
    kind: Kind, slot: str | None = None, importance: float = 0.5, correction: bool = False
) -> _Builder:
    hit = _Hit(kind, slot, importance, None, correction)
    return lambda _m, _c: hit


def _run(rules: list[_Rule], core: str, ctx: _Ctx) -> _Hit | None:
    for pattern, build in rules:
        m = pattern.match(core, ctx.lower) if isinstance(pattern, _Pat) else pattern.match(core)
        if m is not None:
            hit = build(m, ctx)
            if hit is not None:
                return hit
    return None
