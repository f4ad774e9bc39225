"""`hearth bench retrieval --as-chat`: a conversation remembered as a chat would remember it,
only the `user`'s turns through the chat's own write path."""

from __future__ import annotations

import json
from pathlib import Path

from agent.importing.records import Dataset
from benchmarks.dataset import scratch_home
from benchmarks.retrieval_as_chat import replay_as_chat
from benchmarks.retrieval_recall import run_retrieval_bench
from memory.graph.embedder import SentenceEmbedder
from memory.settings import MemorySettings
from tests.test_import import dataset_dict


def test_replay_keeps_only_the_users_words(embedder: SentenceEmbedder) -> None:
    conversation = Dataset.model_validate(dataset_dict()).conversations[0]  # Mara and Theo
    with scratch_home("said-test-", embedder, MemorySettings()) as (store, journal):
        ids = replay_as_chat(journal, store, conversation)
        assert set(ids) == {t.id for _s, _i, t in conversation.turns()}
        hers = {ids[t.id] for _s, _i, t in conversation.turns() if t.speaker == "Mara"}
        memories = store.list(valid_only=False)
        assert memories
        # Every memory cites only Mara's messages; Theo's words (his cat) are in none.
        assert all(set(m.provenance) <= hers for m in memories)
        assert not [m for m in memories if "Pepper" in m.text]
        said = {m.text for m in store.list(kinds=["said"])}
        assert "A small blue bowl, a bit lopsided." in said
        # Her previous message is each message's context, across Theo's reply.
        bowl = next(m for m in store.list(kinds=["said"]) if m.text.startswith("A small"))
        context = [e.dst for e in store.edges(bowl.id) if e.type == "related" and e.src == bowl.id]
        assert [store.get(i).text for i in context] == [
            "I love cats! I went to my first pottery class."
        ]


def test_as_chat_cannot_find_what_only_the_other_person_said(
    tmp_path: Path, embedder: SentenceEmbedder
) -> None:
    path = tmp_path / "synthetic.json"
    path.write_text(json.dumps(dataset_dict()))
    chat = run_retrieval_bench(path, limit=1, as_chat=True, embedder=embedder)
    assert chat.settings["as_chat"] is True
    hearth = chat.systems["hearth"]
    # q1 and q3 are about Theo, said by Theo only: a chat with Mara never heard them.
    assert hearth.per_category["1"].recall_20 == 0.0
    assert hearth.per_category["3"].recall_20 == 0.0
    # q2's evidence includes her answer, which she said.
    assert hearth.per_category["2"].recall_20 > 0.0
