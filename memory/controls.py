"""Stored text made inert for a terminal or a screen: control characters shown, never obeyed."""

from __future__ import annotations

import json
import re
from typing import Any

# Characters a terminal (or a bidi-aware renderer) obeys instead of showing: C0 controls, DEL,
# C1 controls (U+009B is an 8-bit CSI: a whole escape sequence without ESC), and the bidi
# embeddings, overrides, isolates and marks that reorder what follows them on screen.
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_C1 = list(range(0x80, 0xA0))
_KEPT_C0 = {0x09, 0x0A}  # tab and line break: layout, not commands

# C0 controls and DEL as Unicode's own pictures of them (ESC reads "␛"), one cell each; the
# others, which have no picture, as their code point in angle brackets.
_TO_INERT: dict[int, str] = {c: chr(0x2400 + c) for c in range(0x20) if c not in _KEPT_C0}
_TO_INERT[0x7F] = "\u2421"
_TO_INERT.update({c: f"<U+{c:04X}>" for c in [*_C1, *_BIDI]})
_LINE_BREAK_TO_INERT = {**_TO_INERT, 0x0A: "\u2424"}

# What JSON's own escaping lets through raw (it escapes only C0): written as \\uXXXX instead,
# so a JSON line printed on a terminal is inert too, and reads back to the exact text.
_JSON_RAW = re.compile("[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def inert(text: str, *, line_breaks: bool = True) -> str:
    """`text` as it may be shown: every control character as a visible symbol. Tabs stay, and
    line breaks too unless `line_breaks` is False (a one-line cell); a CRLF is a line break."""
    text = text.replace("\r\n", "\n")
    return text.translate(_TO_INERT if line_breaks else _LINE_BREAK_TO_INERT)


def has_controls(text: str) -> bool:
    """Whether `inert` would change `text` (other than a CRLF)."""
    return inert(text) != text.replace("\r\n", "\n")


def json_line(data: Any) -> str:
    """`data` as one line of JSON whose every control character is an escape (JSON itself
    leaves DEL, C1 and the bidi controls raw); what JSON cannot hold is written as text."""
    raw = json.dumps(data, ensure_ascii=False, default=str)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", raw)
