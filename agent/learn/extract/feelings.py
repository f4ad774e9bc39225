"""Feelings and states: worry, loneliness, tiredness, sleep, what weighs on the person."""

from __future__ import annotations

import re

from agent.learn.extract.rules import _const, _Ctx, _Hit, _Rule
from agent.learn.extract.vocabulary import _rx

# A feeling is true on the day it is said: dated (valid_from is the message's time), marked
# sensitive, and its importance fades faster than a fact's (consolidation's decay).
# "I'm worried", "I feel lonely", "I've been so tired lately", "I can't sleep", "night shifts
# are wrecking my sleep". Words that are feelings in one reading and something else in another
# ("I'm down to two shifts", "I'm sick of tea" is a preference) stay out, and so does small talk
# ("I'm good", "I'm fine"): it says nothing worth keeping.

_FEELINGS = (
    r"worried|anxious|stressed(?:\s+out)?|lonely|alone|sad|depressed|down|low|blue"
    r"|exhausted|drained|burnt\s+out|burned\s+out|worn\s+out|overwhelmed|scared|afraid|frightened"
    r"|terrified|nervous|upset|angry|furious|frustrated|hurt|heartbroken|homesick"
    r"|isolated|insecure|ashamed|guilty|jealous|miserable|unhappy|happy|excited|thrilled"
    r"|grateful|thankful|proud|relieved|hopeful|content|calm|hopeless"
    r"|helpless|numb|restless|sleepless|unwell|awful|terrible|empty|broken|panicky|on\s+edge"
    r"|under\s+pressure|at\s+a\s+loss|fed\s+up|sick\s+and\s+tired|run\s+down"
)
_FEELING_WORDS = f"(?:{_FEELINGS})"
# Tiredness said once is small talk ("I'm so tired", "I'm a bit confused" about the chat); said
# as lasting, it is a state.
_LASTING = f"(?:{_FEELINGS}|tired|bored|confused|lost|stuck)"
_DEGREE = (
    r"(?:(?:a\s+(?:bit|little|lot)|so|really|very|quite|pretty|super|kind\s+of|kinda|sort\s+of"
    r"|a\s+tad|incredibly|extremely|completely|totally|absolutely|more|less|increasingly"
    r"|a\s+bit\s+more|rather|slightly|somewhat|utterly|just|still|also|always|often"
    r"|constantly|always|all)\s+)*"
)
_SLEEP = r"(?:sleep|sleeping|rest|resting)"
_GLAD = re.compile(
    r"\b(?:happy|excited|thrilled|grateful|thankful|proud|relieved|hopeful|content|calm)\b",
    re.IGNORECASE,
)


def _feeling(m: re.Match[str], _ctx: _Ctx) -> _Hit:
    """A hard feeling matters more to remember (and ask after) than a glad one."""
    return _Hit("feeling", None, 0.6 if _GLAD.search(m.group()) else 0.7)


_FEELING_RULES: list[_Rule] = [
    (
        _rx(
            rf"""<BE>\s+<ADV>(?:feeling\s+)?{_DEGREE}{_FEELING_WORDS}\b(?!\s+(?:to|at|in|for)\s+\w)"""
        ),
        _feeling,
    ),
    (
        _rx(rf"""<I>(?:'ve|\s+have)?\s+<ADV>(?:been\s+)?<ADV>(?:feel|feels|feeling|felt)\s+
         {_DEGREE}{_FEELING_WORDS}\b"""),
        _feeling,
    ),
    (
        _rx(rf"""<HAVE>\s+<ADV>been\s+(?:feeling\s+)?{_DEGREE}{_LASTING}\b"""),
        _feeling,
    ),
    (
        _rx(r"""(?:<I>\s+<ADV>(?:can't|cannot|can\s+not|couldn't|don't|do\s+not|haven't
         |have\s+not)\s+<ADV>(?:sleep|sleeping|slept|get\s+(?:any\s+)?(?:sleep|rest))
         |<BE>\s+<ADV>(?:not\s+)?(?:sleeping|resting)\s+(?:badly|poorly|well|enough|much|at\s+all)
         |<HAVE>\s+<ADV>(?:been\s+)?(?:having\s+)?(?:trouble|difficulty|problems|a\s+hard\s+time)
          \s+(?:sleeping|getting\s+to\s+sleep|falling\s+asleep)
         |<I>\s+<ADV>(?:sleep|slept)\s+(?:badly|poorly|terribly|really\s+badly))\b"""),
        _const("feeling", None, 0.75),
    ),
    (
        _rx(r"""<I>\s+<ADV>(?:miss|worry\s+about|worry\s+that|fear|dread|am\s+dreading
         |'m\s+dreading|struggle\s+with|am\s+struggling|'m\s+struggling)\b"""),
        _const("feeling", None, 0.7),
    ),
    (
        # What weighs on the person: "night shifts are wrecking my sleep".
        _rx(rf"""(?:[\w'-]+\s+){{1,5}}?(?:is|are|has\s+been|have\s+been|keeps?|'s|'re)\s+<ADV>
         (?:wrecking|ruining|killing|messing\s+(?:up|with)|affecting|hurting|destroying
         |draining|wearing\s+(?:me\s+)?down|getting\s+to|stressing|worrying|keeping\s+me\s+up)
         \s+(?:me|<MY>\s+{_SLEEP}|<MY>\s+[\w-]+)\b"""),
        _const("feeling", None, 0.7),
    ),
]
