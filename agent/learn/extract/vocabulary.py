"""Vocabulary shared by the rules: word lists, the <TOKEN> pattern helpers, name checks."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator

from memory.text import NOT_NAMES_IN_A_NAME_SLOT


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Vocabulary shared by the rules. Every pattern is compiled with IGNORECASE | VERBOSE, so spaces
# inside patterns are written \s+ and "<TOKEN>" placeholders are expanded from this table.

_ADVERBS = (
    "really|absolutely|totally|just|also|still|actually|honestly|truly|kind\\s+of|kinda|sort\\s+of"
    "|definitely|genuinely|seriously|literally|so|very|pretty\\s+much|basically|currently|now"
    "|usually|often|always|sometimes|mostly|finally|recently|already|even|only|officially"
    "|probably|both|all|certainly|secretly|quietly|deeply|lowkey|low-key|sadly|unfortunately"
    "|fortunately|luckily|happily|proudly"
)
_REL_WORDS = (
    "best\\s+friend|bestie|bff|friend|boyfriend|girlfriend|husband|wife|hubby|partner|spouse"
    "|fianc[eé]e?|significant\\s+other|other\\s+half|bf|gf|ex(?:-(?:wife|husband|boyfriend"
    "|girlfriend|partner))?|sister(?:-in-law)?|brother(?:-in-law)?|sis|bro|sibling"
    "|mother(?:-in-law)?|father(?:-in-law)?|parent|grandparent|in-laws|folks|mom|mum|mommy"
    "|mummy|mama|dad|daddy|papa|stepmom|stepmum|stepmother|stepdad|stepfather|stepson"
    "|stepdaughter|stepbrother|stepsister"
    "|half-brother|half-sister|son(?:-in-law)?|daughter(?:-in-law)?|kid|child|baby|twin"
    "|grandma|grandmother|granny|nana|grandpa|grandfather|granddad|grandad|grandson"
    "|granddaughter|aunt|auntie|aunty|uncle|cousin|niece|nephew|godmother|godfather|godson"
    "|goddaughter|boss|manager|supervisor|colleague|coworker|co-worker|roommate|flatmate"
    "|housemate|neighbou?r|landlord|landlady|classmate|teammate|mentor|coach|therapist"
    "|teacher|tutor|doctor|pen\\s+pal|buddy|mate|pal"
)
_PET_WORDS = (
    "dog|doggo|pup|puppy|cat|kitty|kitten|rabbit|bunny|hamster|gerbil|guinea\\s+pig|parrot"
    "|budgie|bird|fish|goldfish|horse|pony|turtle|tortoise|snake|lizard|gecko|ferret|rat|mouse"
    "|chinchilla|hedgehog|chicken|goat|pig|retriever|labrador|poodle|spaniel|terrier|collie"
    "|husky|beagle|pug|dachshund|corgi|greyhound|whippet|tabby|siamese|moggy"
)
_MONTH = (
    "(?:jan(?:uary)?|feb(?:ruary)?|march|mar|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    "|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_WEEKDAY = "(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_NUM = (
    "(?:\\d{1,3}|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[-\\s](?:one|two"
    "|three|four|five|six|seven|eight|nine))?|one|two|three|four|five|six|seven|eight|nine|ten"
    "|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
)
_COUNT = "(?:\\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a\\s+few" \
    "|a\\s+couple(?:\\s+of)?|couple(?:\\s+of)?|several)"  # fmt: skip

_TOKENS = {
    "I": "(?:i|we)",
    "BE": "(?:i'm|im|i\\s+am|we're|we\\s+are)",
    "HAVE": "(?:i've|ive|i\\s+have|we've|we\\s+have)",
    "WILL": "(?:i'll|i\\s+will|i\\s+shall|we'll|we\\s+will)",
    "WOULD": "(?:i'd|i\\s+would|we'd|we\\s+would)",
    "DONT": "(?:don't|dont|do\\s+not)",
    "ADV": f"(?:(?:{_ADVERBS})\\s+)*",
    "REL": f"(?:{_REL_WORDS})s?",
    "PET": f"(?:{_PET_WORDS})",
    "MONTH": _MONTH,
    "WEEKDAY": _WEEKDAY,
    "NUM": _NUM,
    "COUNT": _COUNT,
    "MY": "(?:my|our)",
}
# A name is capitalised when the writer capitalises at all; an all-lowercase writer's names are
# any word outside NOT_NAMES_IN_A_NAME_SLOT (checked in code), and only one word long.
_NAME_CAP = "(?-i:[A-ZÀ-ÖØ-Þ][\\w'-]*)(?:\\s+(?-i:[A-ZÀ-ÖØ-Þ][\\w'-]*))?"
_NAME_LOWER = "[^\\W\\d_][\\w'-]*"
_NAME_LOOSE = "[^\\W\\d_][\\w'-]*(?:\\s+(?-i:[A-ZÀ-ÖØ-Þ][\\w'-]*))?"
_FLAGS = re.IGNORECASE | re.VERBOSE


def _expand(pattern: str, name: str) -> str:
    return re.sub(r"<([A-Z]+)>", lambda m: name if m[1] == "NAME" else _TOKENS[m[1]], pattern)


class _Rx:
    """A rule's pattern, compiled on its first use: the rules hold ~200 of them, most never
    reached by a given message (the first rule that matches a clause ends its search), and
    compiling them all at import took a fifth of a cold `hearth say`. Two threads that race to
    compile one make the same pattern twice; either is kept."""

    __slots__ = ("_compiled", "_source")

    def __init__(self, source: str) -> None:
        self._source = source
        self._compiled: re.Pattern[str] | None = None
        _MADE.append(self)

    @property
    def compiled(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self._source, _FLAGS)
        return compiled

    def match(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.match(text, pos, endpos)

    def fullmatch(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.fullmatch(text, pos, endpos)

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.search(text, pos, endpos)

    def finditer(
        self, text: str, pos: int = 0, endpos: int = sys.maxsize
    ) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(text, pos, endpos)

    def sub(self, repl: str | Callable[[re.Match[str]], str], text: str, count: int = 0) -> str:
        return self.compiled.sub(repl, text, count)


class _Pat:
    """A pattern with a capitalised-name and a lowercase-name variant (each compiled on first
    use: a message is either capitalised or not, so most runs need only one).

    `loose` is for places where only a name can follow ("my name is", "called", "married to"):
    there the first word may be lowercase even in a capitalised message.
    """

    __slots__ = ("cap", "lower")

    def __init__(self, pattern: str, loose: bool = False) -> None:
        cap = _NAME_LOOSE if loose else _NAME_CAP
        self.cap = _Rx(_expand(pattern, f"(?P<name>{cap})"))
        self.lower = _Rx(_expand(pattern, f"(?P<name>{_NAME_LOWER})"))

    def match(self, text: str, lower: bool) -> re.Match[str] | None:
        return (self.lower if lower else self.cap).match(text)


_MADE: list[_Rx] = []
"""Every rule pattern made, so a test can compile them all (a broken one fails there, not at
the first message that reaches it)."""


def compile_rules(until: Callable[[], bool]) -> int:
    """Compile the rule patterns not yet compiled, one at a time, until `until()` holds (a
    caller waiting for something else spends the wait here); how many were compiled."""
    done = 0
    for pattern in _MADE:
        if until():
            break
        if pattern._compiled is None:
            _ = pattern.compiled
            done += 1
    return done


def _rx(pattern: str) -> _Rx:
    return _Rx(_expand(pattern, _NAME_LOWER))


_ADJECTIVE_END = re.compile(r"(?:ed|ing|ful|ous|ive|able|ible|al|ic|less|ish)$", re.IGNORECASE)


def _name_ok(name: str, lower: bool, strict: bool = False) -> bool:
    """Whether a captured word (or two) reads as a person's name rather than an ordinary word."""
    words = name.split()
    if not words or any(w.casefold() in NOT_NAMES_IN_A_NAME_SLOT for w in words):
        return False
    # After "my sister is ..." a lowercase word is as likely an adjective ("pregnant") as a name.
    return not (lower and strict and _ADJECTIVE_END.search(words[0]))


