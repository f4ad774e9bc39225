"""Changes and updates: change-of-state rules, and the cues that make a clause correct a memory."""

from __future__ import annotations

import re

from agent.learn.extract.clauses import _Clause
from agent.learn.extract.rules import _const, _Hit, _Rule
from agent.learn.extract.vocabulary import _rx

# Group 6 (part): changes of state that supersede an earlier memory: moving house, changing or
# losing a job, breaking up. Each sets correction=True with the slot the change overrides.

_CHANGE_RULES: list[_Rule] = [
    (
        _rx(r"""<I>(?:\s+have|'?ve)?\s+<ADV>(?:moved|relocated|emigrated|immigrated)
         (?:\s+(?:back|house|home|out|away|over|abroad|here|there|again))*
         (?:\s+from\s+\S.*?)?(?:\s+(?:to|into|in\s+to)\s+\S|\s*$|\s+(?:here|there|abroad)\b)"""),
        _const("fact", "residence", 0.8, correction=True),
    ),
    (
        _rx(
            r"<I>(?:\s+have|'?ve)?\s+<ADV>(?:changed|switched|swapped)\s+(?:jobs|careers"
            r"|companies|employers|teams|roles|work)\b"
        ),
        _const("fact", "workplace", 0.7, correction=True),
    ),
    (
        _rx(r"""<I>(?:\s+have|'?ve)?\s+<ADV>(?:got|landed|started|found|accepted|took|began
         |took\s+on)\s+(?:a\s+|my\s+|the\s+)?(?:new\s+|first\s+|dream\s+)?
         (?:full-time\s+|part-time\s+)?(?:job|position|role|gig)\b"""),
        _const("fact", "workplace", 0.7, correction=True),
    ),
    (
        _rx(r"<I>(?:\s+have|'?ve)?\s+<ADV>(?:started|began)\s+(?:working|work)\s+(?:at|for)\s+\S"),
        _const("fact", "workplace", 0.7, correction=True),
    ),
    (
        _rx(
            r"<I>(?:\s+have|'?ve)?\s+<ADV>(?:quit|left|lost)\s+my\s+(?:\w+\s+)?(?:job|work"
            r"|position)\b"
        ),
        _const("fact", "workplace", 0.7, correction=True),
    ),
    (
        _rx(
            r"""<I>(?:\s+have\s+been|'?ve\s+been|\s+was|\s+got|\s+were)\s+<ADV>(?:fired
            |laid\s+off|let\s+go|made\s+redundant|sacked)\b"""
        ),
        _const("fact", "workplace", 0.7, correction=True),
    ),
    (
        _rx(r"<I>(?:\s+have|'?ve)?\s+<ADV>(?:retired|got\s+promoted|was\s+promoted)\b"),
        _const("fact", "job", 0.7, correction=True),
    ),
    (
        _rx(r"<I>(?:\s+have|'?ve)?\s+<ADV>(?:broke|broken|split)\s+up\b"),
        _const("fact", "relationship_status", 0.8, correction=True),
    ),
    (
        _rx(r"<I>(?:\s+have|'?ve)?\s+<ADV>(?:got|gotten|are\s+getting|'re\s+getting)\s+divorced"),
        _const("fact", "relationship_status", 0.8, correction=True),
    ),
]


# ---------------------------------------------------------------------------------------------
# Whether a clause corrects or updates something said before: contrasts ("X, not Y"),
# "anymore", "now", "I actually ...". Correction openers ("actually,", "no,", "I meant") are
# stripped with the other openers in clauses.py and arrive here as _Clause.correction.

_NOT_BUT = re.compile(
    r"\bnot\s+(?:in\s+|at\s+|a\s+|an\s+|the\s+)?[\w'-]+(?:\s+[\w'-]+){0,3}?,?\s+but\s+",
    re.IGNORECASE,
)
_COMMA_NOT = re.compile(
    r"(?:\s*,\s*|\s+and\s+)not\s+(?:in\s+|at\s+|a\s+|an\s+|the\s+)?[\w' -]+$", re.I
)
# "anymore" always says something changed; "now" only when the clause sets a slot.
_STOPPED = re.compile(r"\b(?:anymore|any\s+more|no\s+longer)\b", re.IGNORECASE)
# "my name isn't Sam, it's Sean" -> "my name is Sean".
_ISNT_ITS = re.compile(
    r"(?:\s+is\s+not|\s+isn't|'s\s+not)\s+[\w' -]+?,\s*(?:it's|it\s+is|but)\s+", re.IGNORECASE
)
_CHANGE_CUE = re.compile(r"\b(?:these\s+days|nowadays|now|moved|changed)\b", re.IGNORECASE)
_ACTUALLY = re.compile(r"^(?:i|we)(?:'m|\s+am|'re|\s+are)?\s+actually\b", re.IGNORECASE)


def _cleaned(core: str) -> tuple[str, bool]:
    """The clause without "not X but" / ", not X" contrasts, and whether it had one."""
    cleaned = _NOT_BUT.sub("", core)
    if cleaned == core:
        cleaned = _ISNT_ITS.sub(" is ", core)
    if cleaned == core:
        cleaned = _COMMA_NOT.sub("", core)
    return cleaned, cleaned != core


_EMPTY_RESTATEMENT = _rx(r"(?:that|it|this|so|already|too|nothing|something|yes|no)\b")


def _corrects(c: _Clause, hit: _Hit, body: str, core: str, contrast: bool) -> bool:
    """Whether the clause corrects or updates something said before."""
    if c.correction or hit.correction or _STOPPED.search(body) is not None:
        return True
    # "now", "these days", "X, not Y" and "I actually ..." update a slot; without one they are
    # just talk ("I'm going to Paris now").
    return hit.slot is not None and (
        contrast or _CHANGE_CUE.search(body) is not None or _ACTUALLY.match(core) is not None
    )
