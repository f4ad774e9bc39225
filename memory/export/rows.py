"""Training rows from the journal, one format at a time: which replies count, and their shape.

Which replies a row trains:
- only complete replies with text; partial, failed and empty ones are context at most;
- `min_rating` (default 0, or -1 for KTO): a reply rated below it is not trained;
- `since` / `until`: the reply was written in that window (earlier messages stay as context);
- `only_new`: no earlier export of the same kind trained it;
- synthetic messages (meta {"synthetic": true}) are left out unless asked for, and a dream's
  (`MessageMeta.dream`) even then unless the person accepted or edited it in review: a pending
  or rejected dream never reaches any export;
- replies another model wrote, brought in by `hearth import` (meta `imported`), are left out
  unless asked for (`include_imported`): Hearth built no prompt for them, and other
  providers' terms may restrict training on them;
- `candidates`: only training candidates (`memory.export.candidates`), never a reply unscored;
- temporary sessions are never exported, nor is any message said off the record (or a reply
  to one): a session is read as if they were already purged (`memory.journal.offrecord`).

Conversation rows (SFT `messages`, ShareGPT) train every reply they hold, so such a row stops
before the first reply that must not be trained and after the last one that is selected.
OpenAI rows carry a weight per reply instead (0 for context). Context-frozen rows, DPO and KTO
use the prompt exactly as the model saw it (memories included).

Every row carries its reply's scores (`Row.score`): a one-reply row its reply's, DPO its
`chosen` reply's, a conversation row those of its trained reply with the largest drop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from memory.errors import ExportError
from memory.export.candidates import ReplyScore, latest_scores
from memory.export.kinds import ExportKind, candidates_refused
from memory.journal.journal import Journal
from memory.journal.offrecord import on_record
from memory.journal.schemas import EXPORTABLE_REVIEWS, RECOVERED_SOURCE, ChatMessage, Message
from memory.journal.signals import Feedback, Rating
from memory.journal.tree import ConversationTree

SHAREGPT_FROM = {"system": "system", "user": "human", "assistant": "gpt"}


class ExportFilters(BaseModel):
    """What to take from the journal and how to shape it."""

    since: datetime | None = None
    until: datetime | None = None
    session_id: int | None = None
    min_rating: Rating | None = None
    """None means 0 (thumbs-down replies are left out), or -1 for KTO (they are its negatives)."""
    only_new: bool = False
    include_synthetic: bool = False
    include_imported: bool = False
    """Replies other models wrote, brought in by `hearth import` (left out by default)."""
    context_frozen: bool = False
    system_prompt: Literal["keep", "strip"] = "keep"
    candidates: bool = False
    """Only replies that are training candidates (their notes carried them)."""

    @field_validator("since", "until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        # A date typed without a zone means the user's own clock; the journal stores UTC.
        return value.astimezone() if value is not None and value.tzinfo is None else value


class Row(BaseModel):
    """One line of an export, and the journal messages behind it."""

    data: dict[str, Any]
    trained_ids: list[int]
    context_ids: list[int]
    signal: str
    trained_at: list[datetime]
    models: list[str] = Field(default_factory=list)
    session_id: int
    corrections: int = 0
    """User messages in the row flagged as correcting the reply before them."""
    notes: int = 0
    """Trained replies the user left a note on."""
    score: ReplyScore | None = None
    """The scores the row carries as columns (None: its reply was never scored)."""
    synthetic: bool = False
    """It trains a made-up reply: a dream's (`hearth dream`), accepted or edited in review."""
    imported: bool = False
    """It trains a reply another model wrote, brought in by `hearth import`."""


class CandidateCount(BaseModel):
    """What `candidates` did to the replies that passed every other filter."""

    replies: int = 0
    candidates: int = 0
    unscored: int = 0
    """Never scored by any model: `hearth score` first, or they can never be candidates."""


