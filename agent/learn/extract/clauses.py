"""Clauses: sentence and clause splitting, openers, hedges, questions, the core the rules read."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.learn.extract.vocabulary import _MONTH, _WEEKDAY, _rx, _words
from memory.text import sentence_spans

# Clause preparation: openers, corrections, explicit memory requests, hedges, questions.

_OPENER = _rx(
    r"""(?:(?:hi|hey|hello|hiya|howdy|yo|heya|greetings|good\s+(?:morning|afternoon|evening|day)
    |morning|evening)(?:\s+there)?(?:\s+[\w']+(?=\s*[,!.]))?
    |oh\s+and|oh\s+also|and\s+also|oh|ah+|well|so|ok|okay|alright|all\s+right|right|also|and|but
    |plus|anyway|anyways|btw|by\s+the\s+way|fyi|for\s+the\s+record|just\s+so\s+you\s+know|jsyk
    |fun\s+fact|haha+|hah|lol|lmao|hmm+|um+|uh+|er+m*|yeah|yes|yep|yup|sure|honestly|tbh
    |to\s+be\s+honest|frankly|guess\s+what|you\s+know\s+what|you\s+know|listen|look|thanks
    |thank\s+you|ty|thx|cool|nice|great|awesome|wow|oh\s+wow|omg|oh\s+my\s+god|ugh|yay|hooray
    |speaking\s+of\s+which|that\s+reminds\s+me|on\s+another\s+note|in\s+other\s+news
    |random\s+but|so\s+yeah|anyhow|fwiw|for\s+what\s+it'?s\s+worth|side\s+note|sorry
    |by\s+the\s+by|incidentally|basically|sadly|unfortunately|luckily|fortunately|funnily\s+enough
    |believe\s+it\s+or\s+not|as\s+it\s+happens|in\s+fact|also,?\s+fyi|(?:the\s+)?thing\s+is)\b[\s,:;!.\-\u2013\u2014]*"""
)
_GREETING = _rx(
    r"\s*(?:hi|hey|hello|hiya|howdy|yo|heya|greetings|good\s+(?:morning|afternoon|evening|day))\b"
)
_NICE_TO_MEET = _rx(r"\b(?:nice|pleased|good|great)\s+to\s+meet\s+you\b")
_CORRECTION = _rx(
    r"""(?:(?:actually|nope|no|nah|oops|whoops|correction|wait|hold\s+on|scratch\s+that
    |let\s+me\s+correct\s+(?:that|myself)|to\s+clarify|to\s+be\s+clear|i\s+misspoke|my\s+bad
    |i\s+was\s+wrong|i\s+lied|not\s+quite|sorry,?\s+(?:i\s+mean|correction|no|actually)
    |that's\s+(?:wrong|not\s+right|not\s+true|outdated|old\s+news|not\s+correct)
    |that\s+(?:was|is)\s+(?:wrong|outdated)|small\s+correction|quick\s+correction)
    \b[\s,:;!.\-\u2013\u2014]*)+"""
)
_RESTATE = _rx(
    r"""(?:no,?\s+|sorry,?\s+)?(?:what\s+)?i\s+(?:meant|said|mean\s+to\s+say|meant\s+to\s+say
    |wanted\s+to\s+say|should\s+have\s+said)(?:\s+was)?(?:\s+that)?[\s,:]*"""
)
_EXPLICIT = _rx(
    r"""(?:system|assistant|developer|admin|root|instructions?|memory|note)\s*:\s*
    |(?:(?:and|also|oh|hey)\s+)*(?:(?:please|pls|plz)\s+)?(?:remember|memori[sz]e
    |make\s+a\s+note|take\s+note|keep\s+in\s+mind|don't\s+forget|do\s+not\s+forget
    |never\s+forget|store|save|write\s+down|note\s+down|log)(?:\s+(?:this|that|the\s+following))?
    (?:\s*[:,\-\u2013\u2014]\s*|\s+that\s+)
    |(?:please|pls|plz)\s+(?:remember|memori[sz]e|note|keep\s+in\s+mind|don't\s+forget)\s+"""
)
_HEDGE = _rx(
    r"""(?:i\s+think|i\s+guess|i\s+suppose|i\s+believe|i\s+feel\s+like|i\s+reckon|i\s+mean
    |i\s+must\s+admit|i\s+have\s+to\s+(?:say|admit)|i\s+gotta\s+(?:say|admit)
    |i\s+should\s+(?:say|mention|tell\s+you)|i\s+(?:wanted|want)\s+to\s+(?:say|tell\s+you
    |let\s+you\s+know|mention|share|update\s+you)|let\s+me\s+tell\s+you|i\s+have\s+to\s+tell\s+you
    |i\s+can\s+tell\s+you|i\s+forgot\s+to\s+(?:mention|tell\s+you|say)|i\s+never\s+told\s+you
    |i\s+don't\s+think\s+i\s+(?:told|mentioned)(?:\s+(?:to\s+)?you)?|did\s+i\s+(?:tell|mention)
    (?:\s+(?:to\s+)?you)?|i\s+(?:just\s+)?realized|i\s+(?:just\s+)?realised|i'm\s+pretty\s+sure
    |i'm\s+sure|i\s+admit|it\s+turns\s+out|turns\s+out|i'm\s+happy\s+to\s+say|i'm\s+proud\s+to\s+say
    |i'm\s+excited\s+to\s+say|i'm\s+sad\s+to\s+say|you\s+should\s+know|just\s+so\s+you\s+know
    |i\s+should\s+mention)(?:\s+that)?\b[\s,:]*"""
)
_QUESTION = _rx(
    r"""(?:do|does|did|is|are|was|were|can|could|would|will|should|shall|has|have|had|am|isn't
    |aren't|doesn't|didn't|won't|wouldn't|can't|couldn't|shouldn't|don't)\s+(?:you|u|i|we|it
    |they|he|she|there|that|this|anyone|someone|anybody|somebody|your|my)\b
    |(?:what|who|whom|whose|where|when|why|how|which)(?:'s|'re|\s+(?:do|does|did|is|are|was
    |were|can|could|would|will|should|shall|has|have|had|am|about|else|kind|sort|type|much|many
    |long|often|come)\b)
    |(?:whats|hows|wanna\s+know|any\s+idea|tell\s+me|explain|describe|help\s+me|show\s+me
    |let's|let\s+us|i\s+wonder|i\s+was\s+wondering)\b"""
)
_REMIND = _rx(r"(?:(?:can|could|would|will)\s+you\s+)?(?:please\s+)?remind\s+me\b")
_TIME_LEAD = _rx(
    rf"""(?:(?:earlier|later)\s+)?(?:the\s+day\s+(?:before\s+yesterday|after\s+tomorrow)
    |yesterday(?:\s+(?:morning|afternoon|evening|night))?|today
    |tonight|tomorrow(?:\s+(?:morning|afternoon|evening|night))?|last\s+night|this\s+(?:morning
    |afternoon|evening|week|weekend|month|year)|(?:last|next|this\s+coming|this\s+past|this
    |coming)\s+(?:week|weekend|month|year|summer|winter|spring|autumn|fall|{_WEEKDAY})
    |(?:on\s+)?{_WEEKDAY}(?:\s+(?:morning|afternoon|evening|night))?|over\s+the\s+weekend
    |at\s+the\s+weekend|on\s+the\s+weekend|the\s+other\s+day|recently|lately|back\s+in\s+\d{{4}}
    |in\s+\d{{4}}|in\s+{_MONTH}(?:\s+\d{{4}})?|<COUNT>\s+(?:day|week|month|year)s?\s+ago
    |after\s+work|after\s+school|from\s+now\s+on|this\s+past\s+\w+|earlier|right\s+now
    |these\s+days|nowadays
    |at\s+the\s+moment|currently|now|soon|later|someday|one\s+day|eventually|next\s+time
    |in\s+<COUNT>\s+(?:day|week|month|year)s?)\b[\s,]*"""
)
_TRAIL = re.compile(
    r"(?:\s*(?::-?[)(DPp/|]|;-?\)|<3|xd|x+o+|[\U0001F000-\U0001FFFF\u2600-\u27BF\uFE0F])"
    r"|[\s.,;:!?…\-\u2013\u2014])+$"
)


@dataclass
class _Clause:
    """One clause of the message: offsets into it and what its openers said."""

    start: int
    end: int
    body: int
    """Where the clause's content starts, after openers and markers."""
    correction: bool = False
    explicit: int | None = None
    """Where an explicit memory request ("remember:", "SYSTEM:") started, if there was one."""
    restated: bool = False
    rhetorical: bool = False
    """Opened with "did I tell you": its question mark does not make it a question."""


def _strip_openers(text: str, c: _Clause) -> None:
    """Move c.body past greetings, fillers, correction markers, memory requests and hedges."""
    while c.body < c.end:
        chunk = text[c.body : c.end]
        for pattern in (_OPENER, _CORRECTION, _RESTATE, _EXPLICIT, _HEDGE):
            m = pattern.match(chunk)
            if m is not None and m.end() > 0 and m.end() < len(chunk):
                if pattern is _CORRECTION:
                    c.correction = True
                elif pattern is _RESTATE:
                    c.correction = c.restated = True
                elif pattern is _EXPLICIT and c.explicit is None:
                    c.explicit = c.body
                elif pattern is _HEDGE and chunk[: m.end()].lower().startswith("did"):
                    c.rhetorical = True
                c.body += m.end()
                break
        else:
            return


# ---------------------------------------------------------------------------------------------
# Sentence and clause splitting, with offsets so quotes stay verbatim.

_ABBREVIATIONS = _words(
    """
    dr mr mrs ms mx st jr sr prof vs etc eg ie e.g i.e approx dept est no mt ft ave rd a.m p.m
    u.s u.k
    """
)
_CLAUSE_BREAK = _rx(
    r"""\s*;\s*|\s+[-\u2013\u2014]+\s+
    |\s*(?:,\s*)?\b(?:and|but|so|plus|and\s+also|but\s+also)\s+
     (?=(?:i|i'm|im|i've|ive|i'd|i'll|we|we're|we've|we'll|my|our|actually|he|she|he's|she's)\b)
    |\s*,\s*(?=(?:i|i'm|im|i've|ive|i'd|i'll|we|we're|we've|we'll|my|our)\b)
    |\s*,\s*(?=(?:do|does|did|is|are|can|could|would|will|should|what|how|why|where|who|when
     |which|isn't|aren't|don't|right|you|any)\b)"""
)
# A comma or "and" only splits when what came before is a clause in its own right: "my husband
# and I went" stays whole, "I'm 34 and I work as a nurse" splits.
_FINITE = _rx(r"\b(?:i|im|we|is|are|was|were|am|has|have|had)\b|'(?:m|s|re|ve|ll|d)\b")


# An emoticon or emoji followed by a capital ends a sentence as a full stop would: "My name is
# Priya, not Raju :) I work as a nurse" is two statements.
_SMILEY_END = re.compile(
    r"(?<=\S)\s+(?::-?[)(DPp/|]|;-?\)|<3|[\U0001F000-\U0001FFFF\u2600-\u27BF]\uFE0F?)+"
    r"(?=\s+[A-Z])"
)


def _sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for start, end in sentence_spans(text, closing_marks=True, abbreviations=_ABBREVIATIONS):
        for m in _SMILEY_END.finditer(text, start, end):
            spans.append((start, m.end()))
            start = m.end()
            while start < end and text[start].isspace():
                start += 1
        spans.append((start, end))
    return [(s, e) for s, e in spans if s < e]


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    last = scanned = start
    finite = False
    for m in _CLAUSE_BREAK.finditer(text, start, end):
        # Only the text since the previous break is new: scanning it once keeps this linear.
        finite = finite or _FINITE.search(text, scanned, m.start()) is not None
        scanned = m.end()
        hard = any(ch in m.group() for ch in ";-\u2013\u2014")
        if hard or finite:
            spans.append((last, m.start()))
            last = m.end()
            finite = False
    spans.append((last, end))
    # Leading spaces would hide an opener such as "Actually," from the anchored patterns.
    spans = [(s + len(text[s:e]) - len(text[s:e].lstrip()), e) for s, e in spans]
    return [(s, e) for s, e in spans if s < e]


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding spaces, trailing punctuation, emoticons or emoji."""
    while start < end and text[start].isspace():
        start += 1
    m = _TRAIL.search(text, start, end)
    if m is not None and m.end() == end:
        end = m.start()
    return start, end


# ---------------------------------------------------------------------------------------------
# The core the rules read: no leading time phrase ("yesterday, ..."), apostrophes restored.


def _lead_time_end(body: str) -> int:
    m = _TIME_LEAD.match(body)
    return m.end() if m is not None and m.end() < len(body) else 0


_BARE_CONTRACTION = re.compile(
    r"\b(?:(?P<nt>can|don|doesn|didn|won|isn|aren|wasn|weren|haven|hasn|couldn|shouldn|wouldn)t"
    r"|(?P<i>i)(?P<im>m|ve)|(?P<wh>that|what|it)s)\b",
    re.IGNORECASE,
)


def _apostrophes(text: str) -> str:
    """ "cant", "dont", "im", "ive", "whats" as "can't", "don't", "i'm", "i've", "what's"."""

    def fix(m: re.Match[str]) -> str:
        if m["nt"]:
            return f"{m['nt']}'t"
        if m["i"]:
            return f"{m['i']}'{m['im']}"
        return f"{m['wh']}'s"

    return _BARE_CONTRACTION.sub(fix, text)
