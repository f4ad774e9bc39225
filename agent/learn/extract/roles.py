"""What "I'm a/an <noun>" says about someone: a job, a course of study, a trait, a family role."""

from __future__ import annotations

import re

from agent.learn.extract.vocabulary import _words

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
