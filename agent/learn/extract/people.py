"""People in the speaker's life: relatives, partners, pets, their names and what they do."""

from __future__ import annotations

import re
from dataclasses import replace

from agent.learn.extract.roles import _noun_role
from agent.learn.extract.rules import _const, _Ctx, _Hit, _Rule
from agent.learn.extract.vocabulary import (
    _IRREGULAR_PAST,
    _LIFE_EVENT,
    _MENTIONS_YOU,
    _TO_ASSISTANT,
    _display_name,
    _name_ok,
    _Pat,
    _Rx,
    _rx,
    _words,
)

# Group 3: names and relations ("my sister Ana is a doctor", "Tom is my husband", "I have a dog
# called Rex", "my best friend is Leo", "I'm married to Sam"). The subject is the named person; an
# unnamed relative's subject is "<speaker>'s <relation>", so "my mom lives in Leeds" never
# overwrites the speaker's own residence. A partner is single-valued for the speaker, so it is
# the speaker's slot "partner"; any other named relation is that person's slot "relation".

_PARTNER_WORDS = _words(
    """
    boyfriend girlfriend husband wife hubby partner spouse fiance fiancé fiancee fiancée bf gf
    significant other half
    """
)
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
    rel, name = _relation(m["rel"]), _display_name(m["name"])
    if _is_partner(rel):
        return _Hit("person", "partner", 0.85, value=name, relation=rel)
    return _Hit("person", "relation", 0.8, name, relation=rel, text=f"{name} is {{person}}'s {rel}")


def _intro_strict(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    """ "my sister is Ana": in lowercase text "my sister is pregnant" must not name her."""
    return _intro(m, ctx, strict=True)


def _partner(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    if not _name_ok(m["name"], ctx.lower):
        return None
    return _Hit("person", "partner", 0.85)


# What the rest of a clause says about a person, as a slot: "is a doctor", "lives in Leeds".
_PRED_SLOTS: list[tuple[_Rx, str]] = [
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
    hit = _about(_display_name(m["name"]), m["pred"], ctx)
    return replace(hit, relation=_relation(m["rel"]))


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


def _a(words: str) -> str:
    return f"an {words}" if words[:1].lower() in "aeiou" else f"a {words}"


def _pet_name(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    """ "I have a grey tabby cat called Biscuit": the pet is the subject, its looks its text."""
    if not _name_ok(m["name"], ctx.lower):
        return None
    name, pet = _display_name(m["name"]), " ".join(m["pet"].lower().split())
    looks = " ".join(m["looks"].split())
    text = (
        f"{{person}}'s {pet} {name} is {_a(looks)}"
        if looks
        else f"{{person}}'s {pet} is called {name}"
    )
    return _Hit("pet", "name", 0.7, name, value=name, relation=pet, text=text)


def _named_thing(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    """ "I have a car called Betsy": something of theirs with a name (not a person, nor a pet)."""
    if not _name_ok(m["name"], ctx.lower):
        return None
    return _Hit("fact", None, 0.6)


def _pet_pred(m: re.Match[str], ctx: _Ctx) -> _Hit | None:
    if not _name_ok(m["name"], ctx.lower):
        return None
    pet = " ".join(m["pet"].lower().split())
    return _Hit("pet", _pred_slot(m["pred"]), 0.6, _display_name(m["name"]), relation=pet)


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
            r"""<HAVE>\s+(?:got\s+)?(?:a|an|one)\s+(?P<looks>(?:[\w-]+\s+){0,3}?)(?P<pet><PET>)
         \s+(?:called|named|whose\s+name\s+is)\s+<NAME>""",
            loose=True,
        ),
        _pet_name,
    ),
    (
        _Pat(
            r"""<MY>\s+(?P<looks>(?:[\w-]+\s+){0,3}?)(?P<pet><PET>)(?:'s\s+name(?:'s|\s+is)
         |\s+is\s+(?:called|named)|'s\s+called)\s+<NAME>""",
            loose=True,
        ),
        _pet_name,
    ),
    (
        _Pat(
            r"""<HAVE>\s+(?:got\s+)?(?:a|an)\s+(?:[\w-]+\s+){1,3}?(?:called|named)\s+<NAME>""",
            loose=True,
        ),
        _named_thing,
    ),
    (
        _rx(r"""<HAVE>\s+(?:got\s+)?(?:<COUNT>\s+)(?:[\w-]+\s+){0,2}?<PET>s\b"""),
        _const("pet", None, 0.6),
    ),
    (_rx(r"one\s+of\s+<MY>\s+<PET>s\b"), _const("pet", None, 0.6)),
    (
        _Pat(r"<MY>\s+(?:[\w-]+\s+){0,2}?(?P<pet><PET>),?\s+<NAME>,?\s+(?P<pred>\S.*)"),
        _pet_pred,
    ),
    (_rx(r"<HAVE>\s+(?:got\s+)?(?:a|an)\s+(?:[\w-]+\s+){0,2}?<PET>\b"), _const("pet", None, 0.6)),
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


# Named relatives mentioned inside any clause ("I'm visiting my sister Anjali on Saturday"): the
# clause is about the visit, and it also says who Anjali is, which deserves a memory of its own.
_MENTIONED = _Pat(rf"\b<MY>\s+{_REL_PHRASE},?\s+<NAME>\b(?!'s)")


def mentioned_relations(core: str, ctx: _Ctx) -> list[tuple[str, str]]:
    """(name, relation) for each "my <relation> <Name>" inside the clause."""
    pattern = _MENTIONED.lower if ctx.lower else _MENTIONED.cap
    found: list[tuple[str, str]] = []
    for m in pattern.finditer(core):
        first = m["name"].split()[0].casefold()
        if first == "i" or first.startswith("i'") or not _name_ok(m["name"], ctx.lower, True):
            continue
        if not _is_partner(_relation(m["rel"])):
            found.append((_display_name(m["name"]), _relation(m["rel"])))
    return found


def relation_hit(name: str, rel: str) -> _Hit:
    return _Hit("person", "relation", 0.8, name, relation=rel, text=f"{name} is {{person}}'s {rel}")


# "He's 4", "she lives in Leeds": a clause about whoever the message just named.
_PRONOUN_PRED = _rx(rf"(?:he|she)\s*(?P<pred>{_VERB_START}.*)")


def pronoun_about(core: str, ctx: _Ctx, name: str, pet: bool) -> _Hit | None:
    """A clause opening with he or she, about `name` (a pet when `pet`), named just before."""
    m = _PRONOUN_PRED.match(core)
    if m is None or _MENTIONS_YOU.search(m["pred"]) or _GREETING_PRED.match(m["pred"]):
        return None
    hit = _about(name, m["pred"], ctx)
    return replace(hit, kind="pet", importance=0.6) if pet and hit.kind == "person" else hit
