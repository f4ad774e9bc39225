"""What the face needs to show stored text safely: inert text and the secret check, from memory."""

from __future__ import annotations

from memory.controls import inert
from memory.secrets import has_secret, secret_kinds

__all__ = ["has_secret", "inert", "secret_kinds"]
