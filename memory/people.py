"""Who a query is about: the known people it names, and what it asks with their names taken out."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# A typed name that is this close to a known one ("Muhammad" for "Muhhamed") is taken to mean
# it; names in conversations are spelled as loosely as they are pronounced.
MIN_SIMILARITY = 0.75
# Shorter tokens ("Al", "Jo") are matched exactly only: two letters share too much by chance.
MIN_FUZZY_LENGTH = 4
# Both apostrophes: phones type a curly one.
_APOSTROPHES = "'\u2019"
_WORD = re.compile(rf"[A-Za-z][\w{_APOSTROPHES}-]*")
_POSSESSIVE = re.compile(rf"[{_APOSTROPHES}]s?$")
_POSSESSIVE_INSIDE = re.compile(rf"[{_APOSTROPHES}]s\b")


@dataclass
class Mentions:
    """The people a query names and the query without their names."""

    subjects: set[str] = field(default_factory=set)
    """Memory subjects the named people are stored under (one person may have several)."""
    people: int = 0
    """How many different people were named."""
    rest: str = ""
    """The query with the names removed: what is asked about them ("" if nothing is left)."""


def name_tokens(subject: str) -> list[str]:
    """The words a person stored under `subject` may be called by on their own ("Fahim Khan":
    Fahim, Khan; "elise": elise). Not "user", and not a relation ("Sam's mom" is not Sam)."""
    if subject == "user" or _POSSESSIVE_INSIDE.search(subject):
        return []
    words = _WORD.findall(subject)
    if len(words) == 1:
        return words
    return [w for w in words if w[0].isupper()]


def _same_name(typed: str, known: str) -> bool:
    a, b = typed.casefold(), known.casefold()
    if a == b:
        return True
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
    any case) to the subjects their memories are stored under. Only capitalised words count as
    names, so "will" never means Will; the first letter must agree and the spelling be close."""
    known = {n.casefold(): (n, set(subjects)) for n, subjects in names.items()}
    found = Mentions()
    people: list[frozenset[str]] = []
    kept: list[str] = []
    last = 0
    for match in _WORD.finditer(query):
        word = _POSSESSIVE.sub("", match.group())
        subjects: set[str] = set()
        if word[:1].isupper():
            exact = known.get(word.casefold())
            if exact is not None:
                subjects = exact[1]
            else:
                for name, candidates in known.values():
                    if _same_name(word, name):
                        subjects |= candidates
        if subjects:
            kept.append(query[last : match.start()])
            last = match.end()
            found.subjects |= subjects
            if frozenset(subjects) not in people:
                people.append(frozenset(subjects))
    kept.append(query[last:])
    found.people = len(people)
    rest = re.sub(r"\s{2,}", " ", "".join(kept)).strip()
    # A query that is only a name ("Ana?") has nothing else to search with: callers then use
    # the whole query.
    found.rest = rest if re.search(r"\w", rest) else ""
    return found
