"""The model extractor's probe: fixed messages whose memories are known, read by one model."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from agent.learn.model_extract import Reading

PROBE_VERSION = 1
"""Raised whenever the messages or the pass mark change: older decisions are probed again."""

WHEN = datetime(2026, 3, 4, 12, tzinfo=UTC)


@dataclass(frozen=True)
class ProbeMessage:
    """A message, its speaker, and the memories it must yield: each a set of words that one
    kept candidate's text must all contain (none: the message teaches nothing)."""

    text: str
    speaker: str
    expected: tuple[tuple[str, ...], ...]


PROBE = (
    ProbeMessage("I work as a nurse at the children's hospital.", "Priya", (("nurse",),)),
    ProbeMessage("My sister Anjali lives in Leeds.", "Priya", (("anjali", "leeds"),)),
    ProbeMessage("My cat Biscuit is a grey tabby.", "Priya", (("biscuit", "tabby"),)),
    ProbeMessage("Next Saturday I'm running a half marathon.", "Priya", (("marathon",),)),
    # The rules are English only: a model that passes gives other languages their memories.
    ProbeMessage("Je m'appelle Marie et j'habite à Lyon.", "Marie", (("lyon",),)),
    ProbeMessage("What do you think about the weather today?", "Priya", ()),
)
EXPECTED = sum(len(m.expected) for m in PROBE)
# One expected memory may be missed; nothing may be invented.
PASS_MARK = EXPECTED - 1

Read = Callable[..., Reading]
"""`ModelExtractor.read(text, *, speaker, when)`."""


class ProbeResult(BaseModel):
    """What the probe decided for one model file (cached in the data dir per file version)."""

    model: str
    size_bytes: int
    mtime_ns: int
    version: int = PROBE_VERSION
    passed: bool
    found: int
    expected: int = EXPECTED
    invented: int
    read: int
    """Probe messages read: the probe stops once the model cannot pass."""
    seconds: float

    def summary(self) -> str:
        score = f"{self.found}/{self.expected} expected memories"
        if self.passed:
            return f"passed the probe: {score}"
        invented = f", {self.invented} invented" if self.invented else ""
        stopped = f"; stopped after {self.read} of {len(PROBE)} messages" * (self.read < len(PROBE))
        return f"the model failed the probe: {score}{invented}{stopped}"


def _found(expected: tuple[str, ...], reading: Reading) -> bool:
    return any(all(w in c.text.casefold() for w in expected) for c in reading.kept)


class ProbeRun:
    """The probe, one message at a time (the chat reads one between turns), or all at once."""

    def __init__(self, model: Path) -> None:
        self.model = model
        self.next = 0
        self.found = 0
        self.missed = 0
        self.invented = 0
        self.seconds = 0.0

    @property
    def decided(self) -> bool:
        cannot_pass = self.invented > 0 or self.missed > EXPECTED - PASS_MARK
        return cannot_pass or self.next == len(PROBE)

    def step(self, read: Read) -> ProbeResult | None:
        """Read the next message; the result once the decision is made."""
        message = PROBE[self.next]
        started = time.perf_counter()
        reading = read(message.text, speaker=message.speaker, when=WHEN)
        self.seconds += time.perf_counter() - started
        self.next += 1
        hits = sum(_found(e, reading) for e in message.expected)
        self.found += hits
        self.missed += len(message.expected) - hits
        self.invented += len(reading.invented)
        if not message.expected:
            # A memory from a message that holds none is invented, however well it quotes.
            self.invented += len(reading.kept)
        return self.result() if self.decided else None

    def result(self) -> ProbeResult:
        st = self.model.stat()
        return ProbeResult(
            model=str(self.model),
            size_bytes=st.st_size,
            mtime_ns=st.st_mtime_ns,
            passed=self.next == len(PROBE) and self.invented == 0 and self.found >= PASS_MARK,
            found=self.found,
            invented=self.invented,
            read=self.next,
            seconds=round(self.seconds, 1),
        )


def run_probe(model: Path, read: Read) -> ProbeResult:
    """The whole probe at once (`hearth models info --probe`)."""
    run = ProbeRun(model)
    while (result := run.step(read)) is None:
        pass
    return result


def _load(cache: Path) -> dict[str, ProbeResult]:
    try:
        raw = json.loads(cache.read_text(encoding="utf-8"))
        return {k: ProbeResult.model_validate(v) for k, v in raw.items()}
    except (OSError, ValueError, ValidationError, AttributeError):
        return {}  # a cache: unreadable means probe again


def cached(cache: Path, model: Path) -> ProbeResult | None:
    """The decision for this version of this file, if one was made."""
    found = _load(cache).get(str(model.resolve()))
    with contextlib.suppress(OSError):
        st = model.stat()
        if found is not None and (found.size_bytes, found.mtime_ns, found.version) == (
            st.st_size,
            st.st_mtime_ns,
            PROBE_VERSION,
        ):
            return found
    return None


def save(cache: Path, result: ProbeResult) -> None:
    """Keep the decision (written whole and renamed: a crash leaves the old file or the new)."""
    entries = _load(cache)
    entries[str(Path(result.model).resolve())] = result
    tmp = cache.with_name(cache.name + ".tmp")
    tmp.write_text(
        json.dumps({k: v.model_dump() for k, v in entries.items()}, indent=1), encoding="utf-8"
    )
    os.replace(tmp, cache)
