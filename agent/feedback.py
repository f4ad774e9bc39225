"""What the user says about replies, shared by the CLI and the TUI: regenerate, choose, edit, rate.

Every operation writes the journal only, and never rewrites a message: a regeneration or an
edit is a new sibling, so the exporters can pair it with what it replaced.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable

from agent.turn import Agent, Remembered
from agent.turn_result import TurnResult
from memory.errors import DreamError, FeedbackError
from memory.journal.journal import Journal
from memory.journal.schemas import Message
from memory.journal.signals import Feedback


def regenerate(
    agent: Agent,
    turn_id: int,
    *,
    on_piece: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
    keep: bool = True,
    on_remembered: Remembered | None = None,
) -> TurnResult:
    """A new reply beside reply `turn_id`, from the same user message and the same prompt path.

    `turn_id` may also be a user message: the new reply answers it (after a user edit, say).
    The regeneration is the one the chat now goes on from; with `keep` it is also recorded as
    the kept reply (an interrupted one too: it trains nothing itself, but the conversation
    after it does). The chat passes `keep=False`: there the choice is made by going on from
    one of the versions the person swiped through.

    Each regeneration samples with a fresh seed, recorded with the reply: the same prompt and
    seed would give the same text again (llama.cpp's default seed is the same in every process,
    and a configured seed is fixed by design).
    """
    message = agent.journal.message(turn_id)
    user_id = message.id if message.role == "user" else message.parent_id
    if user_id is None or message.role == "system":
        raise FeedbackError(f"message {turn_id} answers nothing; regenerate a reply or a user turn")
    sampling = agent.settings.sampling.model_copy(update={"seed": secrets.randbits(31)})
    result = agent.reply_to(
        user_id, on_piece=on_piece, stop=stop, sampling=sampling, on_remembered=on_remembered
    )
    if keep:
        agent.journal.choose(result.turn_id)
    return result


def not_a_dream(journal: Journal, turn_id: int) -> Message:
    """The message, unless it is a dream's: dreams are reviewed (`hearth dream review`), never
    answered again or edited as chat turns (answered again, one would be remembered as said)."""
    message = journal.message(turn_id)
    if message.meta.synthetic:
        raise DreamError(
            f"message {turn_id} is a dream's; review it with `hearth dream review` "
            "(--edit corrects its reply)"
        )
    return message


def choose(journal: Journal, turn_id: int) -> Message:
    """Keep reply `turn_id` over its siblings (the others become alternatives)."""
    return journal.choose(turn_id)


def edit(journal: Journal, turn_id: int, text: str) -> Message:
    """A corrected version of a message beside the original, which stays (see `Journal.edit`)."""
    # A dream's review state goes with its edit: `hearth dream review --edit` makes both.
    original = not_a_dream(journal, turn_id)
    if not text.strip():
        raise FeedbackError("an edit needs some text; to drop a reply, choose another one")
    if text == original.text:
        raise FeedbackError(f"the text is the same as message {turn_id}'s; nothing to edit")
    return journal.edit(turn_id, text)


def feedback(
    journal: Journal, turn_id: int, rating: int | None = None, note: str | None = None
) -> Feedback:
    """Thumbs up (+1), down (-1) or cleared (0) on a reply, and/or a note; None keeps a field."""
    if rating not in (None, -1, 0, 1):
        raise FeedbackError(f"a rating is -1, 0 or +1, not {rating}")
    return journal.set_feedback(turn_id, rating=rating, note=note)