class _Source:
    """The journal, read once, with the filters applied to single messages."""

    def __init__(self, journal: Journal, kind: ExportKind, filters: ExportFilters) -> None:
        self.kind = kind
        self.filters = filters
        self.feedback: dict[int, Feedback] = journal.feedbacks()
        self.choices = journal.choices()
        self.exported = journal.exported_message_ids(kind) if filters.only_new else set()
        default = -1 if kind == "kto" else 0
        self.min_rating = filters.min_rating if filters.min_rating is not None else default
        self.scores = latest_scores(journal)
        # Replies that passed every filter but `candidates`.
        self.considered: set[int] = set()

    def candidate(self, reply: Message) -> bool:
        """A training candidate, or any reply when the export does not ask for candidates;
        counts the replies it was asked about."""
        if not self.filters.candidates:
            return True
        self.considered.add(reply.id)
        return self._is_candidate(reply.id)

    def _is_candidate(self, reply_id: int) -> bool:
        score = self.scores.get(reply_id)
        return score is not None and score.candidate

    def count(self) -> CandidateCount | None:
        if not self.filters.candidates:
            return None
        return CandidateCount(
            replies=len(self.considered),
            candidates=sum(1 for i in self.considered if self._is_candidate(i)),
            unscored=sum(1 for i in self.considered if i not in self.scores),
        )

    def rating(self, message: Message) -> int:
        found = self.feedback.get(message.id)
        return found.rating if found else 0

    def synthetic(self, message: Message) -> bool:
        """A made-up message, or an imported reply, this export leaves out (what it says of a
        reply, it says of any row holding it). A message recovered from a memory's quote is left
        out always: its words are a fragment and its reply is lost."""
        if message.meta.source == RECOVERED_SOURCE:
            return True
        imported = message.meta.imported is not None and message.role == "assistant"
        if imported and not self.filters.include_imported:
            return True
        if not message.meta.synthetic:
            return False
        if not self.filters.include_synthetic:
            return True
        dream = message.meta.dream
        return dream is not None and dream.review not in EXPORTABLE_REVIEWS

    def kept_by_person(self, reply: Message) -> bool:
        """The person chose this reply or rated it up (not merely left it the latest)."""
        return self.choices.get(reply.parent_id or 0) == reply.id or self.rating(reply) > 0

    def looped(self, reply: Message) -> bool:
        """Cut for repeating itself (agent/reply_end.py), and not kept by the person anyway."""
        return reply.usage.finish_reason == "loop" and not self.kept_by_person(reply)

    def trainable(self, reply: Message) -> bool:
        """A reply good enough to learn from: complete, with text, rated high enough, and not
        cut for looping unless the person kept it."""
        return (
            reply.role == "assistant"
            and reply.status == "complete"
            and bool(reply.text.strip())
            and self.rating(reply) >= self.min_rating
            and not self.synthetic(reply)
            and not self.looped(reply)
        )

    def selected(self, reply: Message) -> bool:
        """Trainable, and inside the export's window and novelty filters."""
        f = self.filters
        return (
            self.trainable(reply)
            and (f.since is None or reply.created_at >= f.since)
            and (f.until is None or reply.created_at < f.until)
            and reply.id not in self.exported
            and self.candidate(reply)  # last: it counts only replies every other filter kept
        )

    def prompt(self, reply: Message, tree: ConversationTree) -> list[dict[str, Any]]:
        """The messages the model saw for this reply (rebuilt from the thread if unrecorded)."""
        if reply.prompt is not None:
            shown = reply.prompt
        else:
            before = tree.path(reply)[:-1]
            shown = [ChatMessage(role=m.role, content=m.text) for m in before if m.text]
        # Only the leading system message (the persona) is stripped: memories shown to the
        # model later in the prompt are part of what the reply answered.
        if shown and shown[0].role == "system" and self.filters.system_prompt == "strip":
            shown = shown[1:]
        return [{"role": m.role, "content": m.content} for m in shown]

    def system(self, replies: list[Message]) -> list[dict[str, Any]]:
        """The system message of the latest reply's prompt, for a whole-conversation row."""
        if self.filters.system_prompt == "strip":
            return []
        for reply in reversed(replies):
            if reply.prompt and reply.prompt[0].role == "system":
                return [{"role": "system", "content": reply.prompt[0].content}]
        return []

    def context_ids(self, reply: Message, tree: ConversationTree) -> list[int]:
        trimmed = set(reply.meta.trimmed)
        return [m.id for m in tree.path(reply)[:-1] if m.id not in trimmed]


def build_rows(
    journal: Journal,
    kind: ExportKind,
    filters: ExportFilters,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Row], CandidateCount | None]:
    """Every row of one export, oldest session first (nothing is written), and with
    `candidates` how many replies were candidates or never scored."""
    if filters.candidates and candidates_refused(kind, filters.context_frozen):
        raise ExportError(f"--candidates with {kind} needs --context-frozen (one reply a row)")
    source = _Source(journal, kind, filters)
    sessions = [
        s
        for s in sorted(journal.sessions(), key=lambda s: s.id)
        if not s.temporary and (filters.session_id is None or s.id == filters.session_id)
    ]
    rows: list[Row] = []
    seen: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
    for done, session in enumerate(sessions, start=1):
        messages = on_record(journal.messages(session.id, newest_first=False))
        tree = ConversationTree(messages, source.choices)
        for row in _rows_for(kind, source, tree):
            key = (tuple(row.trained_ids), tuple(row.context_ids))
            if key not in seen:  # two branches can come down to the same row
                seen.add(key)
                rows.append(row)
        if progress is not None:
            progress(done, len(sessions))
    return rows, source.count()


