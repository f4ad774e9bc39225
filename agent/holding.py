"""What the process holding the data dir offers the others: the data dir lent over hearth.sock,
and the files that say where `hearth serve` listens and what token it wants.

Named here so the face (the chat, `hearth serve`) reaches memory only through the agent.
"""

from __future__ import annotations

from memory.coordination.lending import Borrower as Borrower
from memory.coordination.lending import Lender as Lender
from memory.coordination.lending import OwnerClosing as OwnerClosing
from memory.coordination.lending import socket_path as socket_path
from memory.coordination.serve_files import publish as publish
from memory.coordination.serve_files import serve_token as serve_token
from memory.coordination.serve_files import withdraw as withdraw
