"""Scoring a reply against a gold answer (LoCoMo's token F1), and the first-person rewrite.

The normaliser, exactly (LoCoMo's `normalize_answer`, snap-research/locomo
`task_eval/evaluation.py`, in its order): lower-case; remove every character of Python's
`string.punctuation`; replace the words a, an, the and "and" (whole words) with a space;
split on whitespace. LoCoMo then Porter-stems each token (nltk's `PorterStemmer`); nltk is
not installed here and no stemmer is a dependency, so Hearth does NOT stem: "likes" and
"like" are different tokens, which lowers F1 a little against LoCoMo's figures.

Token F1 is over the multiset of tokens (LoCoMo's `Counter` intersection): precision = common /
reply tokens, recall = common / gold tokens, F1 their harmonic mean, 0 when nothing is common.
Answer-token recall is that recall alone (a long reply holding the answer is not penalised).
LoCoMo's own per-category rules (its multi-hop answers split on commas) are for its categories;
these figures use the plain F1 for every category.
"""

from __future__ import annotations

import re
import string
from collections import Counter

from memory.text import straighten_apostrophes

_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(?:a|an|the|and)\b")


def normalise(text: str) -> list[str]:
    """LoCoMo's normaliser without stemming: lower-case, punctuation out, articles and "and"
    out, split on whitespace."""
    return _ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split()


def _common(reply: list[str], gold: list[str]) -> int:
    return sum((Counter(reply) & Counter(gold)).values())


def token_f1(reply: str, gold: str) -> float:
    """LoCoMo's token F1 of a reply against the gold answer (0 when either is empty)."""
    said, wanted = normalise(reply), normalise(gold)
    same = _common(said, wanted)
    if same == 0:
        return 0.0
    precision, recall = same / len(said), same / len(wanted)
    return 2 * precision * recall / (precision + recall)


def answer_recall(reply: str, gold: str) -> float:
    """The share of the gold answer's tokens the reply holds (0 for an empty gold answer)."""
    said, wanted = normalise(reply), normalise(gold)
    return _common(said, wanted) / len(wanted) if wanted else 0.0


# -- the first-person rewrite -------------------------------------------------------------

# An auxiliary before the name makes it the subject; each agrees with "I".
_AUXILIARY = {
    "does": "do", "is": "am", "has": "have", "was": "was", "did": "did", "will": "will",
    "would": "would", "can": "can", "could": "could", "should": "should", "had": "had",
    "might": "might", "must": "must", "do": "do", "have": "have", "were": "was", "are": "am",
    "doesn't": "don't", "isn't": "am not", "hasn't": "haven't", "wasn't": "wasn't",
    "didn't": "didn't",
}  # fmt: skip
# Right after the name, these verbs agree with "I"; a word ending in -s is read as a verb too.
_VERB_AFTER = {"is": "am", "has": "have", "does": "do", "was": "was", "doesn't": "don't"}
_NOT_VERBS = frozenset({"is", "was", "has", "does", "this", "us", "his", "its", "always", "as"})
_PREPOSITIONS = frozenset(
    re.findall(
        r"\w+",
        "to for with about from of at by on in into without like than towards toward between "
        "among against around behind near give gave tell told ask asked help helped meet met "
        "invite invited call called visit visited recommend recommended send sent",
    )
)


def _base(verb: str) -> str:
    """A third-person verb as "I" says it: likes -> like, watches -> watch, tries -> try."""
    lower = verb.lower()
    if lower in _VERB_AFTER:
        return _VERB_AFTER[lower]
    if lower.endswith("ies") and len(lower) > 4:
        return verb[:-3] + "y"
    if re.search(r"(?:ch|sh|ss|x|z|o)es$", lower):
        return verb[:-2]
    return verb[:-1]


def _is_verb(word: str) -> bool:
    lower = word.lower()
    if lower in _VERB_AFTER:
        return True
    return (
        lower.endswith("s")
        and not lower.endswith(("ss", "us", "is", "'s"))
        and len(lower) > 3
        and lower not in _NOT_VERBS
    )


def name_pattern(name: str) -> str:
    """The person's full name or its first word, as a regex (case ignored by the caller)."""
    parts = [re.escape(name)]
    first = name.split()[0] if name.split() else name
    if first != name:
        parts.append(re.escape(first))
    return r"\b(?:" + "|".join(parts) + r")\b"


def _cap(word: str, like: str) -> str:
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def first_person(question: str, name: str) -> str:
    """The question asked by the person it is about: their name as I / me / my, the verb
    agreeing ("Where was Caroline born?" -> "Where was I born?", "What does Caroline like?" ->
    "What do I like?", "Caroline's dog" -> "my dog"), and his / her / himself / herself after
    the name as my / me / myself. A question without the name is returned as it is."""
    named = name_pattern(name)
    question = straighten_apostrophes(question)
    if not re.search(named, question, re.IGNORECASE):
        return question
    text = re.sub(
        named + r"(?:'s|')",
        lambda m: "My" if m.start() == 0 else "my",
        question,
        flags=re.IGNORECASE,
    )
    word = r"[\w']+"
    # Name after an auxiliary: "does Caroline" -> "do I"; "Caroline and Mel" -> "Mel and I".
    text = re.sub(
        rf"\b(?P<aux>{word})\s+{named}(?:\s+and\s+(?P<other>[A-Z]\w+)(?P<whose>'s)?)?",
        lambda m: _after_aux(m),
        text,
        flags=re.IGNORECASE,
    )

    def subject_or_object(m: re.Match[str]) -> str:
        before = text[: m.start()].split()
        after = m.group("next")
        if after and _is_verb(after):
            return f"{'I'} {_base(after)}"
        previous = before[-1].lower().strip(string.punctuation) if before else ""
        if previous in _PREPOSITIONS:
            return "me" + (f" {after}" if after else "")
        return "I" + (f" {after}" if after else "")

    text = re.sub(
        named + rf"(?:\s+(?P<next>{word}))?", subject_or_object, text, flags=re.IGNORECASE
    )
    text = re.sub(r"\b(?:him|her)self\b", "myself", text, flags=re.IGNORECASE)
    text = re.sub(r"\bhis\b", "my", text, flags=re.IGNORECASE)
    return re.sub(
        r"\bher\b(?P<rest>\s+\w)?",
        lambda m: ("my" if m["rest"] else "me") + (m["rest"] or ""),
        text,
        flags=re.IGNORECASE,
    )


def _after_aux(m: re.Match[str]) -> str:
    aux = m["aux"]
    agreed = _AUXILIARY.get(aux.lower())
    if agreed is None:
        return m.group()  # not an auxiliary: left to the subject-or-object pass
    if m["whose"]:  # "do Fahim and Mel's talks" -> "do Mel's and my talks"
        return f"{aux} {m['other']}'s and my"
    subject = f"{m['other']} and I" if m["other"] else "I"
    return f"{_cap(agreed, aux)} {subject}"


def second_person(answer: str, name: str) -> str:
    """The gold answer as said to the person: their name as you / your ("Caroline's mum" ->
    "your mum")."""
    named = name_pattern(name)
    text = re.sub(named + r"(?:'s|')", "your", straighten_apostrophes(answer), flags=re.IGNORECASE)
    return re.sub(named, "you", text, flags=re.IGNORECASE)
