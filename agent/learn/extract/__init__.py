"""Rules-based memory extraction: candidate memories from one human message, with no model."""

from agent.learn.extract.candidate import Candidate
from agent.learn.extract.dates import resolve_when
from agent.learn.extract.pipeline import extract
from agent.learn.extract.vocabulary import compile_rules

__all__ = ["Candidate", "compile_rules", "extract", "resolve_when"]