def _rows_for(kind: ExportKind, source: _Source, tree: ConversationTree) -> Iterator[Row]:
    if kind == "dpo":
        yield from _dpo(source, tree)
    elif kind == "kto":
        yield from _kto(source, tree)
    elif source.filters.context_frozen:
        yield from _frozen(kind, source, tree)
    elif kind == "openai":
        yield from _openai(source, tree)
    else:
        yield from _conversations(kind, source, tree)


def _row(
    data: dict[str, Any],
    trained: list[Message],
    context: list[int],
    signal: str,
    source: _Source,
    tree: ConversationTree,
) -> Row:
    trained_ids = [m.id for m in trained]
    context = [i for i in context if i not in trained_ids]
    # DPO trains `chosen` (first) towards and `rejected` away: the row's scores are chosen's.
    scored = trained[:1] if signal in ("sibling", "edit") else trained
    in_row = [tree.by_id[i] for i in context if i in tree.by_id]
    return Row(
        data=data,
        trained_ids=trained_ids,
        context_ids=context,
        signal=signal,
        trained_at=[m.created_at for m in trained],
        models=sorted({m.model.name for m in trained if m.model is not None}),
        session_id=trained[0].session_id,
        corrections=sum(1 for m in in_row if m.meta.correction),
        notes=sum(1 for m in trained if (f := source.feedback.get(m.id)) and f.note),
        score=_row_score(source, scored),
        synthetic=any(m.meta.synthetic for m in trained),
        imported=any(m.meta.imported is not None for m in trained),
    )


def _row_score(source: _Source, trained: list[Message]) -> ReplyScore | None:
    """The scores of the trained reply that leaned on its notes the most (one with no drop
    ranks below any; of equals, the earlier), so a conversation row is as much a candidate as
    its strongest reply."""
    found = [s for m in trained if (s := source.scores.get(m.id)) is not None]
    if not found:
        return None
    # max keeps the first of equals; a missing drop ranks below any figure.
    return max(found, key=lambda s: (s.drop is not None, s.drop or 0.0))


def _cut_synthetic(source: _Source, path: list[Message]) -> list[Message]:
    for i, m in enumerate(path):
        if source.synthetic(m):
            return path[:i]
    return path


def _conversations(kind: ExportKind, source: _Source, tree: ConversationTree) -> Iterator[Row]:
    """SFT `messages` / ShareGPT `conversations`: every reply in the row is trained."""
    for branch in tree.conversations():
        path = _cut_synthetic(source, branch)
        for i, m in enumerate(path):
            if m.role == "assistant" and not source.trainable(m):
                path = path[:i]
                break
        last = max((i for i, m in enumerate(path) if source.selected(m)), default=None)
        if last is None:
            continue
        path = path[: last + 1]
        replies = [m for m in path if m.role == "assistant"]
        turns = [{"role": m.role, "content": m.text} for m in path]
        messages = source.system(replies) + turns
        context = [m.id for m in path if m.role != "assistant"]
        if kind == "sharegpt":
            data: dict[str, Any] = {"conversations": _sharegpt(messages)}
        else:
            data = {"messages": messages}
        yield _row(data, replies, context, "conversation", source, tree)


def _openai(source: _Source, tree: ConversationTree) -> Iterator[Row]:
    """OpenAI chat: the whole branch, weight 1 on the selected replies, 0 on the others."""
    for branch in tree.conversations():
        path = _cut_synthetic(source, branch)
        last = max((i for i, m in enumerate(path) if source.selected(m)), default=None)
        if last is None:
            continue
        # Failed and empty replies never reach the model's context, so not the row's either.
        path = [m for m in path[: last + 1] if m.text and m.status != "error"]
        replies = [m for m in path if m.role == "assistant"]
        messages: list[dict[str, Any]] = source.system(replies)
        for m in path:
            entry: dict[str, Any] = {"role": m.role, "content": m.text}
            if m.role == "assistant":
                entry["weight"] = int(source.selected(m))
            messages.append(entry)
        trained = [m for m in replies if source.selected(m)]
        context = [m.id for m in path if not (m.role == "assistant" and source.selected(m))]
        yield _row({"messages": messages}, trained, context, "conversation", source, tree)


