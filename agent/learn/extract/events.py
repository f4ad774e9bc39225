"""Past events: "yesterday I went to ...", "we got married in 2019", "I just finished ..."."""

from __future__ import annotations

import re

from agent.learn.extract.rules import _Ctx, _Hit
from agent.learn.extract.vocabulary import _IRREGULAR_PAST, _LIFE_EVENT, _MENTIONS_YOU, _rx

# Group 4: past events ("yesterday I went to ...", "we got married in 2019", "I just finished
# ...", "my husband and I went to Rome"). A past-tense verb after "I"/"we" at the clause's start.

# Past tenses that say nothing memorable on their own ("I said", "I thought", "I wanted to ask").
_NOT_EVENT = (
    "said|asked|meant|thought|wondered|guessed|mentioned|knew|realized|realised|understood"
    "|noticed|forgot|wanted|hoped|needed|figured|supposed|used|liked|loved|hated|enjoyed"
    "|preferred|adored|disliked|missed|agreed|decided|promised|told\\s+you"
)
_EVENT = _rx(
    rf"""(?:<MY>\s+[\w' -]{{1,40}}?\s+and\s+)?<I>(?:\s+have|'?ve|\s+had|'d)?\s+<ADV>
    (?!(?:{_NOT_EVENT})\b)(?P<verb>{_IRREGULAR_PAST}|[a-z]{{2,}}(?<!e)ed)\b(?P<rest>.*)"""
)
_PRONOUN_ONLY = re.compile(
    r"""^\s*(?:it|that|this|so|too|them|him|her|one)?\s*[.!]*\s*$
    |^\s*(?:a|an|one|another|some)\s+(?:quick\s+|small\s+|random\s+)?(?:question|idea|thought
    |minute|sec|second|moment)s?\b""",
    re.IGNORECASE | re.VERBOSE,
)
_MARRIED = re.compile(r"\bgot\s+(?:married|engaged)\b", re.IGNORECASE)


def _event(core: str, ctx: _Ctx) -> _Hit | None:
    m = _EVENT.match(core)
    if m is None or _MENTIONS_YOU.search(m["rest"]):
        return None  # "I had fun talking with you" is about this chat
    life = _LIFE_EVENT.search(core) is not None
    # "I did it!", "I ran." carry nothing to remember unless the verb itself is a life event.
    if _PRONOUN_ONLY.match(m["rest"]) and not life:
        return None
    # "was"/"were" and "read" (present or past) only make an event with a past time.
    if m["verb"].lower() in ("was", "were", "read") and not (life or ctx.past_time):
        return None
    slot = "relationship_status" if _MARRIED.search(core) else None
    return _Hit("event", slot, 0.8 if life else 0.5 if ctx.past_time else 0.4)


_PAST_PREF = _rx(r"<I>\s+<ADV>(?:liked|loved|hated|enjoyed|adored|disliked)\b(?P<rest>.*)")


def _enjoyed_event(core: str, ctx: _Ctx) -> _Hit | None:
    """ "I enjoyed the concert last night" is an outing; without the time it is a preference."""
    m = _PAST_PREF.match(core)
    if m is not None and ctx.past_time and not _MENTIONS_YOU.search(m["rest"]):
        return _Hit("event", None, 0.5)
    return None
