"""Which memories are shown with a message: what the window shows is skipped, in a budget."""

from __future__ import annotations

from agent.recall import recall
from memory.graph.embedder import SentenceEmbedder
from memory.graph.nodes import NewMemory
from memory.graph.store import MemoryStore
from memory.settings import MemorySettings, Paths, Settings

TEA_TODAY = [f"I drank a cup of green tea at {hour} o'clock today." for hour in range(1, 7)]
TEA_LAST_YEAR = "Last year in Kyoto I learned to make green tea properly."


def test_memories_of_the_window_do_not_hide_older_ones(
    paths: Paths, embedder: SentenceEmbedder
) -> None:
    # Six memories of messages still in view rank above the one from last year: recall
    # skips them and still finds it, though it asks for only two.
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        store.add_many([NewMemory(text=t, provenance=[i + 1]) for i, t in enumerate(TEA_TODAY)])
        old = store.add(TEA_LAST_YEAR, provenance=[100])
        in_view = set(range(1, len(TEA_TODAY) + 1))
        ranked = [h.memory.id for h in store.search("green tea", 7)]
        assert old.id not in ranked[:2]  # the case this test is about
        hits = recall(
            store, "green tea", exclude=set(), visible=in_view,
            settings=MemorySettings(recall_k=2), count=len,
        )  # fmt: skip
        assert [h.memory.id for h in hits] == [old.id]


def test_a_small_window_gets_a_smaller_share_of_notes(
    paths: Paths, embedder: SentenceEmbedder
) -> None:
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        store.add_many([NewMemory(text=t) for t in TEA_TODAY])
        settings = MemorySettings(recall_k=6, recall_tokens=2000)

        def shown(window: int | None) -> int:
            hits = recall(
                store, "green tea", exclude=set(), visible=set(), settings=settings,
                count=len, window=window,
            )  # fmt: skip
            return sum(len(h.memory.text) + 12 for h in hits)

        assert shown(None) > 200  # the setting alone allows them all
        assert 0 < shown(1024) <= 1024 // 8  # an eighth of the window, however large the setting


def test_a_note_far_from_the_message_in_meaning_is_not_shown(
    paths: Paths, embedder: SentenceEmbedder
) -> None:
    # Six slots, four memories: only the one about the parrot is near the question; the
    # others would be shown only for being recent, and a small model answers with them.
    texts = [
        "Ingrid's parrot Pickle is a grey",
        "Ingrid drives an old red Saab",
        "Ingrid's favourite food is mushroom risotto",
        "Ingrid works as a carpenter",
    ]
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        store.add_many([NewMemory(text=t) for t in texts])
        assert len(store.search("What is my parrot called?", 6)) == 4  # all found, ranked
        hits = recall(
            store, "What is my parrot called?", exclude=set(), visible=set(),
            settings=MemorySettings(recall_k=6), count=len,
        )  # fmt: skip
        assert [h.memory.text for h in hits] == [texts[0]]
