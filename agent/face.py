"""Memory's records as the face (tui/) shows them, and what keeps stored text inert on a screen.

Named here so the face reaches memory only through the agent (pyproject's import contract);
the types it only annotates with are imported for the type checker alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memory.backup_ledger import OutsideBackup as OutsideBackup
from memory.controls import inert as inert
from memory.controls import json_line as json_line
from memory.graph.flags import SECRET as SECRET
from memory.graph.kinds import COUNTED_KINDS as COUNTED_KINDS
from memory.graph.nodes import KINDS as KINDS
from memory.graph.nodes import Edge as Edge
from memory.graph.nodes import ForgetReport as ForgetReport
from memory.graph.nodes import Hit as Hit
from memory.graph.nodes import Kind as Kind
from memory.graph.nodes import Memory as Memory
from memory.journal.schemas import ModelInfo as ModelInfo
from memory.secrets import has_secret as has_secret
from memory.secrets import secret_kinds as secret_kinds

if TYPE_CHECKING:
    from memory.damage import RecoveryReport as RecoveryReport
    from memory.forget_backups import Action as Action
    from memory.graph.forgetting import ForgetPreview as ForgetPreview
    from memory.graph.nodes import HistoryEntry as HistoryEntry
    from memory.graph.people import Mentions as Mentions
    from memory.graph.store import MemoryStore as MemoryStore
    from memory.journal.journal import Journal as Journal
    from memory.journal.schemas import Message as Message
    from memory.journal.schemas import Review as Review
