"""Rules-based memory extraction: candidate memories from one human message, with no model."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, Field

from memory.flags import with_flags
from memory.nodes import Kind

# How it works. A message is split into sentences, sentences into clauses (at "; ", ", and I",
# ", but my", ...). Each clause loses its openers (greetings, "oh and", "I think"), notes whether
# it opens with a correction ("actually,", "no,", "I meant") or an explicit memory request
# ("remember:", "SYSTEM:"), and then meets the rule groups in a fixed order; the first rule that
# matches makes the clause's one candidate. Rules are anchored at the clause's start, so "you are
# funny" or "the weather is nice" match nothing: only first-person statements and statements about
# the speaker's own people count. Questions, greetings, thanks and talk about the assistant are
# skipped before any rule runs. Order matters: plans before past events ("I'm moving" is a plan,
# "I moved" a change), changes before events ("I moved to Porto" sets the residence), and
# preferences before self-facts ("I'm a big fan of jazz" is not a job).


class Candidate(BaseModel):
    """One memory the rules found in a human message, with the verbatim text it came from."""

    kind: Kind
    text: str
    """The clause, verbatim from the message, without openers or trailing punctuation."""
    quote: str
    """The verbatim span of the message the candidate came from (always a substring of it)."""
    subject: str
    """The speaker, a named person, or "<speaker>'s <relation>" for an unnamed relative."""
    slot: str | None = None
    """A single-valued attribute of the subject; a later (subject, slot) supersedes an earlier."""
    importance: float = Field(0.5, ge=0.0, le=1.0)
    valid_from: datetime | None = None
    due: datetime | None = None
    correction: bool = False
    flags: list[str] = Field(default_factory=list)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ---------------------------------------------------------------------------------------------
# Vocabulary shared by the rules. Every pattern is compiled with IGNORECASE | VERBOSE, so spaces
# inside patterns are written \s+ and "<TOKEN>" placeholders are expanded from this table.

_ADVERBS = (
    "really|absolutely|totally|just|also|still|actually|honestly|truly|kind\\s+of|kinda|sort\\s+of"
    "|definitely|genuinely|seriously|literally|so|very|pretty\\s+much|basically|currently|now"
    "|usually|often|always|sometimes|mostly|finally|recently|already|even|only|officially"
    "|probably|both|all|certainly|secretly|quietly|deeply|lowkey|low-key|sadly|unfortunately"
    "|fortunately|luckily|happily|proudly"
)
_REL_WORDS = (
    "best\\s+friend|bestie|bff|friend|boyfriend|girlfriend|husband|wife|hubby|partner|spouse"
    "|fianc[eé]e?|significant\\s+other|other\\s+half|bf|gf|ex(?:-(?:wife|husband|boyfriend"
    "|girlfriend|partner))?|sister(?:-in-law)?|brother(?:-in-law)?|sis|bro|sibling"
    "|mother(?:-in-law)?|father(?:-in-law)?|parent|grandparent|in-laws|folks|mom|mum|mommy"
    "|mummy|mama|dad|daddy|papa|stepmom|stepmum|stepmother|stepdad|stepfather|stepson"
    "|stepdaughter|stepbrother|stepsister"
    "|half-brother|half-sister|son(?:-in-law)?|daughter(?:-in-law)?|kid|child|baby|twin"
    "|grandma|grandmother|granny|nana|grandpa|grandfather|granddad|grandad|grandson"
    "|granddaughter|aunt|auntie|aunty|uncle|cousin|niece|nephew|godmother|godfather|godson"
    "|goddaughter|boss|manager|supervisor|colleague|coworker|co-worker|roommate|flatmate"
    "|housemate|neighbou?r|landlord|landlady|classmate|teammate|mentor|coach|therapist"
    "|teacher|tutor|doctor|pen\\s+pal|buddy|mate|pal"
)
_PARTNER_WORDS = _words(
    """
    boyfriend girlfriend husband wife hubby partner spouse fiance fiancé fiancee fiancée bf gf
    significant other half
    """
)
_PET_WORDS = (
    "dog|doggo|pup|puppy|cat|kitty|kitten|rabbit|bunny|hamster|gerbil|guinea\\s+pig|parrot"
    "|budgie|bird|fish|goldfish|horse|pony|turtle|tortoise|snake|lizard|gecko|ferret|rat|mouse"
    "|chinchilla|hedgehog|chicken|goat|pig"
)
_MONTH = (
    "(?:jan(?:uary)?|feb(?:ruary)?|march|mar|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    "|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_WEEKDAY = "(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "a": 1, "an": 1, "a few": 3, "a couple of": 2, "a couple": 2, "couple of": 2,
    "several": 3,
}  # fmt: skip
_NUM = (
    "(?:\\d{1,3}|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[-\\s](?:one|two"
    "|three|four|five|six|seven|eight|nine))?|one|two|three|four|five|six|seven|eight|nine|ten"
    "|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
)
_COUNT = "(?:\\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a\\s+few" \
    "|a\\s+couple(?:\\s+of)?|couple(?:\\s+of)?|several)"  # fmt: skip

_TOKENS = {
    "I": "(?:i|we)",
    "BE": "(?:i'm|im|i\\s+am|we're|we\\s+are)",
    "HAVE": "(?:i've|ive|i\\s+have|we've|we\\s+have)",
    "WILL": "(?:i'll|i\\s+will|i\\s+shall|we'll|we\\s+will)",
    "WOULD": "(?:i'd|i\\s+would|we'd|we\\s+would)",
    "DONT": "(?:don't|dont|do\\s+not)",
    "ADV": f"(?:(?:{_ADVERBS})\\s+)*",
    "REL": f"(?:{_REL_WORDS})s?",
    "PET": f"(?:{_PET_WORDS})",
    "MONTH": _MONTH,
    "WEEKDAY": _WEEKDAY,
    "NUM": _NUM,
    "COUNT": _COUNT,
    "MY": "(?:my|our)",
}
# A name is capitalised when the writer capitalises at all; an all-lowercase writer's names are
# any word outside a stop list (checked in code), and only one word long.
_NAME_CAP = "(?-i:[A-ZÀ-ÖØ-Þ][\\w'-]*)(?:\\s+(?-i:[A-ZÀ-ÖØ-Þ][\\w'-]*))?"
_NAME_LOWER = "[^\\W\\d_][\\w'-]*"
_NAME_LOOSE = "[^\\W\\d_][\\w'-]*(?:\\s+(?-i:[A-ZÀ-ÖØ-Þ][\\w'-]*))?"
_FLAGS = re.IGNORECASE | re.VERBOSE


def _expand(pattern: str, name: str) -> str:
    return re.sub(r"<([A-Z]+)>", lambda m: name if m[1] == "NAME" else _TOKENS[m[1]], pattern)


class _Pat:
    """A pattern with a capitalised-name and a lowercase-name variant.

    `loose` is for places where only a name can follow ("my name is", "called", "married to"):
    there the first word may be lowercase even in a capitalised message.
    """

    def __init__(self, pattern: str, loose: bool = False) -> None:
        cap = _NAME_LOOSE if loose else _NAME_CAP
        self.cap = re.compile(_expand(pattern, f"(?P<name>{cap})"), _FLAGS)
        self.lower = re.compile(_expand(pattern, f"(?P<name>{_NAME_LOWER})"), _FLAGS)

    def match(self, text: str, lower: bool) -> re.Match[str] | None:
        return (self.lower if lower else self.cap).match(text)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(_expand(pattern, _NAME_LOWER), _FLAGS)


_STOP_NAMES = _words(
    """
    a an the and or but if so to of in on at by for from with about as into onto over under up
    down out off i me my mine myself you your yours u ur he him his she her hers it its they
    them their theirs we us our this that these those who whom whose which what when where why
    how there here is am are was were be been being has have had do does did done can could will
    would shall should may might must not no nope yes yeah yep ok okay sure please thanks thank
    hi hey hello bye lol haha just also still really always never ever now then today tonight
    tomorrow yesterday soon later again already very too quite pretty such only even maybe
    perhaps probably actually basically literally totally honestly finally recently currently
    called named name whatever anything something nothing everything someone anyone everyone
    nobody somebody anybody one two three four five six seven eight nine ten both all each every
    some any many much more most less few new old good great nice best better bad worse worst
    big little small tall short young older younger elder eldest oldest youngest pregnant sick
    ill busy tired happy sad married single divorced engaged retired away gone dead fine well
    crazy annoying amazing awesome cool funny smart kind mean late early right wrong true false
    able sorry glad going getting being doing having coming visiting staying moving working
    living home back over dude bro man mate sir madam babe honey buddy friend guys everybody
    lives works loves likes hates got gets went goes said says hungry bored lonely sleepy angry
    ready curious nervous excited stressed anxious scared upset confused lost stuck free awake
    alive lazy hungover grumpy cold hot warm done alone whenever anytime sometime lucky blessed
    proud exhausted sure okay dr mr mrs ms mx prof sir
    """
)
_ADJECTIVE_END = re.compile(r"(?:ed|ing|ful|ous|ive|able|ible|al|ic|less|ish)$", re.IGNORECASE)


def _name_ok(name: str, lower: bool, strict: bool = False) -> bool:
    """Whether a captured word (or two) reads as a person's name rather than an ordinary word."""
    words = name.split()
    if not words or any(w.casefold() in _STOP_NAMES for w in words):
        return False
    # After "my sister is ..." a lowercase word is as likely an adjective ("pregnant") as a name.
    return not (lower and strict and _ADJECTIVE_END.search(words[0]))


