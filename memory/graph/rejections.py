"""Rejected memories: keyed hashes of their words and source sentences, never the words."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from memory.errors import StorageError
from memory.text import APOSTROPHE_LIKE, fold, sentence_spans, straighten_apostrophes

KEY_BYTES = 32
Said = Literal["text", "sentence"]
# Marks around words that change nothing of what they say ("I love hiking." is "i love hiking").
_EDGES = " \t\n.,;:!?\u2026\"'()[]"


def normalised(text: str) -> str:
    """One form for comparing what was said: NFC, case-folded, one apostrophe, single spaces,
    without the punctuation around it."""
    return " ".join(fold(straighten_apostrophes(text, APOSTROPHE_LIKE)).split()).strip(_EDGES)


def source_sentence(message: str, text: str) -> str | None:
    """The sentence of `message` that says `text` (the sentences, when it runs over a sentence
    end), or None when the message does not say it. The write path and a reject both find it
    here, so what a reject records is what the write path looks for."""
    words = text.split()
    if not words:
        return None
    found = re.search(r"\s+".join(map(re.escape, words)), message, re.IGNORECASE)
    if found is None:
        return None
    spans = [s for s in sentence_spans(message) if s[0] < found.end() and s[1] > found.start()]
    return message[spans[0][0] : spans[-1][1]].strip() if spans else None


def digest(key: bytes, said: Said, text: str) -> str:
    """HMAC-SHA256 of the normalised text; `said` keeps a sentence's hash apart from the same
    words as a memory's."""
    message = f"{said}\0{normalised(text)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def digests(key: bytes, texts: Iterable[str], sentences: Iterable[str]) -> list[str]:
    """The hashes a reject records: every text the memory had, every sentence it came from."""
    found = [digest(key, "text", t) for t in texts if normalised(t)]
    found += [digest(key, "sentence", s) for s in sentences if normalised(s)]
    return list(dict.fromkeys(found))


def read_key(path: Path, *, create: bool) -> bytes | None:
    """The data dir's random key (made 0600 on first use when `create`); None when there is none.

    Kept in its own file, not in memory.sqlite3: a copy of the database alone (a backup, a
    copy kept before an upgrade) cannot then be used to test guesses of what was rejected."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        if not create:
            return None
        return _make_key(path)
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}") from exc
    return _checked(path, key)


def _checked(path: Path, key: bytes) -> bytes:
    if len(key) != KEY_BYTES:
        raise StorageError(
            f"{path} is damaged ({len(key)} bytes, not {KEY_BYTES}); delete it to make a new "
            "one (what was rejected before may then be learned again)"
        )
    return key


def _make_key(path: Path) -> bytes:
    key = secrets.token_bytes(KEY_BYTES)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            # A link never replaces a key already there: hashes made with it stay readable.
            os.link(draft, path)
        except FileExistsError:
            key = _checked(path, path.read_bytes())
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror}") from exc
    finally:
        draft.unlink(missing_ok=True)
    return key
