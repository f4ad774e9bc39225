"""Who a query is about: the known people it names, and what it asks with their names taken out."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from memory.graph.nodes import Memory
from memory.text import APOSTROPHES, NOT_NAMES_WHEN_CAPITALISED, fold, may_open_sentence

# A typed name this close to a known one ("Muhammad" for "Muhhamed") is taken to mean it:
# names in conversations are spelled as loosely as they are pronounced.
MIN_SIMILARITY = 0.75
# Shorter words are matched exactly only: "What" is one letter from "Walt", "Many" from "Mary".
MIN_FUZZY_LENGTH = 5
# Names that are also words that open sentences ("Will you…", "Hope you're well", "Mark my
# words"): a name in the middle of a sentence, a word at its start.
_NOT_FIRST_TEXT = "will hope mark grace bill rose joy faith sue pat ray dawn art"
_NOT_FIRST = frozenset(_NOT_FIRST_TEXT.split())
# A word starts with a letter of any alphabet (Émile, Łukasz, محمد), not a digit or underscore.
_WORD = re.compile(rf"[^\W\d_][\w{APOSTROPHES}-]*")
# "Ana's", "Ana'll", "Ana'd": the name is the part before the apostrophe.
_CLITIC = re.compile(rf"[{APOSTROPHES}](?:s|ll|d|re|ve)?$", re.IGNORECASE)
# "Sam's mom", "James' dog": a relation of someone, not them.
_RELATION = re.compile(rf"[{APOSTROPHES}]s\b|s[{APOSTROPHES}](?=\s|$)")
_ID_CHARS = re.compile(r"[\d_]")


@dataclass
class Mentions:
    """The people a query names and the query without their names."""

    subjects: set[str] = field(default_factory=set)
    """Memory subjects the named people are stored under (one person may have several)."""
    called: set[str] = field(default_factory=set)
    """Every known name of those people, folded (see `fold`)."""
    rest: str = ""
    """The query with the names removed: what is asked about them ("" if nothing is left)."""


def squeeze(word: str) -> str:
    """A word with each run of one letter written once: Anna and Ana are the same name."""
    return re.sub(r"(.)\1+", r"\1", word)


def _capitalised(word: str) -> bool:
    # Scripts without case (Arabic, Hebrew, Devanagari) have no lower-case letters at all.
    return not word[:1].islower()


def name_tokens(subject: str) -> list[str]:
    """The words a person stored under `subject` may be called by on their own ("Fahim Khan":
    Fahim, Khan; "elise": elise). Not "user", not a relation ("Sam's mom" is not Sam), and
    not an id ("c1", "Chat_10"): names have no digits or underscores."""
    subject = unicodedata.normalize("NFC", subject)
    if subject == "user" or _RELATION.search(subject):
        return []
    found = _WORD.findall(subject)
    words = [w for w in found if len(w) >= 2 and not _ID_CHARS.search(w)]
    if len(found) == 1:
        return words
    return [w for w in words if _capitalised(w)]


def _same(typed: str, known: str, *, loosely: bool) -> bool:
    """Folded words: the same name, a letter doubled or not (Anna, Ana), or, `loosely`, a close
    spelling with the same first and last letters (Muhammad, Muhhamed; not Christmas,
    Christian)."""
    if typed == known or squeeze(typed) == squeeze(known):
        return True
    if not loosely or min(len(typed), len(known)) < MIN_FUZZY_LENGTH:
        return False
    if typed[0] != known[0] or typed[-1] != known[-1]:
        return False
    # The cheap upper bounds first: a search compares every capitalised word with every name.
    matcher = difflib.SequenceMatcher(None, typed, known)
    return (
        matcher.real_quick_ratio() >= MIN_SIMILARITY
        and matcher.quick_ratio() >= MIN_SIMILARITY
        and matcher.ratio() >= MIN_SIMILARITY
    )


def find(query: str, names: Mapping[str, Iterable[str]]) -> Mentions:
    """The known people `query` names. `names` maps each name a person is called by (one word,
    any case) to the subjects their memories are stored under.

    Capitalised words are names when they are a known name, with a letter doubled or not (Anna
    for Ana), or, away from a sentence's start, spelled closely (Muhammad for Muhhamed). Never
    words capitalised for other reasons ("What", "June", "Christmas"), nor "Will" or "Hope"
    opening a sentence. A message with no capital letter at all is matched exactly only."""
    query = unicodedata.normalize("NFC", query)
    known: dict[str, set[str]] = {}
    for name, listed in names.items():
        known.setdefault(fold(name), set()).update(listed)
    all_lower = not any(c.isupper() for c in query)
    found = Mentions()
    kept: list[str] = []
    last = 0
    previous_end = 0
    for match in _WORD.finditer(query):
        gap = query[previous_end : match.start()]
        first = previous_end == 0 or may_open_sentence(gap)
        previous_end = match.end()
        word = _CLITIC.sub("", match.group())
        key = fold(word)
        if key in NOT_NAMES_WHEN_CAPITALISED or ((first or all_lower) and key in _NOT_FIRST):
            continue
        if not (_capitalised(word) or all_lower):
            continue
        loosely = not first and not all_lower
        subjects: set[str] = set(known.get(key, ()))
        if not subjects:
            for name, candidates in known.items():
                if _same(key, name, loosely=loosely):
                    subjects |= candidates
        if subjects:
            kept.append(query[last : match.start()])
            last = match.end()
            found.subjects |= subjects
    kept.append(query[last:])
    found.called = {name for name, held in known.items() if held & found.subjects}
    rest = re.sub(r"\s{2,}", " ", "".join(kept)).strip()
    # A query that is only a name and small words ("Ana?", "How's Ana?") has nothing else to
    # search with: callers then use the whole query.
    meaningful = [
        w for w in _WORD.findall(rest) if fold(_CLITIC.sub("", w)) not in NOT_NAMES_WHEN_CAPITALISED
    ]
    found.rest = rest if meaningful else ""
    return found


def says_name(text: str, called: Iterable[str]) -> bool:
    """Whether `text` says one of these folded names as a word: capitalised, unless the text
    has no capitals at all ("mark the exams" does not name Mark), a doubled letter allowed."""
    wanted = {squeeze(n) for n in called}
    all_lower = not any(c.isupper() for c in text)
    for word in _WORD.findall(unicodedata.normalize("NFC", text)):
        name = _CLITIC.sub("", word)
        if (all_lower or _capitalised(name)) and squeeze(fold(name)) in wanted:
            return True
    return False


def known_names(
    subjects: Iterable[str], recorded: Iterable[tuple[str, str]], user_name: str
) -> dict[str, set[str]]:
    """Each name a person is called by -> the subjects their memories are stored under: each
    subject's own words, the recorded (name, subject) pairs of those subjects and of "user",
    and the user's configured name (when it is a name) for "user"."""
    subjects = set(subjects)
    names: dict[str, set[str]] = {}
    for subject in subjects:
        for name in name_tokens(subject):
            names.setdefault(name, set()).add(subject)
    for name, subject in recorded:
        if subject in subjects or subject == "user":
            names.setdefault(name, set()).add(subject)
    if user_name[:1].isupper():
        for name in name_tokens(user_name):
            names.setdefault(name, set()).add("user")
    return names


def about(memory: Memory, mentions: Mentions) -> bool:
    """Whether a memory is about someone the query names: stored under them, or the user's own
    memory that says their name ("I lent Ana my bike"). Another person's words that say the
    name are about that other person: counting them was measured to recall less."""
    if memory.subject in mentions.subjects:
        return True
    if memory.subject != "user" or not mentions.called:
        return False
    return says_name(memory.text, mentions.called)