def _display_name(name: str) -> str:
    """A lowercase writer's "ana" is stored as "Ana", so the subject matches a later "Ana"."""
    return name.title() if name.islower() else name


# ---------------------------------------------------------------------------------------------
# Hits: what a rule says about a clause.


@dataclass(frozen=True)
class _Hit:
    kind: Kind
    slot: str | None = None
    importance: float = 0.5
    subject: str | None = None
    """None: the speaker."""
    correction: bool = False


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
_Rule = tuple["_Pat | re.Pattern[str]", _Builder]


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


# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
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
# Group 1 (part): self-facts whose verbs are past tense but whose meaning is a lasting fact; they
# must run before the past-event rules ("I was born in Porto" is not an outing).

_DATEISH = re.compile(rf"\d|\b{_MONTH}\b", re.IGNORECASE)


def _born(m: re.Match[str], _ctx: _Ctx) -> _Hit:
    return _Hit("fact", "birthday" if _DATEISH.search(m["rest"]) else "birthplace", 0.7)


_EARLY_FACT_RULES: list[_Rule] = [
    (_rx(r"(?:i|we)\s+(?:was|were)\s+born\s+(?P<rest>(?:in|on|at|during)\s+\S.*)"), _born),
    (
        _rx(r"<I>(?:\s+was|\s+were|\s+got|\s+have\s+been|'?ve\s+been)\s+<ADV>diagnosed\s+with\b"),
        _const("fact", None, 0.9),
    ),
    (_rx(r"<I>(?:\s+have|'?ve)?\s+<ADV>turned\s+<NUM>\b"), _const("fact", "age", 0.6)),
    (
        _rx(r"<I>\s+(?:originally\s+)?grew\s+up\s+(?:in|on|near|around|outside)\s+\S"),
        _const("fact", "hometown", 0.6),
    ),
    (_rx(r"<I>\s+used\s+to\s+\w"), _const("fact", None, 0.4)),
    (
        _rx(r"<HAVE>\s+<ADV>lived\s+(?:here|there|in|at|near|on)\b"),
        _const("fact", "residence", 0.7),
    ),
    (
        _rx(r"<HAVE>\s+been\s+<ADV>(?:vegan|vegetarian|pescatarian|sober|teetotal)\b"),
        _const("fact", "diet", 0.8),
    ),
    (
        _rx(r"<HAVE>\s+been\s+<ADV>(?:happily\s+)?married\b"),
        _const("fact", "relationship_status", 0.8),
    ),
    (_rx(r"<HAVE>\s+been\s+<ADV>(?:working)\s+(?:at|for)\s+\S"), _const("fact", "workplace", 0.7)),
    (
        _rx(r"<HAVE>\s+been\s+<ADV>(?:living)\s+(?:in|at|near)\s+\S"),
        _const("fact", "residence", 0.7),
    ),
    (
        _rx(
            r"<HAVE>\s+been\s+<ADV>(?:learning|playing|practi[cs]ing|doing|taking|studying"
            r"|training|running|swimming|dancing|painting|writing|singing|knitting|cooking)\s+\w"
        ),
        _const("fact", None, 0.5),
    ),
]


# ---------------------------------------------------------------------------------------------
# Group 4: past events ("yesterday I went to ...", "we got married in 2019", "I just finished
# ...", "my husband and I went to Rome"). A past-tense verb after "I"/"we" at the clause's start.

_IRREGULAR_PAST = (
    "went|gone|came|saw|seen|did|done|had|got|gotten|made|took|taken|met|ran|won|lost|bought"
    "|brought|caught|found|gave|given|left|felt|fell|flew|flown|drove|driven|ate|eaten|drank"
    "|swam|sang|began|begun|broke|broken|wrote|written|spent|sent|sold|told|threw|wore|woke"
    "|sat|stood|slept|built|paid|hurt|kept|led|rode|spoke|spoken|stole|taught|became|become"
    "|heard|held|hid|let|put|quit|split|tore|beat|bit|chose|dug|drew|fed|fought|forgave|froze"
    "|grew|hung|laid|shook|sank|stuck|swept|swung|upset|wept|was|were|read|been\\s+to"
)
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
_LIFE_EVENT = re.compile(
    r"\b(?:married|engaged|divorced|born|graduated|died|passed\s+away|funeral|wedding|promoted"
    r"|fired|retired|pregnant|baby|adopted|broke\s+up|surgery|hospital|accident|diagnosed"
    r"|bought\s+a\s+(?:house|flat|home|apartment)|moved|passed\s+(?:my|the)\s+\w+|graduation)\b",
    re.IGNORECASE,
)
_PRONOUN_ONLY = re.compile(
    r"""^\s*(?:it|that|this|so|too|them|him|her|one)?\s*[.!]*\s*$
    |^\s*(?:a|an|one|another|some)\s+(?:quick\s+|small\s+|random\s+)?(?:question|idea|thought
    |minute|sec|second|moment)s?\b""",
    re.IGNORECASE | re.VERBOSE,
)
_TO_ASSISTANT = re.compile(r"^\s*(?:you|your|yours|u|ur)\b(?!\s+can\s+call\s+me)", re.I)
_MENTIONS_YOU = re.compile(r"\b(?:you|your|yours|u|ur)\b", re.IGNORECASE)
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


# ---------------------------------------------------------------------------------------------
# Group 3: names and relations ("my sister Ana is a doctor", "Tom is my husband", "I have a dog
# called Rex", "my best friend is Leo", "I'm married to Sam"). The subject is the named person; an
# unnamed relative's subject is "<speaker>'s <relation>", so "my mom lives in Leeds" never
# overwrites the speaker's own residence. A partner is single-valued for the speaker, so it is
# the speaker's slot "partner"; any other named relation is that person's slot "relation".

_REL_ADJ = _words(
    """
    older younger little big baby twin best eldest oldest youngest half step new ex late elder
    middle first second
    """
)
_REL_PHRASE = r"(?P<rel>(?:[\w-]+\s+){0,2}?<REL>)"


def _relation(phrase: str) -> str:
    words = phrase.lower().split()
    kept = [w for w in words[:-1] if w in _REL_ADJ]
    return " ".join([*kept, words[-1]])


def _is_partner(rel: str) -> bool:
    words = rel.split()
    return bool(words) and (words[-1] in _PARTNER_WORDS or rel.endswith("other half"))


def _intro(m: re.Match[str], ctx: _Ctx, strict: bool = False) -> _Hit | None:
    """A clause that says who someone is to the speaker."""
    if not _name_ok(m["name"], ctx.lower, strict=strict):
        return None
    if _is_partner(_relation(m["rel"])):
        return _Hit("person", "partner", 0.85)
    return _Hit("person", "relation", 0.8, _display_name(m["name"]))


