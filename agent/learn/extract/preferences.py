"""Preferences: "I love ...", "I can't stand ...", "my favourite X is Y", "I'm a fan of ..."."""

from __future__ import annotations

import re

from agent.learn.extract.rules import _Ctx, _Hit, _Rule
from agent.learn.extract.vocabulary import _MENTIONS_YOU, _rx

# Group 2: preferences ("I love ...", "I can't stand ...", "my favourite X is Y", "Y is my
# favourite", "I'm not a fan of ..."). Reactions to the conversation ("I love that", "I like your
# answer", "I love how you ...") are not preferences and are skipped.

_PREF_OBJECT_SKIP = re.compile(
    r"""^\s*(?:you|your|yours|u|ur|it|that|this|these|those|them|him|her|me|myself|so\s+much|too
    |how|when|what|the\s+way|to\s+(?:think|say|believe|imagine|know|hear|ask|chat|talk))\b
    |^\s*[.!?]*\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_STRONG = re.compile(
    r"\b(?:love|loved|adore|hate|hated|despise|detest|loathe|can't\s+stand|cannot\s+stand"
    r"|obsessed|passionate|crazy|can't\s+live|can't\s+get\s+enough|favou?rite|fave|fav)\b",
    re.IGNORECASE,
)
_THING_TRIM = re.compile(r"^(?:all[- ]time|absolute|current|new|personal|top)\s+", re.IGNORECASE)


def _favourite(m: re.Match[str], _ctx: _Ctx) -> _Hit:
    """ "my favourite book is ..." -> slot "favourite:book"; "pizza is my favourite" -> None."""
    thing = _THING_TRIM.sub("", " ".join((m.groupdict().get("thing") or "").lower().split()))
    # One slot whatever the spelling: "favourite colour" and "favorite color" are the same.
    thing = thing.replace("colour", "color").replace("flavour", "flavor")
    if thing in ("", "thing", "things", "one", "ones"):
        return _Hit("preference", None, 0.6)
    return _Hit("preference", f"favourite:{thing}", 0.6)


def _pref(m: re.Match[str], _ctx: _Ctx) -> _Hit | None:
    if _PREF_OBJECT_SKIP.match(m["obj"]) or _MENTIONS_YOU.search(m["obj"]):
        return None
    return _Hit("preference", None, 0.6 if _STRONG.search(m[0]) else 0.5)


def _pref_subject(m: re.Match[str], _ctx: _Ctx) -> _Hit | None:
    """ "Pizza is my favourite": the left side must be a thing, not "you" or "this"."""
    if _PREF_OBJECT_SKIP.match(m["obj"]):
        return None
    return _favourite(m, _ctx)


_PREF_VERBS = (
    r"(?:love|loved|like|liked|enjoy|enjoyed|adore|adored|hate|hated|dislike|disliked|prefer"
    r"|preferred|detest|loathe|despise|can't\s+stand|cannot\s+stand|can't\s+get\s+enough\s+of"
    r"|can't\s+live\s+without|could\s+live\s+on|could\s+eat|fancy|appreciate|worship|crave)"
)
_FAN_NOUNS = (
    r"(?:fan|lover|admirer|enthusiast|devotee|addict|junkie|nerd|geek|buff|aficionado"
    r"|connoisseur|snob|person|freak|fanatic|head)"
)
_PREFERENCE_RULES: list[_Rule] = [
    (
        _rx(r"""<MY>\s+(?:all[- ]time\s+|absolute\s+|current\s+|new\s+|personal\s+|top\s+)*
         (?:favou?rite|fave|fav|favs|faves)\s+(?P<thing>[\w' -]+?)
         (?:\s+(?:of\s+all\s+time|ever|in\s+the\s+world|right\s+now|these\s+days
         |at\s+the\s+moment))?
         (?:\s+(?:is|are|was|were|has\s+(?:always\s+)?been|will\s+always\s+be)|'s|'re)\s+\S"""),
        _favourite,
    ),
    (
        _rx(r"""(?P<obj>\S.*?)(?:\s+(?:is|are|was|has\s+(?:always\s+)?been)|'s|'re)\s+<ADV>
         (?:still\s+)?<MY>\s+(?:all[- ]time\s+|absolute\s+|personal\s+|top\s+)*
         (?:favou?rite|fave|fav)\b
         (?:\s+(?P<thing>[\w'-]+(?:\s+(?!(?:to|in|of|ever|on|at|for|by|from|and|of|thing)\b)
         [\w'-]+){0,2}))?"""),
        _pref_subject,
    ),
    (
        _rx(r"""(?P<obj>\S.*?)(?:\s+(?:is|are)|'s|'re)\s+(?:not\s+|really\s+|totally\s+|so\s+)*
         <MY>\s+(?:thing|jam|jams|cup\s+of\s+tea|kind\s+of\s+thing|style|weakness
         |guilty\s+pleasure|comfort\s+food|go-to|happy\s+place|passion)\b"""),
        _pref_subject,
    ),
    (
        _rx(rf"""<I>(?:'?ve|\s+have)?\s+<ADV>(?:(?:<DONT>|didn't|never|do|really|truly
         |absolutely)\s+)?<ADV>{_PREF_VERBS}\s+(?P<obj>.*)"""),
        _pref,
    ),
    (
        _rx(rf"""<BE>\s+<ADV>(?:not\s+|never\s+been\s+)?(?:really\s+|much\s+of\s+)?
         (?:(?:a|an|such\s+a)\s+)?(?:(?:big|huge|massive|great|total|die-?hard|real|true
         |lifelong|long-?time|longtime|crazy|hopeless|proper|secret)\s+)*{_FAN_NOUNS}\s+of
         \s+(?P<obj>.*)"""),
        _pref,
    ),
    (
        _rx(rf"""<BE>\s+<ADV>(?:not\s+)?(?:really\s+)?(?:a|an)\s+(?:(?:big|huge|total|real|massive
         |true|die-?hard)\s+)*(?P<obj>[\w'-]+(?:\s+[\w'-]+)?)\s+{_FAN_NOUNS}\b"""),
        _pref,
    ),
    (
        _rx(r"""<BE>\s+<ADV>(?:not\s+)?(?:really\s+|totally\s+|so\s+|super\s+|kind\s+of\s+)?
         (?:into|obsessed\s+with|crazy\s+about|mad\s+about|nuts\s+about|passionate\s+about
         |fond\s+of|keen\s+on|hooked\s+on|addicted\s+to|a\s+sucker\s+for|partial\s+to
         |not\s+big\s+on|big\s+on)\s+(?P<obj>.*)"""),
        _pref,
    ),
    (_rx(r"<I>(?:\s+would|'d)\s+<ADV>rather\s+(?!not\b)(?P<obj>.*)"), _pref),
    (_rx(r"(?:nothing\s+beats|there'?s\s+nothing\s+(?:better\s+than|like))\s+(?P<obj>.*)"), _pref),
]
