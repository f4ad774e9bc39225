"""MemoryStore's forgetting, and the person's word on a memory (reject, accept)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from memory.errors import NotFoundError
from memory.graph import forgetting, rejections
from memory.graph.nodes import (
    Actor,
    ForgetReport,
    Memory,
)
from memory.graph.said import learned_from
from memory.graph.store_base import StoreBase
from memory.journal.journal import Journal

ACCEPTED_IMPORTANCE = 0.8
"""At least this important once the person has said a memory is right (`MemoryStore.accept`)."""


class StoreForgetting(StoreBase):
    """Forgetting (memory.graph.forgetting) and rejections (memory.graph.rejections)."""

    def forget(
        self,
        memory_id: str,
        journal: Journal | None = None,
        *,
        shown_as: forgetting.ShownAs | None = None,
        everywhere: bool = False,
    ) -> ForgetReport:
        """Remove one memory from every store and the lines that showed it to the model; history
        keeps a tombstone without its text. With `everywhere`, its words go too, as a phrase,
        wherever they are written (see `forget_matching`)."""
        memory = self.get(memory_id)
        reach = self._reach(journal, shown_as)
        if everywhere:
            said = memory.quote or memory.text
            return forgetting.forget(reach, self._with_matching(memory), said)
        return forgetting.forget(reach, [memory])

    def forget_matching(
        self,
        phrase: str,
        journal: Journal | None = None,
        *,
        shown_as: forgetting.ShownAs | None = None,
    ) -> ForgetReport:
        """Forget every memory whose text or subject contains the phrase (ignoring case), and
        replace the phrase in the journal's message texts and prompts, the log and exports."""
        reach = self._reach(journal, shown_as)
        return forgetting.forget(reach, forgetting.matching(reach, phrase), phrase)

    def preview_forget(
        self,
        *,
        memory_id: str | None = None,
        everywhere: bool = False,
        phrase: str | None = None,
        journal: Journal | None = None,
        shown_as: forgetting.ShownAs | None = None,
    ) -> forgetting.ForgetPreview:
        """What `forget(memory_id, everywhere=...)` (a memory id) or `forget_matching(phrase)`
        would change; nothing is written."""
        reach = self._reach(journal, shown_as)
        if memory_id is not None:
            memory = self.get(memory_id)
            if not everywhere:
                return forgetting.preview(reach, [memory])
            said = memory.quote or memory.text
            return forgetting.preview(reach, self._with_matching(memory), said)
        assert phrase is not None
        return forgetting.preview(reach, forgetting.matching(reach, phrase), phrase)

    def _with_matching(self, memory: Memory) -> builtins.list[Memory]:
        """The memory, then every other one holding its whole text or the words it came from
        (its quote: forgetting everywhere takes what the person said, however it was stored)."""
        # One scan of the table a phrase: most memories have no quote, or one that is the text.
        phrases = dict.fromkeys([memory.text, memory.quote or memory.text])
        ids = [i for phrase in phrases for i in self._db.matching(phrase)]
        return [memory, *(self.get(i) for i in dict.fromkeys(ids) if i != memory.id)]

    def _reach(
        self, journal: Journal | None, shown_as: forgetting.ShownAs | None = None
    ) -> forgetting.Reach:
        return forgetting.Reach(
            db=self._db,
            index=self._keeper,
            get=self.get,
            log_file=self.paths.log_file,
            journal=journal,
            exports_dir=self.paths.exports_dir,
            shown_as=shown_as,
            data_dir=self.paths.data_dir,
        )

    # -- the person's word on a memory (memory.graph.rejections) ----------------------------

    def reject(
        self,
        memory_id: str,
        journal: Journal | None = None,
        *,
        shown_as: forgetting.ShownAs | None = None,
    ) -> ForgetReport:
        """The person says a memory is wrong: it is forgotten (as `forget` does) and never
        learned again from the same words. What is kept is keyed hashes of every text it had
        and of the sentences it was learned from (found in `journal`), never the words.

        Rejecting the person's kept words (`said`) rejects what was learned from them as well,
        as rejecting what was learned takes the words (memory.graph.said): both say the same
        thing, and one kept would bring the other's meaning back."""
        self._require_write()
        memory = self.get(memory_id)
        rejected = [memory, *learned_from(self._db, memory)]
        key = self._key(create=True)
        assert key is not None
        digests = [d for m in rejected for d in self._digests(key, m, journal)]
        with self._db.tx() as db:
            # Before the forget: a crash between the two leaves it rejected, never relearnable.
            self._db.add_rejections(db, digests)
            for m in rejected:
                self._db.record(db, m.id, "reject", "user", detail={"kind": m.kind})
        return forgetting.forget(self._reach(journal, shown_as), rejected)

    def _digests(self, key: bytes, memory: Memory, journal: Journal | None) -> builtins.list[str]:
        """The keyed hashes that keep a rejected memory from being learned again: of every
        text it had and of the sentences it was learned from."""
        texts = [memory.text, *(e.text for e in self._db.history(memory.id) if e.text)]
        # The words as said, too: memory text is written about the person, the quote is what
        # a message holds, and the same words said again are the same rejected memory.
        texts += [memory.quote] if memory.quote else []
        sentences = [
            sentence
            for message in self._messages(journal, memory.provenance)
            for text in texts
            if (sentence := rejections.source_sentence(message, text))
        ]
        return rejections.digests(key, texts, sentences)

    def rejected(self, *texts: str, said_in: str | None = None) -> bool:
        """Whether the person rejected a memory of any of these words (a memory's text, the
        quote it came from), or one learned from the sentence of `said_in` (the message) that
        says them. One lookup for them all."""
        if not self._db.rejected():
            return False  # nothing rejected yet: no key to read (nor to make)
        key = self._key(create=False)
        if key is None:
            return False  # its key is gone, so no hash kept can be matched any more
        found = [rejections.source_sentence(said_in, t) for t in texts] if said_in else []
        sentences = [s for s in found if s]
        return self._db.rejected(rejections.digests(key, list(texts), sentences))

    def accept(self, memory_id: str, *, actor: Actor = "user") -> Memory:
        """The person says a memory is right.

        The graph has no confidence field and no "confirmed" mark, so accepting uses what it
        has: an `accept` entry in the memory's history (who, when: `accepted` reads it) and its
        importance raised to at least ACCEPTED_IMPORTANCE, so recall ranks it higher. Its base
        importance is raised too, so consolidation's decay starts from there, not below."""
        self._require_write()
        memory = self.get(memory_id)
        importance = max(memory.importance, ACCEPTED_IMPORTANCE)
        changes: dict[str, Any] = {"importance": importance}
        if memory.base_importance is not None:
            changes["base_importance"] = max(memory.base_importance, ACCEPTED_IMPORTANCE)
        with self._db.tx() as db:
            self._db.update(db, memory_id, **changes)
            self._db.record(db, memory_id, "accept", actor, detail={"importance": importance})
        return self.get(memory_id)

    def accepted(self, memory_id: str) -> bool:
        """Whether the person ever accepted this memory (`accept`)."""
        return any(e.action == "accept" for e in self._db.history(memory_id))

    def _key(self, *, create: bool) -> bytes | None:
        if self._rejections_key is None:
            self._rejections_key = rejections.read_key(self.paths.rejections_key, create=create)
        return self._rejections_key

    @staticmethod
    def _messages(journal: Journal | None, ids: Sequence[int]) -> builtins.list[str]:
        """The texts of these journal messages that are still there."""
        if journal is None:
            return []
        found: builtins.list[str] = []
        for message_id in ids:
            try:
                found.append(journal.message(message_id).text)
            except NotFoundError:
                continue  # purged (said off the record) or forgotten with its session
        return found
