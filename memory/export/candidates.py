"""Training candidates: replies that leaned on their recalled notes (`hearth score`'s figures).

A reply whose mean log-probability drops sharply when the notes are taken out of its prompt
relied on something the model has not internalised, so it is worth training on.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from memory.journal.journal import Journal

CANDIDATE_DROP = 0.5
"""Nats per reply token (mean log-probability, `full - no_notes`) at or above which a reply is
a candidate: with the notes each token was on average e^0.5 ≈ 1.6 times likelier, so the notes
carried what the reply needed; smaller drops are within what rewording the prompt moves."""

SCORE_COLUMNS = ("score_full", "score_no_notes", "score_drop")
"""The columns every export row carries (null when the reply was never scored, or, for the
last two, when no notes were recalled for it)."""


class ReplyScore(BaseModel):
    """One reply's figures from its most recent scoring (one model's run)."""

    full: float
    """Mean log-probability of the reply given the prompt it saw."""
    no_notes: float | None = None
    """The same without the recalled notes (None: none were recalled, or the prompt was cut)."""
    model_sha256: str

    @property
    def drop(self) -> float | None:
        """How much likelier the reply was with its notes (positive: they helped)."""
        return None if self.no_notes is None else self.full - self.no_notes

    @property
    def candidate(self) -> bool:
        drop = self.drop
        return drop is not None and drop >= CANDIDATE_DROP


def latest_scores(journal: Journal) -> dict[int, ReplyScore]:
    """Each scored reply's figures from the model that scored it last (by the `full` row's
    time; the model's sha256 breaks a tie), so a reply rescored after a model change is
    judged by the newer model, and full and no_notes always come from the same model."""
    by_model: dict[tuple[int, str], dict[str, float]] = {}
    when: dict[tuple[int, str], datetime] = {}
    for s in journal.scores_of(("full", "no_notes")):
        key = (s.message_id, s.model_sha256)
        by_model.setdefault(key, {})[s.variant] = s.mean_logprob
        if s.variant == "full":
            when[key] = s.scored_at
    latest: dict[int, tuple[tuple[datetime, str], ReplyScore]] = {}
    for (message_id, sha), variants in by_model.items():
        if "full" not in variants:
            continue
        order = (when[(message_id, sha)], sha)
        found = latest.get(message_id)
        if found is None or order > found[0]:
            score = ReplyScore(
                full=variants["full"], no_notes=variants.get("no_notes"), model_sha256=sha
            )
            latest[message_id] = (order, score)
    return {message_id: score for message_id, (_, score) in latest.items()}


def score_columns(score: ReplyScore | None) -> dict[str, float | None]:
    """The score columns of a row (all None for a reply never scored)."""
    if score is None:
        return dict.fromkeys(SCORE_COLUMNS)
    return {"score_full": score.full, "score_no_notes": score.no_notes, "score_drop": score.drop}
