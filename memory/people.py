"""Who a query is about: the known people it names, and what it asks with their names taken out."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# A typed name this close to a known one ("Muhammad" for "Muhhamed") is taken to mean it:
# names in conversations are spelled as loosely as they are pronounced.
MIN_SIMILARITY = 0.75
# Shorter words are matched exactly only: "What" is one letter from "Walt", "Many" from "Mary".
MIN_FUZZY_LENGTH = 5
# Capitalised because they start a sentence, not because they name someone: never a name, even
# when someone is called Will or May. A sentence's first word is otherwise matched exactly only.
_COMMON_TEXT = (
    "a about after also am an and any are as at be because before but by can could did do does"
    " for from good great had has have he hello her here hey hi his how i if in is it just let"
    " may maybe me might must my no not now of oh ok okay on or our please she should so sorry"
    " tell thanks that the their then there these they this those to was we well were what when"
    " where which who whom whose why will with would yes you your"
)
_COMMON = frozenset(_COMMON_TEXT.split())
# Both apostrophes: phones type a curly one.
_APOSTROPHES = "'\u2019"
# A word starts with a letter of any alphabet (Émile, Łukasz), not a digit or underscore.
_WORD = re.compile(rf"[^\W\d_][\w{_APOSTROPHES}-]*")
_POSSESSIVE = re.compile(rf"[{_APOSTROPHES}]s?$")
# "Sam's mom", "James' dog": a relation of someone, not them.
_RELATION = re.compile(rf"[{_APOSTROPHES}]s\b|s[{_APOSTROPHES}](?=\s|$)")
_ID_CHARS = re.compile(r"[\d_]")
_SENTENCE_END = re.compile(r"[.!?]\s*$")


@dataclass
class Mentions:
    """The people a query names and the query without their names."""

    subjects: set[str] = field(default_factory=set)
    """Memory subjects the named people are stored under (one person may have several)."""
    called: set[str] = field(default_factory=set)
    """Every known name of those people, case-folded ("emi", "kate")."""
    rest: str = ""
    """The query with the names removed: what is asked about them ("" if nothing is left)."""


def name_tokens(subject: str) -> list[str]:
    """The words a person stored under `subject` may be called by on their own ("Fahim Khan":
    Fahim, Khan; "elise": elise). Not "user", not a relation ("Sam's mom" is not Sam), and
    not an id ("c1", "Chat_10"): names have no digits or underscores."""
    if subject == "user" or _RELATION.search(subject):
        return []
    words = [w for w in _WORD.findall(subject) if len(w) >= 2 and not _ID_CHARS.search(w)]
    if len(words) == 1 and len(_WORD.findall(subject)) == 1:
        return words
    return [w for w in words if w[0].isupper()]


def _squeeze(word: str) -> str:
    return re.sub(r"(.)\1+", r"\1", word)


def _close(typed: str, known: str) -> bool:
    a, b = typed.casefold(), known.casefold()
    if _squeeze(a) == _squeeze(b):
        return True  # a letter doubled or not, the commonest misspelling: Anna for Ana
    if min(len(a), len(b)) < MIN_FUZZY_LENGTH or a[0] != b[0]:
        return False
    # The cheap upper bounds first: a search compares every capitalised word with every name.
    matcher = difflib.SequenceMatcher(None, a, b)
    return (
        matcher.real_quick_ratio() >= MIN_SIMILARITY
        and matcher.quick_ratio() >= MIN_SIMILARITY
        and matcher.ratio() >= MIN_SIMILARITY
    )


def find(query: str, names: Mapping[str, Iterable[str]]) -> Mentions:
    """The known people `query` names. `names` maps each name a person is called by (one word,
    any case) to the subjects their memories are stored under. Only capitalised words count,
    never common words ("Will you…" is not about Will); a letter doubled or not counts (Anna
    for Ana), and a close spelling for names of five letters or more, except for a sentence's
    first word, which must match exactly."""
    known: dict[str, set[str]] = {}
    for name, subjects in names.items():
        known.setdefault(name.casefold(), set()).update(subjects)
    found = Mentions()
    kept: list[str] = []
    last = 0
    for match in _WORD.finditer(query):
        word = _POSSESSIVE.sub("", match.group())
        key = word.casefold()
        if not word[:1].isupper() or key in _COMMON:
            continue
        subjects = set(known.get(key, ()))
        first = not query[: match.start()].strip() or bool(
            _SENTENCE_END.search(query[: match.start()])
        )
        if not subjects and not first:
            for name, candidates in known.items():
                if _close(key, name):
                    subjects |= candidates
        if subjects:
            kept.append(query[last : match.start()])
            last = match.end()
            found.subjects |= subjects
    kept.append(query[last:])
    found.called = {name for name, subjects in known.items() if subjects & found.subjects}
    rest = re.sub(r"\s{2,}", " ", "".join(kept)).strip()
    # A query that is only a name ("Ana?") has nothing else to search with: callers then use
    # the whole query.
    found.rest = rest if re.search(r"\w", rest) else ""
    return found


def says_name(text: str, called: Iterable[str]) -> bool:
    """Whether `text` says one of these (case-folded) names as a word."""
    wanted = set(called)
    return any(_POSSESSIVE.sub("", w).casefold() in wanted for w in _WORD.findall(text))
