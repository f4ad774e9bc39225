"""Self-statements: name, age, health, diet, relationships, family, study, job, home, hobbies."""

from __future__ import annotations

import re

from agent.learn.extract.dates import _parse_number
from agent.learn.extract.roles import _noun_role
from agent.learn.extract.rules import _const, _Ctx, _Hit, _Rule
from agent.learn.extract.vocabulary import (
    _MENTIONS_YOU,
    _MONTH,
    _display_name,
    _name_ok,
    _Pat,
    _rx,
    _words,
)

# Group 1: self-statements ("I am a nurse", "I'm 34", "I work at ...", "I live in ...", "I have two
# kids", "I'm allergic to ...", "my name is ...", "call me ...", "I study ...").
# Two lists: _EARLY_FACT_RULES run before the event rules, _FACT_RULES after every other group.


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
# The self-statements proper, checked last (after people and preferences).


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
    return _Hit("fact", "name", 0.9, value=_display_name(m["name"]))


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
    return _Hit("fact", "name", 0.9, value=_display_name(name))


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
