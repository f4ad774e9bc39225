"""Memory text about the person: a clause in their own voice rewritten in the third person."""

from __future__ import annotations

import re

from agent.learn.extract.vocabulary import _ADVERBS, _IRREGULAR_PAST, _words

# Why: a note in the person's voice ("I have a cat called Biscuit") shown to a model reads as
# the model's own words, and small models then speak as the person ("I'm Priya"). Stored text
# names who it is about instead; the verbatim words stay in the memory's quote.
#
# The first mention of the person is their name ("Priya works as a nurse"), later ones are
# "they" / "their" / "them", so a sentence does not repeat the name three times. "We" is the
# person with others. "You" stays: notes are read by Hearth, and "you" is Hearth.

_MODALS = _words(
    "can could will would shall should may might must ought need used dare can't couldn't"
    " won't wouldn't shouldn't mustn't cannot"
)
_PAST = frozenset(_IRREGULAR_PAST.replace("\\s+", " ").split("|"))
_ADVERB = re.compile(rf"(?:{_ADVERBS})\b", re.IGNORECASE)
_PRONOUN = re.compile(
    r"\b(?P<w>i|me|my|mine|myself|we|us|our|ours|ourselves)\b"
    r"(?P<clitic>'m|'ve|'ll|'d|'re)?",
    re.IGNORECASE,
)
_WORD = re.compile(r"\s*(?P<w>[\w'-]+)")
# After "I": the verb forms that change with the subject, first mention / later mentions.
_AUX = {
    "am": ("is", "are"),
    "'m": ("is", "are"),
    "was": ("was", "were"),
    "wasn't": ("wasn't", "weren't"),
    "have": ("has", "have"),
    "'ve": ("has", "have"),
    "haven't": ("hasn't", "haven't"),
    "do": ("does", "do"),
    "don't": ("doesn't", "don't"),
    "dont": ("doesn't", "don't"),
    "'ll": ("will", "will"),
    "'d": ("would", "would"),
}
_WE_CLITIC = {"'re": " are", "'ve": " have", "'ll": " will", "'d": " would"}
_HAD_AFTER = _words("been had done gone seen never already just")


def _third(verb: str) -> str:
    """The third-person singular of a present-tense verb ("work" -> "works")."""
    low = verb.lower()
    if low in ("have", "do", "go", "be"):
        return {"have": "has", "do": "does", "go": "goes", "be": "is"}[low]
    if re.search(r"(?:s|sh|ch|x|z|o)$", low):
        return verb + "es"
    if re.search(r"[^aeiou]y$", low):
        return verb[:-1] + "ies"
    return verb + "s"


def _present(word: str) -> bool:
    low = word.lower()
    return not (
        low in _MODALS
        or low in _PAST
        or low.endswith("ed")
        or low.endswith("n't")
        or not low.isalpha()
        or low in ("is", "are", "was", "were", "has", "does", "and", "or", "too", "also")
    )


class _Rewriter:
    def __init__(self, referent: str) -> None:
        self.referent = referent
        self.named = False

    def _subject(self, plural: bool) -> str:
        """The person as a subject: their name the first time, "they" after."""
        if self.named:
            return "they"
        self.named = True
        return f"{self.referent} and others" if plural else self.referent

    def _possessive(self) -> str:
        if self.named:
            return "their"
        self.named = True
        return f"{self.referent}'s"

    def _object(self) -> str:
        if self.named:
            return "them"
        self.named = True
        return self.referent

    def _verb_after(self, text: str, pos: int, first: bool) -> tuple[str, int]:
        """The words after a singular "I" (adverbs kept) with the verb agreeing; where they end."""
        out: list[str] = []
        while True:
            m = _WORD.match(text, pos)
            if m is None:
                return "".join(out), pos
            word = m["w"]
            lead = m.group()[: m.start("w") - m.start()]
            low = word.lower()
            if _ADVERB.fullmatch(low) and low not in _AUX:
                out.append(m.group())
                pos = m.end()
                continue
            if low in _AUX:
                new = _AUX[low][0 if first else 1]
                return "".join(out) + lead + new, m.end()
            if first and _present(word):
                return "".join(out) + lead + _third(word), m.end()
            return "".join(out), pos

    def rewrite(self, text: str) -> str:
        parts: list[str] = []
        pos = 0
        for m in _PRONOUN.finditer(text):
            parts.append(text[pos : m.start()])
            word, clitic = m["w"].lower(), (m["clitic"] or "").lower()
            end = m.end()
            if word == "i" and re.search(r"\band\s+$", text[: m.start()], re.IGNORECASE):
                # "my husband and I went": the pair is the subject, the verb already plural.
                self.named = True
                parts.append(self.referent + (m[0][len(m["w"]) :] if clitic else ""))
            elif word == "i":
                first = not self.named
                subject = self._subject(plural=False)
                if clitic:
                    if clitic == "'d":
                        nxt = _WORD.match(text, end)
                        verb = "had" if nxt and nxt["w"].lower() in _HAD_AFTER else "would"
                    else:
                        verb = _AUX[clitic][0 if first else 1]
                    parts.append(f"{subject} {verb}")
                else:
                    rest, end = self._verb_after(text, end, first)
                    parts.append(subject + rest)
            elif word == "we":
                subject = self._subject(plural=True)
                parts.append(subject + _WE_CLITIC.get(clitic, ""))
            elif word in ("my", "our"):
                parts.append(self._possessive())
            elif word in ("mine", "ours"):
                parts.append("theirs" if self.named else f"{self._possessive()}")
            elif word in ("myself", "ourselves"):
                parts.append("themselves" if self.named else self._object())
            else:  # me, us
                parts.append(self._object() + (" and others" if word == "us" else ""))
                if clitic:
                    parts.append(m[0][len(m["w"]) :])
            pos = end
        parts.append(text[pos:])
        out = "".join(parts)
        return out[:1].upper() + out[1:]


def about_person(clause: str, referent: str) -> str:
    """The clause about the person, in the third person: "I work as a nurse" -> "Priya works as
    a nurse"; "my cat sleeps on my feet" -> "Priya's cat sleeps on their feet"."""
    return _Rewriter(referent).rewrite(clause)


_HE_SHE = re.compile(
    r"^(?P<p>he|she|they)(?:(?P<clitic>'s|'re)|\s+(?P<be>is|are|was|were|has|have))?\b",
    re.IGNORECASE,
)


def about_named(clause: str, name: str, referent: str) -> str:
    """A clause opening with he / she / they about someone just named: "He's 4" -> "Biscuit is
    4". The rest about the person as `about_person` writes it."""
    m = _HE_SHE.match(clause)
    if m is None:
        return about_person(clause, referent)
    if m["clitic"]:
        nxt = _WORD.match(clause, m.end())
        has = m["clitic"] == "'s" and nxt is not None and nxt["w"].lower() in ("been", "got")
        verb = "has" if has else "is"
    elif m["be"]:
        verb = {"are": "is", "were": "was", "have": "has"}.get(m["be"].lower(), m["be"].lower())
    else:
        nxt = _WORD.match(clause, m.end())
        if m["p"].lower() == "they" and nxt is not None and _present(nxt["w"]):
            head = f"{name} {_third(nxt['w'])}"
            return head + about_person(clause[nxt.end() :], referent)
        return name + about_person(clause[m.end() :], referent)
    return f"{name} {verb}" + about_person(clause[m.end() :], referent)
