"""The correction detector: flags a user message that says the previous reply got them wrong.

A flagged message gets meta {"correction": true} (`MessageMeta.correction`). It marks the reply
before it as a behavioural training candidate (the user had to push back); nothing is inferred
about which part was wrong.

What counts, matched case-insensitively, with typographic apostrophes treated as plain ones:
- openings that push back: "no, listen", "no, wait", "no no", "no, actually", "wrong",
  "not quite", "that's not it";
- being misheard: "that's not what I said / meant / asked", "you misunderstood", "I didn't say",
  "I never said", "you're not listening";
- being contradicted: "you're wrong", "that's wrong / incorrect / not right / not true";
- restating: "I said ...", "I meant ...", "I asked ..." at the start of the message;
- "actually, ..." at the start of the message;
- asking for a redo: "try again", "read my message again".

It is deliberately conservative: a "no" answering a question is not a correction, so "no" only
counts when another pushback word follows it ("no, listen"). Only a message that answers a
reply (its parent is an assistant message) can be a correction.
"""

from __future__ import annotations

import re

from memory.journal.journal import Journal
from memory.journal.schemas import Message, MessageMeta
from memory.text import CURLY_APOSTROPHE, OPENING_QUOTE, straighten_apostrophes

_PATTERNS = [
    # Openings that push back on what was just said.
    r"^\s*no+[,.!]*\s+(?:no+\b|listen|wait|actually|that'?s not\b|not what\b)",
    r"^\s*(?:wrong|incorrect|not quite|that'?s not it)\b",
    # Being misheard or misquoted.
    r"\bthat'?s not what i (?:said|meant|asked|wrote|want(?:ed)?)\b",
    r"\bthat is not what i (?:said|meant|asked|wrote|want(?:ed)?)\b",
    r"\byou (?:misunderstood|misread|misheard|got (?:it|that|me) wrong)\b",
    r"\bi (?:didn'?t|did not|never) (?:say|said|ask|asked|mean|meant)\b",
    r"\byou(?:'re| are)(?: not|n'?t) listening\b",
    # Being contradicted.
    r"\byou(?:'re| are) (?:wrong|mistaken|incorrect)\b",
    r"\b(?:that|this|it)(?:'?s| is) (?:wrong|incorrect|not right|not true|not correct)\b",
    # Restating or correcting outright, at the start of the message.
    r"^\s*(?:but |no,? )?i (?:said|meant|asked)\b",
    r"^\s*actually\s*[,:]",
    # Asking for a redo.
    r"\b(?:try again|read (?:my|the) (?:message|question) again)\b",
]
_CORRECTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE | re.MULTILINE)


def is_correction(text: str) -> bool:
    """Whether this text pushes back on the previous reply (see the module docstring)."""
    typed = straighten_apostrophes(text, CURLY_APOSTROPHE + OPENING_QUOTE)
    return _CORRECTION.search(typed) is not None


def flag_correction(journal: Journal, message: Message) -> bool:
    """Mark a user message that corrects the reply it answers; says whether it did."""
    if message.role != "user" or message.parent_id is None or not is_correction(message.text):
        return False
    if journal.message(message.parent_id).role != "assistant":
        return False
    journal.update(message.id, meta=MessageMeta(correction=True))
    return True
