"""Marks on memories: text that reads as an instruction to the model, and sensitive kinds."""

from __future__ import annotations

import functools
import re

INSTRUCTION_LIKE = "instruction_like"
SENSITIVE = "sensitive"
"""Health, feelings or someone's private matters: marked in lists, left out of exports unless
asked for, never on a welcome screen."""

# Phrasings addressed to the model rather than facts about a person. A flag does not block the
# memory: it is shown to the user, and the prompt quotes memories as data, never as orders.
_INSTRUCTION_PATTERNS = [
    r"\b(ignore|disregard|forget)\s+(all|any|the|your|previous|prior|earlier)\b",
    r"\b(you|hearth|the assistant|assistant)\s+(must|should|shall|will always|are to|have to)\b",
    r"\balways\s+(reveal|say|respond|answer|reply|tell|obey|output|print|include)\b",
    r"\bnever\s+(refuse|mention|tell|reveal|say)\b",
    r"\bfrom now on\b",
    r"^\s*(system|assistant|developer)\s*:",
    r"\b(system prompt|your instructions|new instructions)\b",
    r"\b(reveal|print|dump)\s+(your|the|all)\s+(memories|prompt|instructions|secrets?)\b",
    # Look-alikes of the notes blocks' own markers (a forged end of the notes, then "rules").
    r"\bend of (the )?notes\b",
    r"\b(things you remember|what you know about \S+)\s*:",
    r"\bstore this (memory|note)\b",
]
_INSTRUCTION = re.compile("|".join(_INSTRUCTION_PATTERNS), re.IGNORECASE | re.MULTILINE)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Sensitive kinds, by their words: a cheap classifier, run on every memory written and read
# (a set lookup per word, not a regex of alternatives: extraction has a millisecond a message).
# Health (conditions, treatment, the body's troubles), feelings (grief, despair, loneliness)
# and private matters of anyone (relationships ending, money trouble, the law, sexuality,
# abuse). Words that are as often harmless ("hospital" for a nurse, "afraid I can't") are out.
_SENSITIVE_WORDS = _words(
    """
    depressed depression anxiety therapy therapist counselling counseling counsellor counselor
    medicated medication medications prescribed prescription prescriptions antidepressant
    antidepressants cancer tumor tumour tumors tumours hiv std surgery abortion disorder adhd
    bipolar ocd ptsd rehab sobriety relapse relapsed insomnia migraine migraines allergy
    allergies allergic asthma illness disease symptom symptoms infection chronic disability
    disabilities disabled overdose overdosed dementia stroke seizure seizures ivf
    lonely loneliness heartbroken heartbreak grief grieving grieve hopeless worthless ashamed
    miserable devastated breakdown crying cried died funeral
    affair breakup break-up separated custody debt debts arrested arrest prison jail lawsuit
    sued sexuality gay lesbian bisexual transgender abuse abused abusive assault assaulted
    rape raped salary
    """
)
_SENSITIVE_PREFIXES = (
    "diagnos", "psychiatr", "chemo", "diabet", "pregnan", "miscarr", "autis", "schizo",
    "anorexi", "bulimi", "addict", "alcoholi", "suicid", "self-harm", "epilep", "alzheimer",
    "infertil", "divorc", "bankrupt", "evict", "sexual", "harass",
)  # fmt: skip
_SENSITIVE_PHRASES = re.compile(
    r"\b(panic attack|heart attack|self harm|passed away|cheat(ed|ing) on|broke up|laid off"
    r"|got fired|came out|coming out|court case"
    r"|feel(ing)? (so |really |very )?(sad|low|empty|alone|lost|numb|broken|awful|terrible))\b"
)
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")


def instruction_like(text: str) -> bool:
    return _INSTRUCTION.search(text) is not None


def sensitive(text: str) -> bool:
    """Whether the text speaks of health, feelings or someone's private matters."""
    lowered = text.lower()
    for word in _WORD.findall(lowered):
        if word in _SENSITIVE_WORDS or word.startswith(_SENSITIVE_PREFIXES):
            return True
    return _SENSITIVE_PHRASES.search(lowered) is not None


@functools.lru_cache(maxsize=16384)
def _earned(text: str) -> tuple[str, ...]:
    # Cached: every memory read earns its flags again, and searches read the same ones often.
    return (INSTRUCTION_LIKE,) * instruction_like(text) + (SENSITIVE,) * sensitive(text)


def with_flags(text: str, flags: list[str]) -> list[str]:
    """The given flags plus any this text earns, each once, in a stable order."""
    return list(dict.fromkeys([*flags, *_earned(text)]))
