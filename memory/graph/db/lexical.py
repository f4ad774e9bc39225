"""Lexical search's query: user text as an FTS5 match expression, without its stop words."""

from __future__ import annotations

import re

from memory.text import SEARCH_STOP_WORDS


def fts_query(text: str) -> str | None:
    """User text as an FTS5 OR of quoted terms, so no FTS syntax in it can error or inject.
    Stop words are dropped unless nothing else is left: they match nearly every memory."""
    terms = list(dict.fromkeys(re.findall(r"\w+", text.lower())))
    content = [t for t in terms if t not in SEARCH_STOP_WORDS]
    chosen = (content or terms)[:32]
    if not chosen:
        return None
    return " OR ".join(f'"{t}"' for t in chosen)
