"""Rules-based memory extraction: candidate memories from one human message, with no model."""

from agent.learn.extract.candidate import Candidate
from agent.learn.extract.dates import resolve_when
from agent.learn.extract.pipeline import extract

__all__ = ["Candidate", "extract", "resolve_when"]
