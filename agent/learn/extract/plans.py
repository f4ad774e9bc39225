"""Plans and commitments: "I'm going to", "I will", "remind me to", appointments."""

from __future__ import annotations

from agent.learn.extract.rules import _const, _Ctx, _Hit, _Rule
from agent.learn.extract.vocabulary import _rx

# Group 5: plans and commitments ("I'm going to", "I will", "remind me to", "I have a dentist
# appointment on Friday"). Checked first: a plan can mention a past or a state ("I'm going to
# move to Porto") without setting it yet.

_CHAT_PLAN = _rx(
    r"""(?:<WILL>|<I>\s+(?:have|need|got|want)\s+to|<I>\s+wanna|gotta|<I>\s+gotta|<I>\s+must
    |<I>\s+should|<BE>\s+(?:going\s+to|gonna)|<WOULD>\s+(?:like|love)\s+to)\s+
    (?:probably\s+|just\s+|really\s+|quickly\s+|now\s+)*
    (?:go(?:\s+now)?(?=\s*(?:[,.!]|$))|go\s+to\s+(?:bed|sleep)|run(?=\s*(?:[,.!]|$))|leave
    |head\s+out|log\s+off|sign\s+off
    |sleep|get\s+some\s+sleep|think\s+about\s+(?:it|that)|try(?:\s+(?:it|that|this))?\s*$|see
    |let\s+you\s+know|keep\s+(?:that|it|this)\s+in\s+mind|check(?:\s+(?:it|that))?\s*$
    |be\s+(?:right\s+)?back|talk\s+(?:to\s+you|later)|get\s+back\s+to\s+you|consider\s+it
    |do\s+(?:that|it)\s*$|ask(?:\s+you)?|tell\s+you|say|know|hear|understand|learn\s+more|chat
    |talk|vent|share|be\s+honest|admit|mention|remember\s+(?:that|this)|cry|scream
    |do\s+my\s+best|never\s+forget|always\s+remember|keep\s+trying)\b"""
)
_GOAL = r"(?:goal|plan|resolution|new\s+year'?s\s+resolution|dream|intention|aim|mission)"
_APPOINTMENT = (
    r"(?:appointment|appt|meeting|interview|exam|test|deadline|flight|date|class|lesson|shift"
    r"|surgery|operation|check-?up|recital|concert|gig|match|game|party|wedding|trip|presentation"
    r"|call|session|audition|hearing|reservation|booking|conference|vacation|holiday|race"
    r"|marathon|visit|scan|procedure|treatment|training|practice|rehearsal|reunion|dinner|lunch"
    r"|event|ceremony|court\s+date|job\s+interview)s?"
)
# Progressive verbs that announce a plan even with no date ("I'm moving to Berlin").
_PLAN_ING = (
    r"(?:moving|relocating|leaving|quitting|retiring|starting|getting\s+married|emigrating"
    r"|expecting|having\s+a\s+baby)"
)

_COMMITMENT_RULES: list[_Rule] = [
    (
        _rx(r"(?:(?:can|could|would|will)\s+you\s+)?(?:please\s+)?remind\s+me\b"),
        _const("commitment", None, 0.8),
    ),
    (
        _rx(r"""<BE>\s+<ADV>(?:going\s+to|gonna|planning\s+(?:to|on)|about\s+to|intending\s+to
         |hoping\s+to|aiming\s+to|supposed\s+to|scheduled\s+to|determined\s+to|due\s+to
         |meant\s+to|committed\s+to|thinking\s+(?:of|about)\s+\w+ing)\s+\w"""),
        _const("commitment", None, 0.8),
    ),
    (_rx(r"<WILL>\s+<ADV>(?!not\b)\w"), _const("commitment", None, 0.8)),
    (
        _rx(
            r"""<I>(?:'?ve|\s+have)?\s+<ADV>(?:need|have|plan|intend|promised|promise|vowed|swore
            |agreed|decided|ought|mean)\s+to\s+\w"""
        ),
        _const("commitment", None, 0.8),
    ),
    (
        _rx(r"(?:<I>\s+<ADV>(?:must|should|gotta|have\s+got\s+to)|<HAVE>\s+got\s+to|gotta)\s+\w"),
        _const("commitment", None, 0.7),
    ),
    (
        _rx(r"<I>\s+<ADV>(?:might|may)\s+(?:have\s+to|need\s+to|be\s+\w+ing)\s+\w"),
        _const("commitment", None, 0.6),
    ),
    (_rx(r"<I>\s+<ADV>(?:promised|swore|vowed|committed)\b"), _const("commitment", None, 0.8)),
    (
        _rx(
            r"""(?:<I>\s+<ADV>(?:want|hope|aim)\s+to|<I>\s+<ADV>wanna
            |<WOULD>\s+<ADV>(?:like|love)\s+to)\s+\w"""
        ),
        _const("commitment", None, 0.6),
    ),
    (
        _rx(rf"<MY>\s+(?:\w+\s+)?{_GOAL}\s+(?:for\s+[\w\s]+?\s+)?(?:is|was)\s+to\b"),
        _const("commitment", None, 0.7),
    ),
    (
        _rx(rf"""(?:<HAVE>(?:\s+got)?|i\s+got|<BE>\s+having)\s+
         (?:a|an|my|the|another|one|two|\w+'s)\s+(?:[\w'-]+\s+){{0,3}}?{_APPOINTMENT}\b"""),
        _const("commitment", None, 0.8),
    ),
    (
        _rx(
            rf"my\s+(?:[\w'-]+\s+){{0,2}}?{_APPOINTMENT}\s+(?:is|'s)\s+(?:on|at|tomorrow|today"
            rf"|tonight|next|this|in)\b"
        ),
        _const("commitment", None, 0.8),
    ),
    (_rx(rf"<BE>\s+<ADV>{_PLAN_ING}\b"), _const("commitment", None, 0.8)),
]


_PROGRESSIVE = _rx(r"<BE>\s+<ADV>(?!feeling\b|doing\s+(?:ok|okay|well|good|fine)\b)\w+ing\b")


def _progressive_plan(core: str, ctx: _Ctx) -> _Hit | None:
    """ "I'm flying to Rome on Friday": a progressive verb with a future time is a plan."""
    if ctx.future_time and _PROGRESSIVE.match(core):
        return _Hit("commitment", None, 0.8)
    return None