def _intro_strict(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    """ "my sister is Ana": in lowercase text "my sister is pregnant" must not name her."""
    return _intro(m, ctx, strict=True)


def _partner(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    if not _name_ok(m["name"], ctx.lower):
        return None
    return _Hit("person", "partner", 0.85)


# What the rest of a clause says about a person, as a slot: "is a doctor", "lives in Leeds".
_PRED_SLOTS: list[tuple[re.Pattern[str], str]] = [
    (_rx(r"(?:is|'s|was)\s+(?:now\s+)?<NUM>(?:\s+(?:years?|yrs?)(?:\s+old)?)?\s*$"), "age"),
    (_rx(r"(?:just\s+)?turned\s+<NUM>\b|(?:is|'s)\s+turning\s+<NUM>\b"), "age"),
    (
        _rx(r"(?:lives?|(?:is|are|'s|'re)\s+(?:living|based)|moved)\s+(?:in|at|near|to)\b"),
        "residence",
    ),
    (_rx(r"(?:works?|(?:is|are|'s|'re)\s+working)\s+(?:at|for|in\s+(?:a|an|the))\b"), "workplace"),
    (_rx(r"(?:works?|(?:is|are|'s|'re)\s+working)\s+as\b"), "job"),
    (
        _rx(r"(?:is|'s)\s+(?:married|single|divorced|engaged|widowed|separated)\b"),
        "relationship_status",
    ),
    (_rx(r"(?:is|'s)\s+(?:a\s+)?(?:vegan|vegetarian|pescatarian)\b"), "diet"),
    (_rx(r"(?:studies|is\s+studying|'s\s+studying)\b"), "study"),
    (_rx(r"(?:is|'s|comes)\s+(?:originally\s+)?from\b"), "hometown"),
    (_rx(r"(?:birthday\s+is|'s\s+birthday\s+is|was\s+born\s+on)\b"), "birthday"),
]
_JOB_PRED = _rx(r"(?:is|'s)\s+(?:now\s+)?(?:a|an)\s+(?P<np>[\w'-]+(?:\s+(?!(?:at|for|in|with|from"
                r"|and|but|who|by|on|of|now|too|to)\b)[\w'-]+){0,3})")  # fmt: skip
_HEALTH = re.compile(
    r"\b(?:allerg\w*|intoleran\w*|diabet\w*|asthma\w*|epilep\w*|cancer|surgery"
    r"|in\s+(?:the\s+)?hospital|diagnos\w*|pregnan\w*|medication|insulin|chemo\w*|disorder"
    r"|syndrome|disease|dementia"
    r"|alzheimer'?s|adhd|autis\w*|anxiety|depress\w*|migraine\w*|celiac|coeliac|injur\w*"
    r"|therapy|inhaler|epipen|anaphyla\w*|dialysis|stroke|heart\s+attack|seizure\w*)\b",
    re.IGNORECASE,
)


def _pred_slot(pred: str) -> str | None:
    for pattern, slot in _PRED_SLOTS:
        if pattern.match(pred):
            return slot
    job = _JOB_PRED.match(pred)
    if job is not None and _noun_role(job["np"]) == "job":
        return "job"
    return None


_EVENT_VERB = _rx(rf"<ADV>(?:{_IRREGULAR_PAST}|[a-z]{{2,}}(?<!e)ed)\b")


def _about(subject: str, pred: str, ctx: _Ctx) -> _Hit:
    """A statement about someone in the speaker's life; a dated past one is an event."""
    if ctx.past_time and _EVENT_VERB.match(pred):
        return _Hit("event", None, 0.8 if _LIFE_EVENT.search(pred) else 0.6, subject)
    return _Hit("person", _pred_slot(pred), 0.7, subject)


_VERB_START = (
    r"(?:<ADV>(?:is|are|was|were|has|have|had|'s|'re|does|did|doesn't|didn't|isn't|wasn't"
    r"|aren't|can|can't|could|will|won't|'ll|would|got|gets|went|goes|came|comes|took|takes"
    r"|made|makes|ran|runs|live|work|love|like|hate|own|run|come|go|visit|speak|play|want|need"
    r"|think|say|know|get|make|take|teach|study|call|help|cook|drive|just|turned|turns"
    r"|[a-z]+(?<!s)s|[a-z]{2,}(?<!e)ed)\b)"
)


_GREETING_PRED = _rx(
    r"(?:<ADV>)(?:says|said|sends|sent)\s+(?:hi|hello|hey|thanks|(?:her|his|their)\s+love)\b"
)


def _named_pred(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    if not _name_ok(m["name"], ctx.lower) or _TO_ASSISTANT.match(m["pred"]):
        return None
    if _GREETING_PRED.match(m["pred"]):
        return None
    return _about(_display_name(m["name"]), m["pred"], ctx)


def _unnamed_pred(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    if _TO_ASSISTANT.match(m["pred"]) or _GREETING_PRED.match(m["pred"]):
        return None  # "my mom says hi" is a greeting passed on, not a fact about her
    return _about(f"{ctx.speaker}'s {_relation(m['rel'])}", m["pred"], ctx)


_ATTR_SLOTS = {"birthday": "birthday", "name": "name", "job": "job", "age": "age"}


def _unnamed_attr(m: re.Match[str], ctx: _Ctx) -> _Hit:
    """ "my mom's birthday is June 3": an attribute of an unnamed relative."""
    subject = f"{ctx.speaker}'s {_relation(m['rel'])}"
    return _Hit("person", _ATTR_SLOTS.get(m["attr"].lower()), 0.7, subject)


_CHILD_WORDS = frozenset(
    ["kid", "kids", "child", "children", "baby", "babies", "son", "sons", "daughter", "daughters"]
)


def _have_rel(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    rel = _relation(m["rel"])
    if rel.split()[-1] in _CHILD_WORDS:
        return None  # "I have a son" is the speaker's children count (a fact rule)
    if _is_partner(rel):
        return _Hit("person", "relationship_status", 0.8)
    return _Hit("person", None, 0.7, f"{ctx.speaker}'s {rel}")


def _pet_name(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    if not _name_ok(m["name"], ctx.lower):
        return None
    return _Hit("person", "pet_name", 0.7)


def _pet_pred(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    if not _name_ok(m["name"], ctx.lower):
        return None
    return _Hit("person", _pred_slot(m["pred"]), 0.6, _display_name(m["name"]))


_PERSON_RULES: list[_Rule] = [
    # Introductions: who someone is.
    (_Pat(rf"<MY>\s+{_REL_PHRASE}(?:'s|s)?\s+name(?:'s|\s+is)\s+<NAME>", loose=True), _intro),
    (
        _Pat(rf"<MY>\s+{_REL_PHRASE}(?:\s+is|'s)\s+(?:called|named)\s+<NAME>", loose=True),
        _intro,
    ),
    (_Pat(rf"<NAME>(?:\s+is|'s)\s+<MY>\s+{_REL_PHRASE}\b"), _intro),
    (_Pat(rf"(?:this|that|here)\s+is\s+<MY>\s+{_REL_PHRASE},?\s+<NAME>\b"), _intro),
    (
        _Pat(
            rf"""<HAVE>\s+(?:got\s+)?(?:a|an|one)\s+{_REL_PHRASE}\s+(?:called|named
         |whose\s+name\s+is|by\s+the\s+name\s+of)\s+<NAME>""",
            loose=True,
        ),
        _intro,
    ),
    (_Pat(rf"<MY>\s+{_REL_PHRASE}\s+is\s+<NAME>\s*(?:[,.!]|\s+and\b|$)"), _intro_strict),
    (
        _Pat(
            r"""<BE>\s+<ADV>(?:(?:not|no\s+longer)\s+)?(?:happily\s+)?(?:married|engaged)\s+to
            \s+(?:(?:a|an)\s+(?:\w+\s+)?(?:called|named)\s+)?<NAME>""",
            loose=True,
        ),
        _partner,
    ),
    (
        _Pat(
            r"""<BE>\s+<ADV>(?:(?:not|no\s+longer)\s+)?(?:dating|seeing|going\s+out\s+with
            |in\s+a\s+relationship\s+with|with)\s+(?:a|an|this)\s+(?:\w+\s+){0,2}?(?:called|named)
            \s+<NAME>""",
            loose=True,
        ),
        _partner,
    ),
    (
        _Pat(r"""<BE>\s+<ADV>(?:(?:not|no\s+longer)\s+)?(?:dating|seeing|going\s+out\s+with
         |in\s+a\s+relationship\s+with|together\s+with|with)\s+<NAME>\b"""),
        _partner,
    ),
    # Pets: one named pet is the speaker's pet_name; several are a plain fact about them.
    (
        _Pat(
            r"""<HAVE>\s+(?:got\s+)?(?:a|an|one)\s+(?:[\w-]+\s+){0,2}?<PET>\s+(?:called|named
         |whose\s+name\s+is)\s+<NAME>""",
            loose=True,
        ),
        _pet_name,
    ),
    (
        _Pat(
            r"""<MY>\s+(?:[\w-]+\s+){0,2}?<PET>(?:'s\s+name(?:'s|\s+is)|\s+is\s+(?:called|named)
         |'s\s+called)\s+<NAME>""",
            loose=True,
        ),
        _pet_name,
    ),
    (
        _Pat(
            r"""<HAVE>\s+(?:got\s+)?(?:a|an)\s+(?:[\w-]+\s+){1,3}?(?:called|named)\s+<NAME>""",
            loose=True,
        ),
        _pet_name,
    ),
    (
        _rx(r"""<HAVE>\s+(?:got\s+)?(?:<COUNT>\s+)(?:[\w-]+\s+){0,2}?<PET>s\b"""),
        _const("person", None, 0.6),
    ),
    (_rx(r"one\s+of\s+<MY>\s+<PET>s\b"), _const("person", None, 0.6)),
    (_Pat(r"<MY>\s+(?:[\w-]+\s+){0,2}?<PET>,?\s+<NAME>,?\s+(?P<pred>\S.*)"), _pet_pred),
    (_rx(r"<HAVE>\s+(?:got\s+)?(?:a|an)\s+(?:[\w-]+\s+){0,2}?<PET>\b"), _const("fact", None, 0.6)),
    # Statements about a named or unnamed relative.
    (_Pat(rf"<MY>\s+{_REL_PHRASE},?\s+<NAME>,?\s+(?P<pred>{_VERB_START}.*)"), _named_pred),
    (_Pat(rf"<NAME>,\s+<MY>\s+{_REL_PHRASE},\s+(?P<pred>{_VERB_START}.*)"), _named_pred),
    (
        _rx(rf"""<MY>\s+{_REL_PHRASE}'s\s+(?P<attr>birthday|name|job|age|[\w-]+)
         \s+(?:is|was|'s)\s+\S"""),
        _unnamed_attr,
    ),
    (_rx(rf"<MY>\s+{_REL_PHRASE}\s+(?P<pred>{_VERB_START}.*)"), _unnamed_pred),
    (
        _rx(rf"""<MY>\s+{_REL_PHRASE}(?P<pred>'s\s+(?:a|an|the|not|so|very|really|super|pretty
         |\d|married|single|divorced|engaged|pregnant|retired|allergic|in|at|on|from|still|back
         |been|got|[a-z]+ing|[a-z]+ed)\b.*)"""),
        _unnamed_pred,
    ),
    (
        _rx(rf"""<HAVE>\s+(?:got\s+)?(?:a|an|one)\s+{_REL_PHRASE}\b
         (?!\s+(?:called|named|whose))"""),
        _have_rel,
    ),
]


# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# Group 1: self-statements ("I am a nurse", "I'm 34", "I work at ...", "I live in ...", "I have two
# kids", "I'm allergic to ...", "my name is ...", "call me ...", "I study ...").

_STUDENT = _words(
    """
    student undergrad undergraduate postgrad postgraduate freshman sophomore grad pupil
    candidate phd
    """
)
_FAMILY = _words(
    """
    mother mom mum mama father dad papa parent grandmother grandma granny grandfather grandpa
    grandparent brother sister sibling daughter son twin wife husband aunt uncle newlywed
    """
)
_WIDOW = frozenset({"widow", "widower"})
_TRAIT_NOUNS = _words(
    """
    dreamer worrier overthinker perfectionist optimist pessimist realist
    procrastinator beginner learner lover hater believer sucker quitter talker listener thinker
    member survivor veteran citizen resident patient fan regular customer user introvert
    extrovert ambivert gamer runner jogger swimmer cyclist climber hiker surfer skier
    snowboarder skater knitter golfer reader collector traveler traveller foodie bookworm
    birdwatcher birder camper angler lifter weightlifter boulderer eater drinker sleeper owl
    bird person riser insomniac nerd geek
    """
)
_VAGUE = frozenset(
    ["bit", "little", "tad", "lot", "lil", "while", "second", "minute", "few", "couple"]
)
_SKIP_NOUNS = _words(
    """
    mess idiot joker loser winner genius fool disaster wreck nightmare pain legend liar
    hypocrite robot human
    """
)
_NOT_JOB_ADJ = _words(
    """
    big huge massive total real terrible good great bad decent proud picky fussy heavy light
    early late slow fast avid keen hopeless die-hard lifelong night morning people social
    natural born complete serious casual messy neat absolute
    """
)
_JOB_SUFFIX = re.compile(
    r"(?:er|or|ist|ian|ant|ent|eer|ef|man|woman|wright|smith|nurse|doctor|surgeon|medic|vet|pilot"
    r"|clerk|judge|coach|tutor|cop|model|artist|intern|barista|chef|cook|ceo|cto|cfo|coo|founder"
    r"|lead|analyst|architect|mechanic|nanny|midwife|guard|maid|dentist|athlete|postdoc|priest"
    r"|monk|nun|rabbi|imam|soldier|sailor|paramedic|physio|tailor|academic|scientist|engineer"
    r"|freelancer|temp|assistant|aide|attendant|technician|tech|specialist|professional|ceo"
    r"|dev|rep|exec|executive|officer|programmer|cleaner|carer|caregiver|ranger|therapist)$",
    re.IGNORECASE,
)


def _noun_role(np: str) -> str | None:
    """What "I'm a/an <np>" says: "job", "study", "trait", "family", "relationship_status"."""
    words = np.lower().split()
    head = words[0] if words[0] in _VAGUE else words[-1]
    if head in _VAGUE or head in _SKIP_NOUNS:
        return None  # "I'm a bit tired", "I'm a mess": moods, not facts
    if head in _TRAIT_NOUNS or words[0] in _NOT_JOB_ADJ:
        return "trait"
    if head in _STUDENT:
        return "study"
    if head in _FAMILY:
        return "family"
    if head in _WIDOW:
        return "relationship_status"
    return "job" if _JOB_SUFFIX.search(head) else None


def _a_noun(m: re.Match[str], _ctx: _Ctx) -> _Hit | None:
    role = _noun_role(m["np"])
    if role is None:
        return None
    if role == "trait":
        return _Hit("fact", None, 0.5)
    if role == "family":
        return _Hit("fact", None, 0.7)
    return _Hit("fact", role, 0.8 if role == "relationship_status" else 0.7)


_NAME_SELF = (
    r"(?:my\s+(?:first\s+|full\s+|real\s+|actual\s+)?name(?:'s|\s+is)|(?:you\s+can\s+|please\s+"
    r"|just\s+|feel\s+free\s+to\s+)*call\s+me|<BE>\s+called|<I>\s+go\s+by|the\s+name'?s|"
    r"(?:people|everyone|everybody|my\s+friends|friends|most\s+people)\s+call\s+me)"
)


def _named_self(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    if not _name_ok(m["name"], ctx.lower):
        return None
    return _Hit("fact", "name", 0.9)


_DEMONYM = re.compile(r"(?:ese|ish|ian|ean|ican|ch|i)$", re.IGNORECASE)
_DEMONYMS = _words(
    """
    german greek swiss thai dutch french welsh irish scottish czech cuban moroccan kenyan
    filipino filipina mexican american
    """
)
# Given names that end like demonyms; "I'm Brian" is a name, "I'm Italian" a nationality.
_IAN_NAMES = _words(
    """
    brian julian adrian vivian damian fabian sebastian lillian gillian marian florian cassian
    dorian ian kian rian christian jillian killian kilian
    """
)


def _im_name(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    """ "I'm Sam": a name when introduced; a nationality when it reads like one ("I'm Italian")."""
    name = m["name"]
    word = name.split()[0].lower()
    demonym = word in _DEMONYMS or (
        len(word) >= 4 and _DEMONYM.search(word) is not None and word not in _IAN_NAMES
    )
    if demonym and " " not in name:
        return _Hit("fact", "nationality", 0.6)
    if not _name_ok(name, ctx.lower, strict=True) or (ctx.lower and not ctx.greeted):
        return None
    return _Hit("fact", "name", 0.9)


def _age(m: re.Match[str], _ctx: _Ctx) -> _Hit | None:
    """ "I'm 34": an age only when it is a plausible one ("I'm 500" is a joke, not an age)."""
    n = _parse_number(m["n"])
    return _Hit("fact", "age", 0.6) if n is not None and 0 < n <= 120 else None


def _hobby(m: re.Match[str], _ctx: _Ctx) -> _Hit | None:
    """ "I play the cello" is a hobby; "I read your message" is about this chat."""
    return None if _MENTIONS_YOU.search(m["rest"]) else _Hit("fact", None, 0.5)


_CONDITION = (
    r"(?:diabetes|asthma|adhd|add|autism|anxiety|depression|epilepsy|migraines?|arthritis"
    r"|celiac(?:\s+disease)?|coeliac(?:\s+disease)?|cancer|ibs|crohn'?s(?:\s+disease)?|insomnia"
    r"|eczema|psoriasis|high\s+blood\s+pressure|low\s+blood\s+pressure|hypertension"
    r"|(?:a\s+)?heart\s+condition|heart\s+disease|ptsd|ocd|bipolar(?:\s+disorder)?"
    r"|[\w-]+\s+disorder|[\w-]+\s+syndrome|[\w-]+\s+disease|[a-z]+itis|[a-z]+osis|tinnitus"
    r"|(?:a\s+)?bad\s+(?:back|knee|hip|shoulder)|back\s+pain|chronic\s+pain|chronic\s+fatigue"
    r"|long\s+covid|(?:a\s+)?pacemaker|dyslexia|dyspraxia|fibromyalgia|lupus|hiv|hearing\s+loss"
    r"|endometriosis|sleep\s+apnea|sleep\s+apnoea|vertigo|scoliosis|(?:an?\s+)?[\w-]+\s+allergy"
    r"|(?:[\w-]+\s+)?allergies)"
)
_FACT_RULES: list[_Rule] = [
    # Names.
    (_Pat(rf"{_NAME_SELF}\s+<NAME>", loose=True), _named_self),
    # Age.
    (
        _rx(r"""<BE>\s+<ADV>(?:now\s+)?(?P<n><NUM>)
         (?:\s*(?:years?|yrs?)(?:\s+old|\s+of\s+age)?|\s*y/?o)?
         (?:\s+(?:now|already|this\s+year|today|as\s+of\s+today|btw|by\s+the\s+way|lol|haha
         |tbh|though|actually))*\s*(?:[,.!]|$)"""),
        _age,
    ),
    (
        _rx(r"""<BE>\s+<ADV>(?:in\s+my\s+)?(?:early|mid|late|mid-)?\s*(?:twenties|thirties|forties
         |fifties|sixties|seventies|eighties|nineties|teens|[2-9]0s)\b"""),
        _const("fact", "age", 0.6),
    ),
    (_rx(r"my\s+age\s+is\s+<NUM>\b"), _const("fact", "age", 0.6)),
    (_rx(r"my\s+birthday(?:\s+is|'s)\s+\S"), _const("fact", "birthday", 0.8)),
    # Health: allergies, conditions, medication. Multi-valued, always important.
    (
        _rx(r"""<BE>\s+<ADV>(?:severely\s+|deathly\s+|very\s+|mildly\s+|slightly\s+|a\s+bit\s+
         |badly\s+|super\s+|extremely\s+)?allergic\s+to\s+\S"""),
        _const("fact", None, 0.9),
    ),
    (
        _rx(r"""(?:<BE>\s+<ADV>(?:lactose|gluten|fructose|histamine|dairy)[-\s]intolerant
         |<HAVE>\s+(?:got\s+)?(?:a\s+|an\s+)?(?:lactose|gluten|dairy)\s+intolerance)"""),
        _const("fact", None, 0.9),
    ),
    (
        _rx(r"""<BE>\s+<ADV>(?:diabetic|asthmatic|epileptic|autistic|dyslexic|pregnant|deaf
         |hard\s+of\s+hearing|blind|colou?r[-\s]?blind|disabled|celiac|coeliac|anemic|anaemic
         |bipolar|immunocompromised|in\s+remission|on\s+(?:medication|meds|insulin
         |antidepressants|chemo|dialysis|blood\s+thinners|the\s+pill|\w+\s+for\s+my)
         |in\s+recovery|recovering\s+from|(?:a\s+)?type\s+[12]\s+diabetic|expecting)\b"""),
        _const("fact", None, 0.9),
    ),
    (
        _rx(rf"""<HAVE>\s+(?:got\s+)?(?:(?:a|an|type\s+[12]|chronic|severe|mild|bad|terrible
         |really\s+bad|high-functioning)\s+)*{_CONDITION}\b"""),
        _const("fact", None, 0.9),
    ),
    (_rx(r"<I>\s+<ADV>(?:suffer|struggle)\s+(?:from|with)\s+\S"), _const("fact", None, 0.8)),
    (
        _rx(r"""<I>\s+<ADV>(?:take|am\s+taking|'m\s+taking|use|need)\s+(?:[\w-]+\s+){0,3}?
         (?:medication|meds|pills|insulin|an\s+inhaler|inhaler|an\s+epipen|epipen
         |antidepressants|tablets|for\s+my)\b"""),
        _const("fact", None, 0.9),
    ),
    (
        _rx(r"""<I>\s+<ADV>(?:can't|cannot|can\s+not|shouldn't|must\s+not|mustn't)\s+
         (?:eat|drink|have|digest|tolerate)\s+\S"""),
        _const("fact", None, 0.85),
    ),
    # Diet.
    (
        _rx(r"""<BE>\s+<ADV>(?:(?:not|no\s+longer)\s+)?(?:a\s+|an\s+)?(?:strict\s+|full\s+|mostly\s+
         |practicing\s+)?(?:vegan|vegetarian|veggie|pescatarian|pescetarian|flexitarian
         |carnivore|plant-based|teetotal|teetotaler|teetotaller|keto|paleo|gluten[-\s]free
         |dairy[-\s]free|sugar[-\s]free|sober)\b"""),
        _const("fact", "diet", 0.8),
    ),
    (
        _rx(r"""<I>\s+<ADV>(?:<DONT>|no\s+longer|never|can't|won't)\s+<ADV>(?:eat|drink|touch)\s+
         (?:any\s+)?(?:meat|pork|beef|fish|seafood|dairy|gluten|sugar|alcohol|booze|eggs
         |animal\s+products|red\s+meat|carbs|caffeine|coffee|chicken|shellfish)\b"""),
        _const("fact", "diet", 0.8),
    ),
    (
        _rx(
            r"""<I>\s+<ADV>(?:<DONT>|no\s+longer|never)\s+drink
            \s*(?:$|[,.!]|alcohol|anymore|at\s+all)"""
        ),
        _const("fact", "diet", 0.8),
    ),
    (
        _rx(r"""(?:<I>\s+<ADV>(?:eat|keep|follow|stick\s+to)|<BE>\s+<ADV>on)\s+(?:a\s+|an\s+)?
         (?:strictly\s+|mostly\s+)?(?:vegan|vegetarian|plant-based|kosher|halal|keto|paleo
         |low-carb|low\s+carb|gluten-free|dairy-free|mediterranean|low-fodmap|whole-food)\b"""),
        _const("fact", "diet", 0.8),
    ),
    (_rx(r"<BE>\s+<ADV>on\s+(?:a|the)\s+(?:[\w-]+\s+)?diet\b"), _const("fact", "diet", 0.7)),
    # Relationship status.
    (
        _rx(r"""<BE>\s+<ADV>(?:(?:not|no\s+longer)\s+)?(?:happily\s+|newly\s+|recently\s+)?
         (?:married|single|divorced|engaged|widowed|separated|in\s+a\s+(?:[\w-]+\s+)?relationship
         |taken|dating\s+someone|seeing\s+someone|a\s+widow(?:er)?|newlyweds?)\b"""),
        _const("fact", "relationship_status", 0.8),
    ),
    # Religion.
    (
        _rx(r"""<BE>\s+<ADV>(?:a\s+|an\s+)?(?:practi[cs]ing\s+|devout\s+|lapsed\s+
         |non-practi[cs]ing\s+)?
         (?:christian|catholic|protestant|muslim|jewish|buddhist|hindu|sikh|mormon|atheist
         |agnostic|pagan|quaker|baptist|methodist|lutheran|evangelical)\b"""),
        _const("fact", "religion", 0.6),
    ),
    # Children and siblings.
    (
        _rx(r"""<HAVE>\s+(?:got\s+)?(?:<COUNT>|no|twins?)\s+(?:[\w-]+\s+)?(?:kids|children|sons
         |daughters|boys|girls|babies|grandkids|grandchildren|stepkids|stepchildren|little\s+ones
         |twins|kid|child)\b"""),
        _const("fact", "children", 0.8),
    ),
    (
        _rx(r"""<I>\s+<DONT>\s+have\s+(?:any\s+)?(?:kids|children)\b"""),
        _const("fact", "children", 0.8),
    ),
    (
        _rx(
            r"<BE>\s+<ADV>(?:a\s+)?(?:mom|mum|mother|dad|father|parent|grandma|grandpa|grandmother"
            r"|grandfather|grandparent)\s+(?:of|to)\s+\S"
        ),
        _const("fact", "children", 0.8),
    ),
    (
        _rx(r"""<HAVE>\s+(?:got\s+)?(?:<COUNT>|no)\s+(?:[\w-]+\s+)?(?:brothers|sisters|siblings
         |brother|sister|sibling)\b"""),
        _const("fact", "siblings", 0.7),
    ),
    (_rx(r"<BE>\s+<ADV>(?:an\s+)?only\s+child\b"), _const("fact", "siblings", 0.7)),
    (
        _rx(r"<I>\s+<DONT>\s+have\s+(?:any\s+)?(?:siblings|brothers|sisters)\b"),
        _const("fact", "siblings", 0.7),
    ),
    # Study.
    (
        _rx(r"""(?:<I>\s+<ADV>(?:study|major|minor)|<BE>\s+<ADV>(?:studying|majoring|minoring))
         \s+(?:in\s+)?\S"""),
        _const("fact", "study", 0.7),
    ),
    (
        _rx(r"""<BE>\s+<ADV>(?:doing|taking|pursuing|working\s+on|finishing|in\s+the\s+middle\s+of)
         \s+(?:a|an|my)\s+(?:[\w'-]+\s+){0,2}?(?:degree|phd|masters?|master's|bachelor'?s|ba|bsc
         |msc|mba|diploma|course|doctorate|thesis|dissertation|apprenticeship|residency
         |bootcamp|certificate|certification)\b"""),
        _const("fact", "study", 0.7),
    ),
    (
        _rx(r"""<BE>\s+<ADV>in\s+(?:my\s+)?(?:first|second|third|fourth|final|last|1st|2nd|3rd|4th)
         \s+year\b"""),
        _const("fact", "study", 0.7),
    ),
    (
        _rx(r"""<I>\s+<ADV>(?:go\s+to|attend)\s+(?:school|college|university|uni|high\s+school
         |grad\s+school|law\s+school|med\s+school|medical\s+school|night\s+school|[A-Z]\w+
         \s+(?:university|college))\b"""),
        _const("fact", "study", 0.7),
    ),
    # Job and workplace.
    (
        _rx(r"""<BE>\s+<ADV>(?:(?:not|no\s+longer)\s+)?(?:now\s+|currently\s+)?
         (?:working\s+as\s+|employed\s+as\s+)?(?:a|an)\s+(?P<np>[\w'-]+(?:\s+(?!(?:at|for|in
         |with|from|and|but|who|by|since|on|of|here|there|now|anymore|any|too|as|to|because|so
         |when|while|that|which|living|working|based|myself|though|haha|lol)\b)[\w'-]+){0,3})"""),
        _a_noun,
    ),
    (
        _rx(r"""<I>\s+<ADV>(?:(?:<DONT>|no\s+longer)\s+)?<ADV>(?:work|am\s+working|'m\s+working)
         \s+as\b"""),
        _const("fact", "job", 0.7),
    ),
    (
        # "my job is a nurse's job" is rare; "my job is stressful" is common and not a job.
        _rx(r"""my\s+(?:job|profession|occupation|role|job\s+title|title)\s+(?:is|'s)\s+
            (?:a\b|an\b|as\b|in\b|being\b|working\b|(?-i:[A-Z]))"""),
        _const("fact", "job", 0.7),
    ),
    (
        _rx(r"""<BE>\s+<ADV>(?:(?:not|no\s+longer)\s+)?(?:retired|unemployed|self-employed|freelance
         |freelancing|between\s+jobs|out\s+of\s+work|jobless|a\s+stay-at-home\s+\w+
         |a\s+full-time\s+(?:mom|mum|dad|parent)|on\s+maternity\s+leave
         |on\s+paternity\s+leave)\b"""),
        _const("fact", "job", 0.7),
    ),
    (
        _rx(r"<I>\s+<ADV>(?:do|teach|practi[cs]e)\s+[\w\s-]{1,30}?\s+for\s+a\s+living\b"),
        _const("fact", "job", 0.7),
    ),
    (_rx(r"<I>\s+<ADV>teach\s+\S"), _const("fact", "job", 0.7)),
    (
        _rx(r"""<I>\s+<ADV>(?:(?:<DONT>|no\s+longer)\s+)?<ADV>(?:work|am\s+working|'m\s+working)
         (?:\s+(?:nights|days|weekends|evenings|mornings|shifts|part[-\s]time|full[-\s]time))?
         \s+(?:at|for|in\s+(?:a|an|the)|from\s+home|remotely|from\s+an?\s+)\b"""),
        _const("fact", "workplace", 0.7),
    ),
    (_rx(r"<BE>\s+<ADV>(?:employed|hired)\s+(?:at|by)\s+\S"), _const("fact", "workplace", 0.7)),
    (
        _rx(r"""<I>\s+<ADV>(?:run|own|manage)\s+(?:my\s+own|a|an|our\s+own|our)\s+
         (?:[\w-]+\s+){0,2}?
         (?:business|company|shop|store|restaurant|bakery|cafe|café|firm|practice|startup|studio
         |salon|bar|farm|clinic|agency)\b"""),
        _const("fact", "workplace", 0.7),
    ),
    (
        _rx(r"<I>\s+<ADV>(?:(?:<DONT>|no\s+longer)\s+)?work\s+in\s+(?!(?:a|an|the)\b)\w"),
        _const("fact", "job", 0.7),
    ),
    # Where they live and come from.
    (
        _rx(r"""<I>\s+<ADV>(?:(?:<DONT>|no\s+longer)\s+)?<ADV>(?:live|am\s+living|'m\s+living
         |reside|stay)\s+(?:in|at|near|on|outside(?:\s+of)?|by|just\s+outside(?:\s+of)?
         |close\s+to|right\s+by|next\s+to)\s+\S"""),
        _const("fact", "residence", 0.7),
    ),
    (
        _rx(r"""<BE>\s+<ADV>(?:(?:not|no\s+longer)\s+)?(?:currently\s+|now\s+)?(?:based|living
         |located|settled)\s+(?:in|at|out\s+of|near)\s+\S"""),
        _const("fact", "residence", 0.7),
    ),
    (
        _rx(r"(?:my\s+home\s+is|home\s+is\s+(?:now\s+)?in)\s+\S"),
        _const("fact", "residence", 0.7),
    ),
    (
        _rx(
            r"""<I>\s+<ADV>(?:(?:<DONT>|no\s+longer)\s+)?live
            \s+(?:with|alone|by\s+myself|on\s+my\s+own)\b"""
        ),
        _const("fact", None, 0.6),
    ),
    (_rx(r"<BE>\s+<ADV>(?:originally\s+)?from\s+\S"), _const("fact", "hometown", 0.6)),
    (
        _rx(r"<I>\s+<ADV>(?:originally\s+)?(?:come|hail)\s+from\s+\S"),
        _const("fact", "hometown", 0.6),
    ),
    # Traits, languages, hobbies, belongings.
    (
        _rx(r"""<BE>\s+<ADV>(?:a\s+|an\s+)?(?:introvert|extrovert|ambivert|introverted|extroverted
         |left-handed|right-handed|ambidextrous|bilingual|trilingual|multilingual|night\s+owl
         |early\s+bird|early\s+riser|morning\s+person|night\s+person|neurodivergent|shy
         |(?:afraid|scared|terrified)\s+of\s+\S+|a\s+twin)\b"""),
        _const("fact", None, 0.5),
    ),
    (
        _rx(r"(?:<I>\s+<ADV>speak|<BE>\s+<ADV>fluent\s+in|<I>\s+<ADV>can\s+speak)\s+\S"),
        _const("fact", None, 0.5),
    ),
    (
        _rx(r"""<I>\s+<ADV>(?:play|run|swim|cycle|bike|hike|knit|crochet|paint|draw|sing|dance|bake
         |garden|climb|surf|ski|snowboard|skate|meditate|volunteer|practi[cs]e|collect|sew|fish
         |box|golf|row|jog|lift|train|journal|blog|stream|code|brew|foster|coach|referee|read
         |write|cook|sculpt|quilt|skateboard)\b(?P<rest>.*)"""),
        _hobby,
    ),
    (
        _rx(r"""<I>\s+<ADV>go\s+(?:to\s+the\s+gym|running|hiking|swimming|climbing|bouldering
         |cycling|fishing|camping|dancing|surfing|skiing|bowling|jogging|to\s+church|to\s+yoga
         |to\s+(?:the\s+)?(?:pool|mosque|temple|synagogue|choir|therapy))\b"""),
        _const("fact", None, 0.5),
    ),
    (
        _rx(r"""<I>\s+<ADV>(?:work\s+out|do\s+(?:yoga|pilates|crossfit|karate|judo|jiu[-\s]jitsu
         |taekwondo|ballet|tai\s+chi|crosswords|puzzles|triathlons|marathons))\b"""),
        _const("fact", None, 0.5),
    ),
    (_rx(r"<BE>\s+<ADV>learning\s+(?:to\s+)?\S"), _const("fact", None, 0.5)),
    (
        _rx(r"""(?:<I>\s+<ADV>(?:own|drive|ride)\s+(?:a|an|two|my)\s+\S|<HAVE>\s+(?:got\s+)?(?:a|an)
         \s+(?:[\w'-]+\s+){0,2}?(?:car|bike|motorbike|motorcycle|house|flat|apartment|boat
         |garden|allotment|tattoo|tattoos|degree|phd|masters?|master's|bachelor's|doctorate
         |diploma|scar|van|truck|camper|cabin)\b)"""),
        _const("fact", None, 0.4),
    ),
    # "I'm Sam" / "I'm Italian" last: only a bare capitalised word.
    (_Pat(r"<BE>\s+<NAME>\s*(?:[,.!]|$|\s+and\b|\s+by\s+the\s+way|\s+btw\b|\s+here\b)"), _im_name),
    (_Pat(r"<NAME>\s+here\s*[.!]*\s*$"), _im_name),
]


# ---------------------------------------------------------------------------------------------
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
    |random\s+but|so\s+yeah|anyhow|fwiw|for\s+what\s+it'?s\s+worth|side\s+note
    |by\s+the\s+by|incidentally|basically|sadly|unfortunately|luckily|fortunately|funnily\s+enough
    |believe\s+it\s+or\s+not|as\s+it\s+happens|in\s+fact|also,?\s+fyi)\b[\s,:;!.\-\u2013\u2014]*"""
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
_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]]*(?=\s)|\n+")
_CLAUSE_BREAK = _rx(
    r"""\s*;\s*|\s+[-\u2013\u2014]+\s+
    |\s*(?:,\s*)?\b(?:and|but|so|plus|and\s+also|but\s+also)\s+
     (?=(?:i|i'm|im|i've|ive|i'd|i'll|we|we're|we've|we'll|my|our|actually)\b)
    |\s*,\s*(?=(?:i|i'm|im|i've|ive|i'd|i'll|we|we're|we've|we'll|my|our)\b)
    |\s*,\s*(?=(?:do|does|did|is|are|can|could|would|will|should|what|how|why|where|who|when
     |which|isn't|aren't|don't|right|you|any)\b)"""
)
# A comma or "and" only splits when what came before is a clause in its own right: "my husband
# and I went" stays whole, "I'm 34 and I work as a nurse" splits.
_FINITE = _rx(r"\b(?:i|im|we|is|are|was|were|am|has|have|had)\b|'(?:m|s|re|ve|ll|d)\b")


def _sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if m.group().startswith(".") and len(m.group()) == 1:
            before = text[start : m.start()].split()
            word = before[-1].lower().rstrip(".") if before else ""
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


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
# Dates: explicit and relative expressions, resolved against the message's timestamp. Past
# kinds look back ("on Monday" = the last Monday), commitments look ahead (the next Monday).

_Resolver = Callable[[re.Match[str], date, bool], "date | None"]
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _add_months(d: date, months: int) -> date:
    year, month = divmod(d.month - 1 + months, 12)
    last = calendar.monthrange(d.year + year, month + 1)[1]
    return date(d.year + year, month + 1, min(d.day, last))


def _count(word: str) -> int | None:
    word = " ".join(word.lower().split())
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word)


def _parse_number(word: str) -> int | None:
    """ "34", "thirty-four", "thirty four" -> 34."""
    parts = word.lower().replace("-", " ").split()
    if len(parts) == 1:
        return int(parts[0]) if parts[0].isdigit() else _NUMBER_WORDS.get(parts[0])
    tens, ones = (_NUMBER_WORDS.get(p) for p in parts[:2])
    return tens + ones if tens is not None and ones is not None else None


def _shift(today: date, n: int, unit: str) -> date:
    unit = unit.lower().rstrip("s")
    if unit == "day":
        return today + timedelta(days=n)
    if unit == "week":
        return today + timedelta(weeks=n)
    if unit == "month":
        return _add_months(today, n)
    return _add_months(today, 12 * n)


def _month_number(word: str) -> int:
    return next(
        i
        for i, name in enumerate(calendar.month_name)
        if i and name.lower().startswith(word[:3].lower())
    )


def _on_date(day: int, month: int, year: int | None, today: date, future: bool) -> date | None:
    try:
        if year is not None:
            return date(year, month, day)
        d = date(today.year, month, day)
        if future and d < today:
            return date(today.year + 1, month, day)
        if not future and d > today:
            return date(today.year - 1, month, day)
        return d
    except ValueError:
        return None


def _nth(day: int, today: date, future: bool) -> date | None:
    """ "on the 20th": this month's 20th, or the next (or last) month's if that is the reading."""
    base = today.replace(day=1)
    for months in (0, 1 if future else -1):
        month = _add_months(base, months)
        d = _on_date(day, month.month, month.year, today, future)
        if d is not None and (d >= today if future else d <= today):
            return d
    return None


def _in_month(month: int, year: int | None, today: date, future: bool) -> date:
    if year is not None:
        return date(year, month, 1)
    if future:
        return date(today.year if month >= today.month else today.year + 1, month, 1)
    return date(today.year if month <= today.month else today.year - 1, month, 1)


def _weekday(wd: int, today: date, future: bool, this: bool = False) -> date:
    if future:
        ahead = (wd - today.weekday()) % 7
        return today + timedelta(days=ahead if this or ahead else 7)
    back = (today.weekday() - wd) % 7
    return today - timedelta(days=back or 7)


_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}


def _season(name: str, which: str, today: date) -> date:
    month = _SEASONS[name.lower()]
    starts = [date(y, month, 1) for y in range(today.year - 2, today.year + 2)]
    if which == "next":
        return next(s for s in starts if s > today)
    if which == "last":
        return [s for s in starts if _add_months(s, 3) <= today][-1]
    current = [s for s in starts if s <= today < _add_months(s, 3)]
    return current[0] if current else next(s for s in starts if s > today)


def _relative_unit(which: str, unit: str, today: date, future: bool) -> date:
    which = which.lower().split()[-1]
    if which == "coming":
        which, future = "this", True
    which = "last" if which == "past" else which
    step = {"last": -1, "next": 1, "this": 0}[which]
    unit = unit.lower()
    if unit in _SEASONS:
        return _season(unit, which, today)
    if unit.endswith("day") and unit != "day":
        wd = _WEEKDAYS.index(unit)
        return _weekday(wd, today, step > 0 or (step == 0 and future), this=step == 0)
    monday = today - timedelta(days=today.weekday())
    if unit == "weekend":
        saturday = monday + timedelta(days=5)
        return saturday + timedelta(weeks=step)
    if unit == "week":
        return today if step == 0 and future else monday + timedelta(weeks=step)
    if unit == "month":
        first = today.replace(day=1)
        return today if step == 0 and future else _add_months(first, step)
    return today if step == 0 and future else date(today.year + step, 1, 1)


_RELATIVE_DAYS = {
    "the day before yesterday": -2, "the day after tomorrow": 2, "yesterday": -1, "today": 0,
    "tonight": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1, "last night": -1, "this morning": 0,
    "this afternoon": 0, "this evening": 0, "earlier today": 0, "later today": 0, "right now": 0,
    "just now": 0,
}  # fmt: skip


def _year(m: re.Match[str], key: str) -> int | None:
    value = m.groupdict().get(key)
    return int(value) if value else None


_DATE_RULES: list[tuple[re.Pattern[str], _Resolver]] = [
    (
        _rx(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b"),
        lambda m, t, f: _on_date(int(m["d"]), int(m["m"]), int(m["y"]), t, f),
    ),
    (
        _rx(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m><MONTH>)\b(?:,?\s+(?P<y>\d{4}))?"),
        lambda m, t, f: _on_date(int(m["d"]), _month_number(m["m"]), _year(m, "y"), t, f),
    ),
    (
        _rx(r"\b(?P<m><MONTH>)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?!:)(?:,?\s+(?P<y>\d{4}))?"),
        lambda m, t, f: _on_date(int(m["d"]), _month_number(m["m"]), _year(m, "y"), t, f),
    ),
    (
        _rx(r"\b(?:on|by|until|before|from)\s+the\s+(?P<d>\d{1,2})(?:st|nd|rd|th)\b(?!\s+of\b)"),
        lambda m, t, f: _nth(int(m["d"]), t, f),
    ),
    (
        _rx(r"""\b(?P<w>last|next|this)\s+(?P<m><MONTH>)\b"""),
        lambda m, t, f: _in_month(
            _month_number(m["m"]),
            None,
            t,
            m["w"].lower() == "next" or (m["w"].lower() == "this" and f),
        ),
    ),
    (
        _rx(r"""\b(?:in|since|during|until|by|of|early|late|mid|end\s+of|beginning\s+of|back\s+in
         |around|from)\s+(?P<m><MONTH>)\b(?:\s+(?P<y>\d{4}))?"""),
        lambda m, t, f: _in_month(_month_number(m["m"]), _year(m, "y"), t, f),
    ),
    (
        _rx(r"\b(?P<m><MONTH>)\s+(?P<y>\d{4})\b"),
        lambda m, t, f: _in_month(_month_number(m["m"]), _year(m, "y"), t, f),
    ),
    (
        _rx(r"""\b(?:in|since|during|until|by|of|back\s+in|around|from|circa|born)\s+
         (?P<y>(?:19|20)\d{2})\b"""),
        lambda m, t, f: date(int(m["y"]), 1, 1),
    ),
    (
        _rx(r"""\b(?P<r>the\s+day\s+before\s+yesterday|the\s+day\s+after\s+tomorrow|yesterday|today
         |tonight|tomorrow|tmrw|tmr|last\s+night|this\s+(?:morning|afternoon|evening)
         |earlier\s+today|later\s+today|right\s+now|just\s+now)\b"""),
        lambda m, t, f: t + timedelta(days=_RELATIVE_DAYS[" ".join(m["r"].lower().split())]),
    ),
    (
        _rx(rf"""\b(?P<w>last|this\s+coming|this\s+past|this|next|coming|past)\s+
         (?P<u>week|weekend|month|year|summer|winter|spring|autumn|fall|{_WEEKDAY})\b"""),
        lambda m, t, f: _relative_unit(m["w"], m["u"], t, f),
    ),
    (_rx(r"\b(?:over|at|on)\s+the\s+weekend\b"), lambda m, t, f: _weekday(5, t, f, this=True)),
    (
        _rx(rf"\b(?:on\s+)?(?P<wd>{_WEEKDAY})(?!s)\b"),
        lambda m, t, f: _weekday(_WEEKDAYS.index(m["wd"].lower()), t, f),
    ),
    (
        _rx(r"""\b(?P<n><COUNT>)\s+(?P<u>day|week|month|year)s?\s+
         (?P<dir>ago|back|earlier|from\s+now|later|from\s+today)\b"""),
        lambda m, t, f: _shift_count(
            m, t, -1 if m["dir"].lower() in ("ago", "back", "earlier") else 1
        ),
    ),
    (
        _rx(r"\b(?:in|within)\s+(?P<n><COUNT>)\s+(?P<u>day|week|month|year)s?\b"),
        lambda m, t, f: _shift_count(m, t, 1) if f else None,
    ),
    (
        _rx(r"""\bfor\s+(?:the\s+(?:past|last)\s+)?(?P<n><COUNT>)\s+(?P<u>day|week|month|year)s?
         \b(?!\s+(?:from|later))"""),
        lambda m, t, f: None if f else _shift_count(m, t, -1),
    ),
]


def _shift_count(m: re.Match[str], today: date, sign: int) -> date | None:
    n = _count(m["n"])
    return None if n is None else _shift(today, sign * n, m["u"])


_CLOCK = _rx(
    r"""\b(?:at|around|by|before|after|from)\s+(?P<h>\d{1,2})(?::(?P<mi>\d{2}))?\s*
    (?P<ap>am|pm|a\.m\.|p\.m\.)?(?!\s*(?:years?|kids|people|%))\b|\b(?P<noon>noon|midday)\b"""
)
_JUST = _rx(rf"<I>(?:'?ve|\s+have)?\s+just\s+(?:[a-z]+ed|{_IRREGULAR_PAST}|turned)\b")


def _clock(text: str) -> time | None:
    m = _CLOCK.search(text)
    if m is None:
        return None
    if m["noon"]:
        return time(12, 0)
    hour, minute = int(m["h"]), int(m["mi"] or 0)
    ap = (m["ap"] or "").lower().replace(".", "")
    if ap == "pm" and hour < 12:
        hour += 12
    elif ap == "am" and hour == 12:
        hour = 0
    elif not ap and m["mi"] is None:
        return None  # "by 5" alone is too ambiguous to be a time
    return time(hour, minute) if hour < 24 and minute < 60 else None


def _find_date(text: str, today: date, future: bool) -> tuple[int, date] | None:
    best: tuple[int, date] | None = None
    for pattern, resolve in _DATE_RULES:
        for m in pattern.finditer(text):
            if best is not None and m.start() >= best[0]:
                break
            d = resolve(m, today, future)
            if d is not None:
                best = (m.start(), d)
                break
    return best


def resolve_when(text: str, when: datetime, *, future: bool) -> datetime | None:
    """The date (and time of day, if stated) a clause names, relative to `when`; None if none.

    `future` picks the reading of ambiguous expressions: "on Monday" is the coming Monday for a
    plan and the last Monday for an event. Dates are at midnight in `when`'s timezone.
    """
    today = when.date()
    found = _find_date(text, today, future)
    clock = _clock(text)
    if found is None and clock is None:
        if not future and _JUST.search(text):
            return datetime.combine(today, time(), when.tzinfo)
        return None
    day = found[1] if found else today
    if found is None and clock is not None and future and clock <= when.time():
        day += timedelta(days=1)
    return datetime.combine(day, clock or time(), when.tzinfo)


_FUTURE_HINT = _rx(
    rf"""\b(?:tomorrow|tmrw|tonight|later\s+today|this\s+(?:evening|afternoon|weekend|coming)
    |next\s+\w+|coming\s+\w+|on\s+{_WEEKDAY}|{_WEEKDAY}|in\s+<COUNT>\s+(?:day|week|month|year)s?
    |<COUNT>\s+(?:day|week|month|year)s?\s+from\s+now|later|soon|at\s+\d|the\s+day\s+after
    |in\s+<MONTH>|on\s+the\s+\d|(?:on\s+)?<MONTH>\s+\d|\d{{4}}-\d{{2}}-\d{{2}})\b"""
)
_PAST_HINT = _rx(
    rf"""\b(?:yesterday|last\s+\w+|ago|this\s+(?:morning|past)|earlier\s+today|in\s+(?:19|20)\d\d
    |back\s+in|over\s+the\s+weekend|on\s+{_WEEKDAY}|the\s+other\s+day|in\s+<MONTH>|<MONTH>\s+\d
    |\d{{4}}-\d{{2}}-\d{{2}})\b"""
)


# ---------------------------------------------------------------------------------------------
# Putting it together.


# "my wife and I", "Mark and I", "me and my sister": a "we" for every rule.
_AND_I = _rx(
    r"""(?:<MY>\s+)?[\w' -]{1,40}?\s+and\s+(?:i|me)\b
    |me\s+and\s+<MY>\s+[\w' -]{1,30}?
     (?=\s+(?:are|were|have|had|went|got|just|will|'re|'ll|[a-z]+ed)\b)"""
)
# Ages reached in the future are facts with a future start, not plans.
_FUTURE_AGE = _rx(r"(?:<WILL>\s+<ADV>be|<BE>\s+<ADV>turning)\s+<NUM>(?:\s+years\s+old)?\b")


def _classify(core: str, ctx: _Ctx) -> _Hit | None:
    """The clause's one candidate kind, or None: plans, changes, events, people, likes, facts."""
    if _CHAT_PLAN.match(core):
        return None
    together = _AND_I.match(core)
    if together is not None and not core.lower().startswith(("i ", "i'")):
        core = "we" + core[together.end() :]
    if _FUTURE_AGE.match(core):
        return _Hit("fact", "age", 0.6)
    hit = _run(_COMMITMENT_RULES, core, ctx) or _progressive_plan(core, ctx)
    if hit is not None:
        return hit
    hit = _run(_CHANGE_RULES, core, ctx) or _run(_EARLY_FACT_RULES, core, ctx)
    if hit is not None:
        return hit
    hit = _enjoyed_event(core, ctx) or _event(core, ctx)
    if hit is not None:
        return hit
    return (
        _run(_PERSON_RULES, core, ctx)
        or _run(_PREFERENCE_RULES, core, ctx)
        or _run(_FACT_RULES, core, ctx)
    )


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


def _cleaned(core: str) -> tuple[str, bool]:
    """The clause without "not X but" / ", not X" contrasts, and whether it had one."""
    cleaned = _NOT_BUT.sub("", core)
    if cleaned == core:
        cleaned = _ISNT_ITS.sub(" is ", core)
    if cleaned == core:
        cleaned = _COMMA_NOT.sub("", core)
    return cleaned, cleaned != core


_EMPTY_RESTATEMENT = _rx(r"(?:that|it|this|so|already|too|nothing|something|yes|no)\b")
# A clause longer than this is pasted material, not something said about oneself; skipping it
# keeps a huge paste from becoming a huge memory.
_MAX_CLAUSE = 500


def _candidate(
    message: str, norm: str, c: _Clause, speaker: str, when: datetime, lower: bool, greeted: bool
) -> Candidate | None:
    qs, qe = _trimmed(message, c.start, c.end)
    ts, te = _trimmed(message, c.body, c.end)
    if te - ts > _MAX_CLAUSE:
        return None
    raw = norm[c.start : c.end].rstrip()
    if ts >= te:
        return None
    body = norm[ts:te]
    # Classification works on a copy: offsets are never taken from it, so it may change length.
    core = _apostrophes(body[_lead_time_end(body) :])
    remind = _REMIND.match(core) is not None
    asked = raw.endswith("?") and not c.rhetorical
    if not remind and (asked or _QUESTION.match(core) or _TO_ASSISTANT.match(core)):
        return None
    cleaned, contrast = _cleaned(core)
    ctx = _Ctx(
        speaker,
        lower,
        greeted,
        future_time=_FUTURE_HINT.search(body) is not None,
        past_time=_PAST_HINT.search(body) is not None,
    )
    hit = _classify(cleaned, ctx)
    if hit is None and c.explicit is not None:
        # "remember: ..." is stored whatever it says (flagged if it reads as an order), and the
        # memory text keeps the request so the user sees exactly what was asked.
        ts, hit = c.explicit, _Hit("fact", None, 0.7)
    elif hit is None and c.restated and not _EMPTY_RESTATEMENT.match(core):
        # "I meant Porto, not Lisbon": a correction whose meaning needs the earlier turn.
        hit = _Hit("fact", None, 0.6, correction=True)
    if hit is None:
        return None
    hit = replace(hit, correction=_corrects(c, hit, body, core, contrast))
    return _build(message, (qs, qe), (ts, te), hit, speaker, when)


def _corrects(c: _Clause, hit: _Hit, body: str, core: str, contrast: bool) -> bool:
    """Whether the clause corrects or updates something said before."""
    if c.correction or hit.correction or _STOPPED.search(body) is not None:
        return True
    # "now", "these days", "X, not Y" and "I actually ..." update a slot; without one they are
    # just talk ("I'm going to Paris now").
    return hit.slot is not None and (
        contrast or _CHANGE_CUE.search(body) is not None or _ACTUALLY.match(core) is not None
    )


def _lead_time_end(body: str) -> int:
    m = _TIME_LEAD.match(body)
    return m.end() if m is not None and m.end() < len(body) else 0


def _build(
    message: str,
    quote: tuple[int, int],
    span: tuple[int, int],
    hit: _Hit,
    speaker: str,
    when: datetime,
) -> Candidate:
    text = message[span[0] : span[1]]
    quoted = message[quote[0] : quote[1]]
    future = hit.kind == "commitment"
    resolved = resolve_when(text, when, future=future)
    importance = hit.importance
    if hit.correction:
        importance = max(importance, 0.7)
    if hit.kind != "preference" and _HEALTH.search(text):
        importance = max(importance, 0.9)
    return Candidate(
        kind=hit.kind,
        text=text,
        quote=quoted,
        subject=hit.subject or speaker,
        slot=hit.slot,
        importance=importance,
        valid_from=None if future else resolved,
        due=resolved if future else None,
        correction=hit.correction,
        flags=with_flags(text, with_flags(quoted, [])),
    )


_NORMAL = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'",
                         "\u201c": '"', "\u201d": '"', "\u00a0": " "})  # fmt: skip


def _dedupe(candidates: list[Candidate]) -> list[Candidate]:
    """One candidate per text, and per (subject, slot) the message's last word on it."""
    out: list[Candidate] = []
    for cand in candidates:
        if any(c.text.casefold() == cand.text.casefold() for c in out):
            continue
        if cand.slot is not None:
            same = [c for c in out if (c.subject, c.slot) == (cand.subject, cand.slot)]
            for old in same:
                out.remove(old)
            if same:
                cand = cand.model_copy(update={"correction": True})
        out.append(cand)
    return out


def extract(text: str, *, speaker: str, when: datetime) -> list[Candidate]:
    """Candidates from one human message. Sentence-split, then match rules per sentence."""
    # Typographic quotes become plain ones; the translation is one character for one, so offsets
    # found in the normalised text slice the original verbatim.
    norm = text.translate(_NORMAL)
    lower = not any(ch.isupper() for ch in norm)
    greeted = _GREETING.match(norm) is not None or _NICE_TO_MEET.search(norm) is not None
    found: list[Candidate] = []
    for s_start, s_end in _sentences(norm):
        for start, end in _clauses(norm, s_start, s_end):
            clause = _Clause(start, end, start)
            _strip_openers(norm, clause)
            cand = _candidate(text, norm, clause, speaker, when, lower, greeted)
            if cand is not None:
                found.append(cand)
    return _dedupe(found)
