"""A wording recalled once: a message sent again is remembered again, and shown once."""

from __future__ import annotations

from agent.recall import recall
from memory.graph.embedder import SentenceEmbedder
from memory.graph.nodes import NewMemory
from memory.graph.store import MemoryStore
from memory.settings import MemorySettings, Paths, Settings

SAID = "I live in Lisbon with my cat Miso."


def test_the_same_words_remembered_three_times_are_shown_once(
    paths: Paths, embedder: SentenceEmbedder
) -> None:
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        repeats = store.add_many(
            [
                NewMemory(text=SAID, provenance=[1]),
                NewMemory(text="i live in  Lisbon with my cat miso.", provenance=[3]),
                NewMemory(text=SAID, provenance=[5]),
                NewMemory(text="My cat Miso is a grey tabby.", provenance=[7]),
                # The same words about someone else are another note.
                NewMemory(text=SAID, subject="Ana", provenance=[9]),
            ]
        )
        hits = recall(
            store, "Where do I live with Miso?", exclude=set(), visible=set(),
            settings=MemorySettings(recall_k=6), count=len,
        )  # fmt: skip
        shown = [h.memory for h in hits]
        assert len([m for m in shown if m.subject == "user"]) == 2, [m.text for m in shown]
        assert {m.id for m in shown if m.subject == "user"} & {m.id for m in repeats[:3]}
        assert repeats[3].id in {m.id for m in shown}
        assert repeats[4].id in {m.id for m in shown}
        # Every repeat is still a memory of its own: only the prompt shows one.
        assert store.count() == 5
