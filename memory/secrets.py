"""A cheap secrets detector: passwords, PINs, card numbers, API keys and tokens in a text.

Regular expressions and context words only, so the write path can ask it about every message
in microseconds (presidio takes seconds to load and knows no passwords or keys). It looks for
what a person would regret seeing recalled or exported, and errs towards the secret: a
memory lost to a false alarm costs less than a password kept.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

SecretKind = Literal["PASSWORD", "PIN", "CREDIT_CARD", "API_KEY", "PRIVATE_KEY"]
SECRET_KINDS: tuple[SecretKind, ...] = ("PASSWORD", "PIN", "CREDIT_CARD", "API_KEY", "PRIVATE_KEY")
PLACEHOLDER = "[secret]"


@dataclass(frozen=True)
class Secret:
    """Where a secret stands in a text (the value only, not the words announcing it)."""

    kind: SecretKind
    start: int
    end: int


# Keys and tokens whose shape alone says what they are (the vendors chose the prefixes so).
_SHAPED: list[tuple[SecretKind, re.Pattern[str]]] = [
    (
        "PRIVATE_KEY",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)?",
            re.S,
        ),
    ),
    ("API_KEY", re.compile(r"\bsk-(?:proj-|ant-|live-)?[A-Za-z0-9_-]{20,}")),  # OpenAI, Anthropic
    ("API_KEY", re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}\b")),  # GitHub
    ("API_KEY", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}")),
    ("API_KEY", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),  # AWS access key id
    ("API_KEY", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),  # Slack
    ("API_KEY", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),  # Google
    ("API_KEY", re.compile(r"\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,}")),  # Stripe
    ("API_KEY", re.compile(r"\bglpat-[0-9A-Za-z_-]{20,}")),  # GitLab
    (
        "API_KEY",
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ),  # JWT
]

# "password is X", "pwd: X", "my login password was 'X'": the value after the words.
_PASSWORD = re.compile(
    r"\b(?:pass(?:word|wd|phrase|code)?|pwd|wi-?fi key)\b"
    r"(?:\s+(?:for|to|of|on)\s+(?:my\s+|the\s+|our\s+)?[\w.@-]+(?:\s+account)?)?"
    r"\s*(?:is|was|=|:|->|['\u2019]s|as|to|set to)\s*(?P<value>\"[^\"\n]+\"|'[^'\n]+'|[^\s\"']+)",
    re.I,
)
# "PIN is 4821", "my pin 4821", "the door code: 1234", "cvv 123".
_PIN = re.compile(
    r"\b(?:pin(?:\s+(?:code|number))?|cvv|cvc|security code|(?:door|alarm|safe|gate|lock|"
    r"locker|garage)\s+code)\b(?:\s+(?:is|was|=|:))?\s*[:=]?\s*(?P<value>\d{3,8})\b",
    re.I,
)
# A long token next to a word saying it is a key: "api key: 9f8e...", "token=...".
_KEYED = re.compile(
    r"(?<![A-Za-z])(?:api[\s_-]?key|access[\s_-]?key|secret(?:[\s_-]?key)?|client[\s_-]?secret|"
    r"(?:auth|access|bearer|refresh|api)?[\s_-]?token|bearer)\b"
    r"\s*(?:is|was|=|:)?\s*['\"]?(?P<value>[A-Za-z0-9_\-.+/=]{16,})",
    re.I,
)
# Thirteen to nineteen digits, in groups or not: a card when the Luhn checksum holds.
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_TRAILING = ".,;:?)"  # a "!" may end a password: kept with it
_BLANKED = re.compile(r"\[secret\]|<[A-Z_]+>")  # a secret already replaced


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _entropy(text: str) -> float:
    """Shannon entropy per character: random keys score about 4 and more, words about 3."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _password_like(value: str) -> bool:
    """Whether the word after "password is" is one (not "strong", "the same", "secure")."""
    if value[0] in "\"'":
        return len(value) > 2
    value = value.rstrip(_TRAILING)
    if len(value) < 4 or _BLANKED.fullmatch(value):
        return False
    has_digit = any(c.isdigit() for c in value)
    has_symbol = any(not c.isalnum() for c in value)
    inner_capital = any(c.isupper() for c in value[1:])
    return has_digit or has_symbol or inner_capital or len(value) >= 16


def _key_like(value: str) -> bool:
    """A random-looking token: letters and digits mixed, high entropy (not a word or a sha
    in prose: those need one of the key words before them to be asked about at all)."""
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    return has_digit and has_alpha and _entropy(value) >= 3.0


def find_secrets(text: str) -> list[Secret]:
    """Every secret found in `text`, in order, without overlaps (the first found wins)."""
    found: list[Secret] = []

    def add(kind: SecretKind, start: int, end: int) -> None:
        if all(end <= s.start or start >= s.end for s in found):
            found.append(Secret(kind, start, end))

    for kind, pattern in _SHAPED:
        for m in pattern.finditer(text):
            add(kind, m.start(), m.end())
    for m in _PASSWORD.finditer(text):
        value = m.group("value")
        if _password_like(value):
            end = m.end("value") - (len(value) - len(value.rstrip(_TRAILING)))
            add("PASSWORD", m.start("value"), end if value[0] not in "\"'" else m.end("value"))
    for m in _PIN.finditer(text):
        add("PIN", m.start("value"), m.end("value"))
    for m in _KEYED.finditer(text):
        if _key_like(m.group("value")):
            add("API_KEY", m.start("value"), m.end("value"))
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if len(set(digits)) > 1 and _luhn(digits):
            add("CREDIT_CARD", m.start(), m.end())
    return sorted(found, key=lambda s: s.start)


def has_secret(text: str) -> bool:
    """Whether `text` holds a password, PIN, card number, key or token."""
    return bool(find_secrets(text))


def secret_kinds(text: str) -> list[str]:
    """The kinds of secret in `text`, in words ("password", "credit card"), each once: what a
    refusal to remember it names."""
    return list(dict.fromkeys(s.kind.lower().replace("_", " ") for s in find_secrets(text)))


def without_secrets(text: str, marker: str | None = PLACEHOLDER) -> str:
    """`text` with each secret replaced by `marker` (None: by its kind, as "<PASSWORD>")."""
    for secret in reversed(find_secrets(text)):
        shown = marker if marker is not None else f"<{secret.kind}>"
        text = text[: secret.start] + shown + text[secret.end :]
    return text
