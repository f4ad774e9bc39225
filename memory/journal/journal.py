"""The durable conversation journal: every session and message, in SQLite, the source of truth."""

from __future__ import annotations

from memory.journal.choices import ChoicesMixin
from memory.journal.ledger import LedgerMixin
from memory.journal.measures import MeasuresMixin
from memory.journal.purge import PurgeMixin
from memory.journal.redaction import RedactionMixin
from memory.journal.sessions import TITLE_CHARS, SessionsMixin, derived_title

__all__ = ["TITLE_CHARS", "Journal", "derived_title"]


# PurgeMixin builds on MessagesMixin, so it brings the messages in (after the other parts).
class Journal(SessionsMixin, ChoicesMixin, LedgerMixin, MeasuresMixin, RedactionMixin, PurgeMixin):
    """All reads and writes of the journal go through here; safe to share across threads."""