def _display_name(name: str) -> str:
    """A lowercase writer's "ana" is stored as "Ana", so the subject matches a later "Ana"."""
    return name.title() if name.islower() else name


# ---------------------------------------------------------------------------------------------
# Words that more than one rule group reads: past tenses, life events, talk to the assistant.

_IRREGULAR_PAST = (
    "went|gone|came|saw|seen|did|done|had|got|gotten|made|took|taken|met|ran|won|lost|bought"
    "|brought|caught|found|gave|given|left|felt|fell|flew|flown|drove|driven|ate|eaten|drank"
    "|swam|sang|began|begun|broke|broken|wrote|written|spent|sent|sold|told|threw|wore|woke"
    "|sat|stood|slept|built|paid|hurt|kept|led|rode|spoke|spoken|stole|taught|became|become"
    "|heard|held|hid|let|put|quit|split|tore|beat|bit|chose|dug|drew|fed|fought|forgave|froze"
    "|grew|hung|laid|shook|sank|stuck|swept|swung|upset|wept|was|were|read|been\\s+to"
)
_LIFE_EVENT = re.compile(
    r"\b(?:married|engaged|divorced|born|graduated|died|passed\s+away|funeral|wedding|promoted"
    r"|fired|retired|pregnant|baby|adopted|broke\s+up|surgery|hospital|accident|diagnosed"
    r"|bought\s+a\s+(?:house|flat|home|apartment)|moved|passed\s+(?:my|the)\s+\w+|graduation)\b",
    re.IGNORECASE,
)
_TO_ASSISTANT = re.compile(r"^\s*(?:you|your|yours|u|ur)\b(?!\s+can\s+call\s+me)", re.I)
_MENTIONS_YOU = re.compile(r"\b(?:you|your|yours|u|ur)\b", re.IGNORECASE)
