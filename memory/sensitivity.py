"""Sensitive kinds (health, feelings, anyone's private matters) told by their words: a cheap
classifier the memory graph flags with and exports filter by."""

from __future__ import annotations

import re


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


def sensitive(text: str) -> bool:
    """Whether the text speaks of health, feelings or someone's private matters."""
    lowered = text.lower()
    for word in _WORD.findall(lowered):
        if word in _SENSITIVE_WORDS or word.startswith(_SENSITIVE_PREFIXES):
            return True
    return _SENSITIVE_PHRASES.search(lowered) is not None
