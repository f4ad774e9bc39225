"""Plain-text helpers shared by every layer: sentences, stop words, apostrophe folding."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

# -- sentences ---------------------------------------------------------------------------------

# A sentence ends at a run of ".", "!" or "?" followed by a space, and at a line break.
_END = re.compile(r"[.!?]+(?=\s)|\n+")
# The same, and also at an ellipsis, with the closing quotes and brackets after the end mark.
_END_WITH_CLOSING = re.compile(r"[.!?…]+[\"')\]]*(?=\s)|\n+")
# What may stand between a sentence's end and the next word: a new line, a colon, a quote…
# (\u2026 ellipsis, \u201c \u2018 opening quotes, \u2022 bullet, \u2013 \u2014 dashes)
_OPENING = re.compile('[.!?:;\n"(\\[\u2026\u201c\u2018\u2022\u2013\u2014]')


def sentence_spans(
    text: str, *, closing_marks: bool = False, abbreviations: Collection[str] | None = None
) -> list[tuple[int, int]]:
    """Where each sentence of `text` starts and ends, in order: a sentence ends at a run of ".",
    "!" or "?" followed by a space (the marks stay with it), and at a line break. Spans holding
    only spaces are left out; the others keep the spaces before them.

    The two keywords are the extractor's more careful reading, off by default because the
    importer and the episodes were measured with the plain one:

    closing_marks: an ellipsis ("…") ends a sentence too, and closing quotes and brackets after
    the end mark stay with it ('"Hi." She left' ends after the quote; plainly it does not end).
    abbreviations: a lone "." after one of these words (lower case, without their last dot) or
    after a single letter ends nothing ("Dr. Ana", "J. Smith"); None: every one does.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in (_END_WITH_CLOSING if closing_marks else _END).finditer(text):
        if abbreviations is not None and m.group() == ".":
            before = text[start : m.start()].split()
            word = before[-1].lower().rstrip(".") if before else ""
            if word in abbreviations or (len(word) == 1 and word.isalpha()):
                continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def sentences(text: str) -> list[str]:
    """The sentences of `text` (see `sentence_spans`), stripped of surrounding spaces."""
    return [text[s:e].strip() for s, e in sentence_spans(text)]


def may_open_sentence(gap: str) -> bool:
    """Whether the text between two words may end a sentence or open a quote, a bracket or a
    list item, so the word after it may be capitalised for that alone. Looser than
    `sentence_spans` on purpose: it asks whether a capital could be a sentence's, not where one
    sentence ends ("end.Next", "note: Ana", "- Ana" all count)."""
    return _OPENING.search(gap) is not None


# -- stop words --------------------------------------------------------------------------------
# Three lists, not one: they answer three questions, and merging any two changes answers.
# Searching drops only the words that match nearly everything ("good", "new", "june" still
# find memories). A capitalised word in a message is not a known person's name when it is a
# small word, a greeting or a date word ("What", "Hello", "May", "Christmas"); "will" is left
# to the opening-word rule, since Will is a name mid-sentence. A word the extractor finds where
# a new name could stand ("my sister is pregnant", "a friend called yesterday") is not a name
# when it is any common word of that place, a much longer list without months ("my friend
# June" names June).


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words with no search meaning: dropped from lexical queries (unless nothing else is left).
SEARCH_STOP_WORDS = _words(
    "a an and are as at be by do does did for from had has have how i in is it its me my of on"
    " or so that the their there they this to was we were what when where which who why will"
    " with you your"
)
# Never a name, even when someone is called that: words that are capitalised for other reasons.
NOT_NAMES_WHEN_CAPITALISED = _words(
    "a about after also am an and any are as at be because before but by can could did do does"
    " for from good great had has have he hello her here hey hi his how i if in is it just let"
    " maybe me might must my no not now of oh ok okay on or our please she should so sorry"
    " tell thanks that the their then there these they this those to was we well were what when"
    " where which who whom whose why with would yes you your"
    # Months, weekdays and holidays are capitalised anywhere ("in June", "for Christmas").
    " january february march april may june july august september october november december"
    " monday tuesday wednesday thursday friday saturday sunday christmas easter"
)
# Words that stand where a name could ("my sister is ...", "called ...") without being one; an
# all-lowercase writer's names are any word outside this list.
NOT_NAMES_IN_A_NAME_SLOT = _words(
    """
    a an the and or but if so to of in on at by for from with about as into onto over under up
    down out off i me my mine myself you your yours u ur he him his she her hers it its they
    them their theirs we us our this that these those who whom whose which what when where why
    how there here is am are was were be been being has have had do does did done can could will
    would shall should may might must not no nope yes yeah yep ok okay sure please thanks thank
    hi hey hello bye lol haha just also still really always never ever now then today tonight
    tomorrow yesterday soon later again already very too quite pretty such only even maybe
    perhaps probably actually basically literally totally honestly finally recently currently
    called named name whatever anything something nothing everything someone anyone everyone
    nobody somebody anybody one two three four five six seven eight nine ten both all each every
    some any many much more most less few new old good great nice best better bad worse worst
    big little small tall short young older younger elder eldest oldest youngest pregnant sick
    ill busy tired happy sad married single divorced engaged retired away gone dead fine well
    crazy annoying amazing awesome cool funny smart kind mean late early right wrong true false
    able sorry glad going getting being doing having coming visiting staying moving working
    living home back over dude bro man mate sir madam babe honey buddy friend guys everybody
    lives works loves likes hates got gets went goes said says hungry bored lonely sleepy angry
    ready curious nervous excited stressed anxious scared upset confused lost stuck free awake
    alive lazy hungover grumpy cold hot warm done alone whenever anytime sometime lucky blessed
    proud exhausted sure okay dr mr mrs ms mx prof sir
    """
)

# -- apostrophes -------------------------------------------------------------------------------
# A keyboard types a straight apostrophe and a phone a curly one, so the same word is stored
# either way. Autocorrect may write an opening quote (U+2018) instead, other keyboards a
# modifier letter apostrophe or a prime; which of those a caller also folds is its own choice,
# named where it calls (widening it would change what that caller matches).

APOSTROPHE = "'"
CURLY_APOSTROPHE = "\u2019"
OPENING_QUOTE = "\u2018"
# The two apostrophes people type, for character classes: [{APOSTROPHES}].
APOSTROPHES = APOSTROPHE + CURLY_APOSTROPHE
# Every mark written where an apostrophe is meant: curly, opening quote, modifier letter, prime.
APOSTROPHE_LIKE = CURLY_APOSTROPHE + OPENING_QUOTE + "\u02bc\u2032"


def straighten_apostrophes(text: str, marks: str = CURLY_APOSTROPHE) -> str:
    """`text` with each of `marks` written as a straight apostrophe, one character for one (so
    offsets into the result are offsets into `text`)."""
    for mark in marks:
        text = text.replace(mark, APOSTROPHE)
    return text


def fold(text: str) -> str:
    """One form for comparing names and phrases: NFC, case-folded, one apostrophe."""
    return straighten_apostrophes(unicodedata.normalize("NFC", text).casefold())