def _frozen(kind: ExportKind, source: _Source, tree: ConversationTree) -> Iterator[Row]:
    """Context-frozen: one row per kept reply, its prompt exactly as the model saw it."""
    for reply in tree.by_id.values():
        if (
            not tree.is_kept(reply)
            or not source.selected(reply)
            or _synthetic_prompt(source, tree, reply)
        ):
            continue
        prompt = source.prompt(reply, tree)
        completion = {"role": "assistant", "content": reply.text}
        if kind == "sft":
            data: dict[str, Any] = {"prompt": prompt, "completion": [completion]}
        elif kind == "openai":
            shown = [{**m, "weight": 0} if m["role"] == "assistant" else m for m in prompt]
            data = {"messages": [*shown, {**completion, "weight": 1}]}
        else:
            data = {"conversations": _sharegpt([*prompt, completion])}
        context = source.context_ids(reply, tree)
        yield _row(data, [reply], context, "reply", source, tree)


def _kto(source: _Source, tree: ConversationTree) -> Iterator[Row]:
    """KTO: every rated reply (kept or not) with its prompt; the label is the thumb."""
    for reply in tree.by_id.values():
        rating = source.rating(reply)
        if rating == 0 or not source.selected(reply) or _synthetic_prompt(source, tree, reply):
            continue
        data = {
            "prompt": source.prompt(reply, tree),
            "completion": [{"role": "assistant", "content": reply.text}],
            "label": rating > 0,
        }
        signal = "thumbs_up" if rating > 0 else "thumbs_down"
        yield _row(data, [reply], source.context_ids(reply, tree), signal, source, tree)


def _dpo(source: _Source, tree: ConversationTree) -> Iterator[Row]:
    """DPO: the kept reply over each other version, and each edit over what it corrected."""
    for user in [m for m in tree.by_id.values() if m.role == "user"]:
        replies = {m.id: m for m in tree.replies(user.id) if _pairable(source, m)}
        pairs: dict[tuple[int, int], str] = {}
        for m in replies.values():
            original = m.meta.edit_of
            if original is not None and original in replies:
                pairs[(m.id, original)] = "edit"
        kept = tree.kept(user.id)
        if kept is not None and kept.id in replies:
            for other in replies:
                # An edit says which of the two is better even if the original was chosen later.
                if other != kept.id and (other, kept.id) not in pairs:
                    pairs.setdefault((kept.id, other), "sibling")
        for (chosen_id, rejected_id), signal in sorted(pairs.items()):
            chosen, rejected = replies[chosen_id], replies[rejected_id]
            if _parallel(chosen, rejected) or not _good_pair(source, tree, chosen, rejected):
                continue
            prompt_from = chosen if chosen.prompt is not None else rejected
            data = {
                "prompt": source.prompt(prompt_from, tree),
                "chosen": [{"role": "assistant", "content": chosen.text}],
                "rejected": [{"role": "assistant", "content": rejected.text}],
            }
            context = source.context_ids(prompt_from, tree)
            yield _row(data, [chosen, rejected], context, signal, source, tree)


def _parallel(chosen: Message, rejected: Message) -> bool:
    """Two models' answers to one message asked of both at once (Open WebUI): not a choice
    between versions of one reply."""
    a, b = chosen.meta.imported, rejected.meta.imported
    return a is not None and b is not None and (a.parallel or b.parallel) and a.model != b.model


def _pairable(source: _Source, reply: Message) -> bool:
    return reply.status == "complete" and bool(reply.text.strip()) and not source.synthetic(reply)


def _good_pair(source: _Source, tree: ConversationTree, chosen: Message, rejected: Message) -> bool:
    f = source.filters
    when = max(chosen.created_at, rejected.created_at)
    return (
        chosen.text.strip() != rejected.text.strip()
        and not source.looped(chosen)  # as `rejected`, a loop is just what to train away
        and source.rating(chosen) >= source.min_rating
        # A thumbs-up on the one not kept contradicts the choice: no pair rather than a wrong one.
        and source.rating(rejected) <= source.rating(chosen)
        and (f.since is None or when >= f.since)
        and (f.until is None or when < f.until)
        and not {chosen.id, rejected.id} <= source.exported
        and not _synthetic_prompt(source, tree, chosen)
        and source.candidate(chosen)  # the reply the pair trains towards
    )


def _synthetic_prompt(source: _Source, tree: ConversationTree, reply: Message) -> bool:
    return any(source.synthetic(m) for m in tree.path(reply))


def _sharegpt(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"from": SHAREGPT_FROM[m["role"]], "value": m["content"]} for m in messages]
