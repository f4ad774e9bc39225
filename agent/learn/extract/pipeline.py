"""The pipeline: extract() splits a message into clauses, classifies each, builds Candidates."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from agent.learn.extract.about import about_named, about_person
from agent.learn.extract.candidate import Candidate
from agent.learn.extract.changes import _CHANGE_RULES, _EMPTY_RESTATEMENT, _cleaned, _corrects
from agent.learn.extract.clauses import (
    _GREETING,
    _NICE_TO_MEET,
    _QUESTION,
    _REMIND,
    _apostrophes,
    _Clause,
    _clauses,
    _lead_time_end,
    _sentences,
    _strip_openers,
    _trimmed,
)
from agent.learn.extract.dates import _FUTURE_HINT, _PAST_HINT, resolve_when
from agent.learn.extract.events import _enjoyed_event, _event
from agent.learn.extract.feelings import _FEELING_RULES
from agent.learn.extract.identity import _EARLY_FACT_RULES, _FACT_RULES
from agent.learn.extract.people import (
    _PERSON_RULES,
    mentioned_relations,
    pronoun_about,
    relation_hit,
)
from agent.learn.extract.plans import _CHAT_PLAN, _COMMITMENT_RULES, _progressive_plan
from agent.learn.extract.preferences import _PREFERENCE_RULES
from agent.learn.extract.rules import _Ctx, _Hit, _run
from agent.learn.extract.vocabulary import _TO_ASSISTANT, _rx
from memory.graph.flags import SENSITIVE, with_flags
from memory.text import APOSTROPHE_LIKE, straighten_apostrophes

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
#
# Where each part lives: clauses.py splits the message and prepares each clause; the rule groups,
# in the order _classify runs them, are plans.py, changes.py, identity.py (_EARLY_FACT_RULES),
# events.py, people.py, preferences.py and identity.py (_FACT_RULES); dates.py resolves dates;
# vocabulary.py, rules.py and roles.py ("I'm a/an <noun>") are what they share; candidate.py is
# what comes out.


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
    hit = _run(_FEELING_RULES, core, ctx)
    if hit is not None:
        return hit
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


# A clause longer than this is pasted material, not something said about oneself; skipping it
# keeps a huge paste from becoming a huge memory.
_MAX_CLAUSE = 500


@dataclass
class _Story:
    """What the message has said so far that later clauses lean on."""

    referent: str
    """How memory text names the speaker: their name once known, else "the person"."""
    named: tuple[str, bool] | None = None
    """The last person (or pet, when True) the message named: "he" and "she" mean them."""


_PRONOUN_START = re.compile(r"(?:he|she)\b", re.IGNORECASE)


def _candidates(
    message: str,
    norm: str,
    c: _Clause,
    speaker: str,
    when: datetime,
    lower: bool,
    greeted: bool,
    story: _Story,
) -> list[Candidate]:
    qs, qe = _trimmed(message, c.start, c.end)
    ts, te = _trimmed(message, c.body, c.end)
    if te - ts > _MAX_CLAUSE:
        return []
    raw = norm[c.start : c.end].rstrip()
    if ts >= te:
        return []
    body = norm[ts:te]
    # Classification works on a copy: offsets are never taken from it, so it may change length.
    core = _apostrophes(body[_lead_time_end(body) :])
    remind = _REMIND.match(core) is not None
    asked = raw.endswith("?") and not c.rhetorical
    if not remind and (asked or _QUESTION.match(core) or _TO_ASSISTANT.match(core)):
        return []
    cleaned, contrast = _cleaned(core)
    ctx = _Ctx(
        speaker,
        lower,
        greeted,
        future_time=_FUTURE_HINT.search(body) is not None,
        past_time=_PAST_HINT.search(body) is not None,
    )
    hit = _classify(cleaned, ctx)
    named = story.named
    pronoun = named is not None and _PRONOUN_START.match(cleaned) is not None
    if pronoun and named is not None and (hit is None or hit.subject is None):
        hit = pronoun_about(cleaned, ctx, *named) or hit
    verbatim = False
    if hit is None and c.explicit is not None:
        # "remember: ..." is stored whatever it says (flagged if it reads as an order), and the
        # memory text keeps the request so the user sees exactly what was asked.
        ts, hit, verbatim = c.explicit, _Hit("fact", None, 0.7), True
    elif hit is None and c.restated and not _EMPTY_RESTATEMENT.match(core):
        # "I meant Porto, not Lisbon": a correction whose meaning needs the earlier turn.
        hit = _Hit("fact", None, 0.6, correction=True)
    found: list[Candidate] = []
    if hit is not None:
        hit = replace(hit, correction=_corrects(c, hit, body, core, contrast))
        if hit.slot == "name" and hit.value is not None and hit.subject is None:
            story.referent = hit.value
        if verbatim:
            text = message[ts:te]
        elif hit.text is not None:
            text = hit.text.format(person=story.referent)
        elif hit.slot == "name" and hit.value is not None and hit.subject is None:
            text = f"The person's name is {hit.value}"
        else:
            # Said about the person, not in their voice; a contrast ("X, not Y") leaves only
            # what is true, and the quote keeps the words as they were said.
            said = _cleaned(_apostrophes(message[ts:te]))[0]
            text = (
                about_named(said, hit.subject, story.referent)
                if pronoun and hit.subject is not None and named is not None
                else about_person(said, story.referent)
            )
            if hit.subject is None and story.referent.casefold() not in text.casefold():
                # "Nothing beats a good curry": whose view it is must be in the text too.
                text = f"{story.referent[:1].upper()}{story.referent[1:]} says: {text}"
        found.append(_build(message, (qs, qe), text, hit, speaker, when))
        if hit.subject is not None and "'s " not in hit.subject:
            story.named = (hit.subject, hit.kind == "pet")
    for name, rel in mentioned_relations(cleaned, ctx):
        if hit is None or hit.subject != name:
            rel_hit = relation_hit(name, rel)
            text = (rel_hit.text or "").format(person=story.referent)
            found.append(_build(message, (qs, qe), text, rel_hit, speaker, when, dated=False))
            story.named = (name, False)
    return found


_HEALTH = re.compile(
    r"\b(?:allerg\w*|intoleran\w*|diabet\w*|asthma\w*|epilep\w*|cancer|surgery"
    r"|in\s+(?:the\s+)?hospital|diagnos\w*|pregnan\w*|medication|insulin|chemo\w*|disorder"
    r"|syndrome|disease|dementia"
    r"|alzheimer'?s|adhd|autis\w*|anxiety|depress\w*|migraine\w*|celiac|coeliac|injur\w*"
    r"|therapy|inhaler|epipen|anaphyla\w*|dialysis|stroke|heart\s+attack|seizure\w*)\b",
    re.IGNORECASE,
)


def _build(
    message: str,
    quote: tuple[int, int],
    text: str,
    hit: _Hit,
    speaker: str,
    when: datetime,
    *,
    dated: bool = True,
) -> Candidate:
    """`dated`: the clause's date is this memory's (not for a relative it only mentions)."""
    quoted = message[quote[0] : quote[1]]
    future = hit.kind == "commitment"
    resolved = resolve_when(quoted, when, future=future) if dated else None
    importance = hit.importance
    if hit.correction:
        importance = max(importance, 0.7)
    if hit.kind != "preference" and _HEALTH.search(quoted):
        importance = max(importance, 0.9)
    flags = [SENSITIVE] if hit.kind == "feeling" else []
    return Candidate(
        kind=hit.kind,
        text=text,
        quote=quoted,
        subject=hit.subject or speaker,
        slot=hit.slot,
        value=hit.value,
        relation=hit.relation,
        importance=importance,
        valid_from=None if future else (resolved or (when if hit.kind == "feeling" else None)),
        due=resolved if future else None,
        correction=hit.correction,
        flags=with_flags(text, with_flags(quoted, flags)),
    )


_NORMAL = str.maketrans({"\u201c": '"', "\u201d": '"', "\u00a0": " "})


def plain(text: str) -> str:
    """Typographic quotes and apostrophes made plain, one character for one: offsets found in
    the result slice the original verbatim."""
    return straighten_apostrophes(text, APOSTROPHE_LIKE).translate(_NORMAL)


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


# How memory text names a speaker who is not (yet) known by name.
UNNAMED = "the person"
# Speaker labels that are not names: the default chat.user_name, and the store's own word.
NOT_A_NAME = frozenset({"", "you", "user", "me", "i"})


def referent(speaker: str) -> str:
    """How memory text names the speaker: by `speaker` when it is a name, else "the person"."""
    return UNNAMED if speaker.strip().casefold() in NOT_A_NAME else speaker


def extract(text: str, *, speaker: str, when: datetime) -> list[Candidate]:
    """Candidates from one human message. Sentence-split, then match rules per sentence.

    Memory text names the speaker by `speaker` when it is a name (else "the person"), or by
    the name the message itself gives ("I'm Priya")."""
    # Typographic quotes become plain ones; the translation is one character for one, so offsets
    # found in the normalised text slice the original verbatim.
    norm = plain(text)
    lower = not any(ch.isupper() for ch in norm)
    greeted = _GREETING.match(norm) is not None or _NICE_TO_MEET.search(norm) is not None
    story = _Story(referent(speaker))
    found: list[Candidate] = []
    for s_start, s_end in _sentences(norm):
        for start, end in _clauses(norm, s_start, s_end):
            clause = _Clause(start, end, start)
            _strip_openers(norm, clause)
            found.extend(_candidates(text, norm, clause, speaker, when, lower, greeted, story))
    return _dedupe(found)
