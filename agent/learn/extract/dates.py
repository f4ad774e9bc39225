"""Dates: explicit and relative date expressions, resolved against the message's timestamp."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from agent.learn.extract.vocabulary import _IRREGULAR_PAST, _WEEKDAY, _Rx, _rx

# Dates: explicit and relative expressions, resolved against the message's timestamp. Past
# kinds look back ("on Monday" = the last Monday), commitments look ahead (the next Monday).

_Resolver = Callable[[re.Match[str], date, bool], "date | None"]
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _add_months(d: date, months: int) -> date:
    year, month = divmod(d.month - 1 + months, 12)
    last = calendar.monthrange(d.year + year, month + 1)[1]
    return date(d.year + year, month + 1, min(d.day, last))


_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "a": 1, "an": 1, "a few": 3, "a couple of": 2, "a couple": 2, "couple of": 2,
    "several": 3,
}  # fmt: skip


def _count(word: str) -> int | None:
    word = " ".join(word.lower().split())
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word)


def _parse_number(word: str) -> int | None:
    """ "34", "thirty-four", "thirty four" -> 34."""
    parts = word.lower().replace("-", " ").split()
    if len(parts) == 1:
        return int(parts[0]) if parts[0].isdigit() else _NUMBER_WORDS.get(parts[0])
    tens, ones = (_NUMBER_WORDS.get(p) for p in parts[:2])
    return tens + ones if tens is not None and ones is not None else None


def _shift(today: date, n: int, unit: str) -> date:
    unit = unit.lower().rstrip("s")
    if unit == "day":
        return today + timedelta(days=n)
    if unit == "week":
        return today + timedelta(weeks=n)
    if unit == "month":
        return _add_months(today, n)
    return _add_months(today, 12 * n)


def _month_number(word: str) -> int:
    return next(
        i
        for i, name in enumerate(calendar.month_name)
        if i and name.lower().startswith(word[:3].lower())
    )


def _on_date(day: int, month: int, year: int | None, today: date, future: bool) -> date | None:
    try:
        if year is not None:
            return date(year, month, day)
        d = date(today.year, month, day)
        if future and d < today:
            return date(today.year + 1, month, day)
        if not future and d > today:
            return date(today.year - 1, month, day)
        return d
    except ValueError:
        return None


def _nth(day: int, today: date, future: bool) -> date | None:
    """ "on the 20th": this month's 20th, or the next (or last) month's if that is the reading."""
    base = today.replace(day=1)
    for months in (0, 1 if future else -1):
        month = _add_months(base, months)
        d = _on_date(day, month.month, month.year, today, future)
        if d is not None and (d >= today if future else d <= today):
            return d
    return None


def _in_month(month: int, year: int | None, today: date, future: bool) -> date:
    if year is not None:
        return date(year, month, 1)
    if future:
        return date(today.year if month >= today.month else today.year + 1, month, 1)
    return date(today.year if month <= today.month else today.year - 1, month, 1)


def _weekday(wd: int, today: date, future: bool, this: bool = False) -> date:
    if future:
        ahead = (wd - today.weekday()) % 7
        return today + timedelta(days=ahead if this or ahead else 7)
    back = (today.weekday() - wd) % 7
    return today - timedelta(days=back or 7)


_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}


def _season(name: str, which: str, today: date) -> date:
    month = _SEASONS[name.lower()]
    starts = [date(y, month, 1) for y in range(today.year - 2, today.year + 2)]
    if which == "next":
        return next(s for s in starts if s > today)
    if which == "last":
        return [s for s in starts if _add_months(s, 3) <= today][-1]
    current = [s for s in starts if s <= today < _add_months(s, 3)]
    return current[0] if current else next(s for s in starts if s > today)


def _relative_unit(which: str, unit: str, today: date, future: bool) -> date:
    which = which.lower().split()[-1]
    if which == "coming":
        which, future = "this", True
    which = "last" if which == "past" else which
    step = {"last": -1, "next": 1, "this": 0}[which]
    unit = unit.lower()
    if unit in _SEASONS:
        return _season(unit, which, today)
    if unit.endswith("day") and unit != "day":
        wd = _WEEKDAYS.index(unit)
        return _weekday(wd, today, step > 0 or (step == 0 and future), this=step == 0)
    monday = today - timedelta(days=today.weekday())
    if unit == "weekend":
        saturday = monday + timedelta(days=5)
        return saturday + timedelta(weeks=step)
    if unit == "week":
        return today if step == 0 and future else monday + timedelta(weeks=step)
    if unit == "month":
        first = today.replace(day=1)
        return today if step == 0 and future else _add_months(first, step)
    return today if step == 0 and future else date(today.year + step, 1, 1)


_RELATIVE_DAYS = {
    "the day before yesterday": -2, "the day after tomorrow": 2, "yesterday": -1, "today": 0,
    "tonight": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1, "last night": -1, "this morning": 0,
    "this afternoon": 0, "this evening": 0, "earlier today": 0, "later today": 0, "right now": 0,
    "just now": 0,
}  # fmt: skip


def _year(m: re.Match[str], key: str) -> int | None:
    value = m.groupdict().get(key)
    return int(value) if value else None


def _weekday_of_week(which: str, weekday: str, today: date) -> date:
    """ "next week on Saturday", "Saturday next week": that weekday of that week."""
    monday = today - timedelta(days=today.weekday())
    step = {"last": -1, "next": 1, "this": 0}[which.lower().split()[-1]]
    return monday + timedelta(weeks=step, days=_WEEKDAYS.index(weekday.lower()))


_DATE_RULES: list[tuple[_Rx, _Resolver]] = [
    (
        _rx(rf"""\b(?P<w>next|last|this)\s+week\b[^.;!?]{{0,60}}?\b(?:on\s+)?(?P<wd>{_WEEKDAY})\b
         |\b(?:on\s+)?(?P<wd2>{_WEEKDAY})\s+(?P<w2>next|last|this)\s+week\b"""),
        lambda m, t, f: _weekday_of_week(m["w"] or m["w2"], m["wd"] or m["wd2"], t),
    ),
    (
        _rx(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b"),
        lambda m, t, f: _on_date(int(m["d"]), int(m["m"]), int(m["y"]), t, f),
    ),
    (
        _rx(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m><MONTH>)\b(?:,?\s+(?P<y>\d{4}))?"),
        lambda m, t, f: _on_date(int(m["d"]), _month_number(m["m"]), _year(m, "y"), t, f),
    ),
    (
        _rx(r"\b(?P<m><MONTH>)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?!:)(?:,?\s+(?P<y>\d{4}))?"),
        lambda m, t, f: _on_date(int(m["d"]), _month_number(m["m"]), _year(m, "y"), t, f),
    ),
    (
        _rx(r"\b(?:on|by|until|before|from)\s+the\s+(?P<d>\d{1,2})(?:st|nd|rd|th)\b(?!\s+of\b)"),
        lambda m, t, f: _nth(int(m["d"]), t, f),
    ),
    (
        _rx(r"""\b(?P<w>last|next|this)\s+(?P<m><MONTH>)\b"""),
        lambda m, t, f: _in_month(
            _month_number(m["m"]),
            None,
            t,
            m["w"].lower() == "next" or (m["w"].lower() == "this" and f),
        ),
    ),
    (
        _rx(r"""\b(?:in|since|during|until|by|of|early|late|mid|end\s+of|beginning\s+of|back\s+in
         |around|from)\s+(?P<m><MONTH>)\b(?:\s+(?P<y>\d{4}))?"""),
        lambda m, t, f: _in_month(_month_number(m["m"]), _year(m, "y"), t, f),
    ),
    (
        _rx(r"\b(?P<m><MONTH>)\s+(?P<y>\d{4})\b"),
        lambda m, t, f: _in_month(_month_number(m["m"]), _year(m, "y"), t, f),
    ),
    (
        _rx(r"""\b(?:in|since|during|until|by|of|back\s+in|around|from|circa|born)\s+
         (?P<y>(?:19|20)\d{2})\b"""),
        lambda m, t, f: date(int(m["y"]), 1, 1),
    ),
    (
        _rx(r"""\b(?P<r>the\s+day\s+before\s+yesterday|the\s+day\s+after\s+tomorrow|yesterday|today
         |tonight|tomorrow|tmrw|tmr|last\s+night|this\s+(?:morning|afternoon|evening)
         |earlier\s+today|later\s+today|right\s+now|just\s+now)\b"""),
        lambda m, t, f: t + timedelta(days=_RELATIVE_DAYS[" ".join(m["r"].lower().split())]),
    ),
    (
        _rx(rf"""\b(?P<w>last|this\s+coming|this\s+past|this|next|coming|past)\s+
         (?P<u>week|weekend|month|year|summer|winter|spring|autumn|fall|{_WEEKDAY})\b"""),
        lambda m, t, f: _relative_unit(m["w"], m["u"], t, f),
    ),
    (_rx(r"\b(?:over|at|on)\s+the\s+weekend\b"), lambda m, t, f: _weekday(5, t, f, this=True)),
    (
        _rx(rf"\b(?:on\s+)?(?P<wd>{_WEEKDAY})(?!s)\b"),
        lambda m, t, f: _weekday(_WEEKDAYS.index(m["wd"].lower()), t, f),
    ),
    (
        _rx(r"""\b(?P<n><COUNT>)\s+(?P<u>day|week|month|year)s?\s+
         (?P<dir>ago|back|earlier|from\s+now|later|from\s+today)\b"""),
        lambda m, t, f: _shift_count(
            m, t, -1 if m["dir"].lower() in ("ago", "back", "earlier") else 1
        ),
    ),
    (
        _rx(r"\b(?:in|within)\s+(?P<n><COUNT>)\s+(?P<u>day|week|month|year)s?\b"),
        lambda m, t, f: _shift_count(m, t, 1) if f else None,
    ),
    (
        _rx(r"""\bfor\s+(?:the\s+(?:past|last)\s+)?(?P<n><COUNT>)\s+(?P<u>day|week|month|year)s?
         \b(?!\s+(?:from|later))"""),
        lambda m, t, f: None if f else _shift_count(m, t, -1),
    ),
]


def _shift_count(m: re.Match[str], today: date, sign: int) -> date | None:
    n = _count(m["n"])
    return None if n is None else _shift(today, sign * n, m["u"])


_CLOCK = _rx(
    r"""\b(?:at|around|by|before|after|from)\s+(?P<h>\d{1,2})(?::(?P<mi>\d{2}))?\s*
    (?P<ap>am|pm|a\.m\.|p\.m\.)?(?!\s*(?:years?|kids|people|%))\b|\b(?P<noon>noon|midday)\b"""
)
_JUST = _rx(rf"<I>(?:'?ve|\s+have)?\s+just\s+(?:[a-z]+ed|{_IRREGULAR_PAST}|turned)\b")


def _clock(text: str) -> time | None:
    m = _CLOCK.search(text)
    if m is None:
        return None
    if m["noon"]:
        return time(12, 0)
    hour, minute = int(m["h"]), int(m["mi"] or 0)
    ap = (m["ap"] or "").lower().replace(".", "")
    if ap == "pm" and hour < 12:
        hour += 12
    elif ap == "am" and hour == 12:
        hour = 0
    elif not ap and m["mi"] is None:
        return None  # "by 5" alone is too ambiguous to be a time
    return time(hour, minute) if hour < 24 and minute < 60 else None


def _find_date(text: str, today: date, future: bool) -> tuple[int, date] | None:
    best: tuple[int, date] | None = None
    for pattern, resolve in _DATE_RULES:
        for m in pattern.finditer(text):
            if best is not None and m.start() >= best[0]:
                break
            d = resolve(m, today, future)
            if d is not None:
                best = (m.start(), d)
                break
    return best


def resolve_when(text: str, when: datetime, *, future: bool) -> datetime | None:
    """The date (and time of day, if stated) a clause names, relative to `when`; None if none.

    `future` picks the reading of ambiguous expressions: "on Monday" is the coming Monday for a
    plan and the last Monday for an event. Dates are at midnight in `when`'s timezone.
    """
    today = when.date()
    found = _find_date(text, today, future)
    clock = _clock(text)
    if found is None and clock is None:
        if not future and _JUST.search(text):
            return datetime.combine(today, time(), when.tzinfo)
        return None
    day = found[1] if found else today
    if found is None and clock is not None and future and clock <= when.time():
        day += timedelta(days=1)
    return datetime.combine(day, clock or time(), when.tzinfo)


_FUTURE_HINT = _rx(
    rf"""\b(?:tomorrow|tmrw|tonight|later\s+today|this\s+(?:evening|afternoon|weekend|coming)
    |next\s+\w+|coming\s+\w+|on\s+{_WEEKDAY}|{_WEEKDAY}|in\s+<COUNT>\s+(?:day|week|month|year)s?
    |<COUNT>\s+(?:day|week|month|year)s?\s+from\s+now|later|soon|at\s+\d|the\s+day\s+after
    |in\s+<MONTH>|on\s+the\s+\d|(?:on\s+)?<MONTH>\s+\d|\d{{4}}-\d{{2}}-\d{{2}})\b"""
)
_PAST_HINT = _rx(
    rf"""\b(?:yesterday|last\s+\w+|ago|this\s+(?:morning|past)|earlier\s+today|in\s+(?:19|20)\d\d
    |back\s+in|over\s+the\s+weekend|on\s+{_WEEKDAY}|the\s+other\s+day|in\s+<MONTH>|<MONTH>\s+\d
    |\d{{4}}-\d{{2}}-\d{{2}})\b"""
)
