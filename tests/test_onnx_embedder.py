"""The bundled embedder without torch: the same vectors, hits and identity, and `say` never
imports torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from memory.graph.embedder import (
    OnnxEmbedder,
    SentenceEmbedder,
    bundled_model_dir,
    make_embedder,
)
from memory.graph.onnx_runtime import MODEL_FILE, RECORD_FILE, export_dir
from memory.graph.store import MemoryStore
from memory.settings import Paths, Settings
from tests.conftest import seed

SENTENCES = (
    "I live in Lisbon with my cat Miso.",
    "My sister Ana is a nurse at the children's hospital.",
    "I started learning the cello last spring.",
    "We adopted a grey kitten from the shelter in March.",
    "My favourite food is grilled sardines with lemon.",
    "I'm allergic to peanuts, so I always check labels.",
    "My brother Tom lives in Toronto and works as a carpenter.",
    "I ran my first half marathon in under two hours.",
    "The dentist appointment is on Tuesday at 9.",
    "I can't stand horror films; they give me nightmares.",
    "My grandmother taught me to bake sourdough bread.",
    "I've been feeling anxious about the job interview.",
    "Our flat has a tiny balcony full of tomato plants.",
    "I drive an old blue Volvo that keeps breaking down.",
    "My partner Sam and I met at a climbing gym.",
    "I work night shifts at the airport cargo terminal.",
    "Chess club meets every Thursday evening at the library.",
    "I'm saving up for a trip to Japan next autumn.",
    "My dog Pepper is afraid of thunderstorms.",
    "I stopped drinking coffee and switched to green tea.",
    "My dad had knee surgery last month and is recovering.",
    "I volunteer at the food bank on Saturday mornings.",
    "I studied marine biology at university.",
    "The neighbours' party kept me awake until 3 am.",
    "I'm vegetarian but I still eat fish sometimes.",
    "Our team won the pub quiz for the third week running.",
    "I love reading science fiction, especially Ursula Le Guin.",
    "My son Leo just lost his first tooth.",
    "I'm thinking of quitting my job to start a bakery.",
    "The heating in the office has been broken all week.",
    "I play bass in a small jazz band.",
    "My best friend Priya moved to Berlin in January.",
    "I get migraines when I don't sleep enough.",
    "We're repainting the kitchen a pale yellow.",
    "I've never learned to swim and I'm a bit embarrassed about it.",
    "My mum calls every Sunday after church.",
    "I collect vintage postcards from seaside towns.",
    "The bus to work was cancelled again this morning.",
    "I'm training to become a paramedic.",
    "Hoje fui à praia com os meus amigos.",
    "Ich habe heute Kuchen gebacken.",
    "我今天很累但是很开心。",
    "ok 👍 see you at 7:30?? 🎉",
    "",
    "   leading and trailing spaces   ",
    "hi",
    "lol",
    "The meeting moved to Thursday because Priya's flight was delayed by the storm. " * 20,
    "What was the name of that restaurant with the blue door?",
    "Remind me what my sister does for a living.",
)
"""About fifty sentences: facts, small talk, other scripts, emoji, empty, past 256 tokens."""

QUERIES = (
    "Where do I live?",
    "What pets do I have?",
    "What is my sister's job?",
    "What instrument do I play?",
    "What am I allergic to?",
    "Tell me about my family.",
    "What do I do on weekends?",
    "Where did my friend move?",
)


@pytest.fixture(scope="module")
def onnx_embedder() -> OnnxEmbedder:
    """The bundled model through onnxruntime, its export made here if setup has not."""
    model = OnnxEmbedder()
    model.embed(["warm up"])
    assert not model.uses_torch
    return model


def _top10(vectors: np.ndarray, queries: np.ndarray) -> list[list[int]]:
    return [list(np.argsort(-(vectors @ q), kind="stable")[:10]) for q in queries]


def test_the_same_vectors_and_top_hits_as_torch(
    embedder: SentenceEmbedder, onnx_embedder: OnnxEmbedder
) -> None:
    torch_vectors = embedder.embed(SENTENCES)
    onnx_vectors = onnx_embedder.embed(SENTENCES)
    assert onnx_vectors.shape == torch_vectors.shape == (len(SENTENCES), 384)
    assert onnx_vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    cosine = np.sum(torch_vectors * onnx_vectors, axis=1)
    assert cosine.min() >= 0.9999, cosine.min()
    # Batching does not change a vector: one text alone is the same as in a batch.
    alone = onnx_embedder.embed([SENTENCES[1]])[0]
    assert float(alone @ onnx_vectors[1]) >= 0.99999
    torch_hits = _top10(torch_vectors, embedder.embed(QUERIES))
    onnx_hits = _top10(onnx_vectors, onnx_embedder.embed(QUERIES))
    assert onnx_hits == torch_hits
    assert onnx_hits[0][0] == 0  # "Where do I live?" finds Lisbon: the hits mean something


def test_one_model_for_the_identity_check(
    paths: Paths, embedder: SentenceEmbedder, onnx_embedder: OnnxEmbedder
) -> None:
    assert onnx_embedder.identity == embedder.identity

    # A data dir whose vectors torch made is searched and written through ONNX, and back.
    def cosine(a: str, b: str) -> float:
        return float(np.prod(embedder.embed([a, b]), axis=0).sum())

    seed(paths, embedder, *SENTENCES[:8])
    with MemoryStore.open(paths, Settings(), write=True, embedder=onnx_embedder) as store:
        (hit,) = store.search("tell me about my cat", k=1)
        assert hit.memory.text == SENTENCES[0]
        # The ONNX query's vector met the one torch stored: their cosine is torch's own.
        assert hit.dense == pytest.approx(cosine("tell me about my cat", SENTENCES[0]), abs=1e-4)
        store.add("I'm allergic to penicillin.")
    with MemoryStore.open(paths, Settings(), write=False, embedder=embedder) as store:
        (hit,) = store.search("my penicillin allergy", k=1)
        assert hit.memory.text == "I'm allergic to penicillin."
        expected = cosine("my penicillin allergy", "I'm allergic to penicillin.")
        assert hit.dense == pytest.approx(expected, abs=1e-4)


def test_bundled_is_onnx_and_a_folder_of_ones_own_keeps_sentence_transformers() -> None:
    assert isinstance(make_embedder("bundled", batch_size=8), OnnxEmbedder)
    own = make_embedder(str(bundled_model_dir()), batch_size=8)
    assert isinstance(own, SentenceEmbedder) and own.batch_size == 8


def test_a_damaged_export_is_made_again_on_first_need(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, onnx_embedder: OnnxEmbedder
) -> None:
    good = onnx_embedder.folder
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fresh = OnnxEmbedder(batch_size=8)
    folder = export_dir(fresh.identity.hash)
    assert folder != good and folder == fresh.folder
    folder.mkdir(parents=True)
    # A whole record beside a file that is not ONNX: loading fails, the export is made again.
    (folder / RECORD_FILE).write_bytes((good / RECORD_FILE).read_bytes())
    (folder / MODEL_FILE).write_bytes(b"not a model")
    vectors = fresh.embed(SENTENCES[:3])
    assert not fresh.uses_torch
    assert (folder / MODEL_FILE).stat().st_size > 10_000_000
    assert not list(folder.glob(".export-*"))  # nothing left of the work
    np.testing.assert_allclose(vectors, onnx_embedder.embed(SENTENCES[:3]), atol=1e-5)


# The module names that would mean torch came back on the turn path.
_TORCH = ("torch", "sentence_transformers", "transformers")
_LIST_MODULES = """
import atexit, sys
atexit.register(lambda: print(*sorted({m.split(".")[0] for m in sys.modules}), file=sys.stderr))
from tui.cli.main import main
main()
"""


def test_say_with_memories_recalls_and_remembers_without_torch(
    paths: Paths, embedder: SentenceEmbedder, onnx_embedder: OnnxEmbedder
) -> None:
    seed(paths, embedder, "My sister Ana is a nurse.", "I play bass in a jazz band.")
    with MemoryStore.open(paths, Settings(), write=False, embedder=embedder) as store:
        before = store.count()
    done = subprocess.run(
        [sys.executable, "-c", _LIST_MODULES, "say", "I live in Lisbon with my cat Miso."],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "HEARTH_HOME": str(paths.data_dir),
            "HEARTH_SAMPLING__MAX_TOKENS": "4",
        },
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    imported = set(done.stderr.splitlines()[-1].split())
    with MemoryStore.open(paths, Settings(), write=False, embedder=embedder) as store:
        texts = [m.text for m in store.list(limit=100)]
        assert store.count() > before, texts  # the turn wrote a memory, so it embedded
    assert any("Lisbon" in t for t in texts), texts
    assert {"llama_cpp", "onnxruntime", "tokenizers"} <= imported  # the list is real
    assert imported.isdisjoint(_TORCH), sorted(imported & set(_TORCH))


def test_long_texts_come_in_shorter_batches() -> None:
    from memory.graph.onnx_runtime import TOKENS_PER_BATCH, _batches

    lengths = [256] * 5 + [20] * 3 + [3] * 100
    batches = _batches(list(range(len(lengths))), lengths, batch_size=64)
    assert [i for b in batches for i in b] == list(range(len(lengths)))  # order kept
    assert all(len(b) <= 64 and len(b) * lengths[b[0]] <= TOKENS_PER_BATCH for b in batches)
    assert len(batches[0]) == TOKENS_PER_BATCH // 256 < 64  # long texts: fewer a batch
    assert max(len(b) for b in batches) == 64  # short ones: the full batch
    assert _batches([0], [5000], batch_size=64) == [[0]]  # one text always makes a batch


def test_the_embedder_bench_compares_both_in_processes_of_their_own(tmp_path: Path) -> None:
    import json

    from benchmarks.embedder_parity import run_embedder_bench

    turns = [{"id": f"D1:{i}", "speaker": "Sam", "text": t} for i, t in enumerate(SENTENCES)]
    questions = [{"id": f"q{i}", "question": q} for i, q in enumerate(QUERIES)]
    dataset = tmp_path / "tiny.json"
    dataset.write_text(
        json.dumps(
            {
                "name": "tiny",
                "conversations": [
                    {
                        "id": "c1",
                        "speakers": ["Sam"],
                        "sessions": [{"id": "s1", "date": "2026-01-02T10:00:00", "turns": turns}],
                        "questions": questions,
                    }
                ],
            }
        )
    )
    report = run_embedder_bench(dataset, limit=None)
    assert report.texts == len(set(SENTENCES) | set(QUERIES)) and report.questions == len(QUERIES)
    assert report.min_cosine >= 0.9999 and report.same_top10 == 1.0
    arms = {a.name: a for a in report.arms}
    assert arms["torch"].imported_torch and not arms["onnx"].imported_torch
    assert arms["onnx"].load_rss_mib < arms["torch"].load_rss_mib


def test_the_import_bench_sets_an_import_against_its_embedders_own_time(tmp_path: Path) -> None:
    import json

    from benchmarks.import_speed import run_import_bench

    turns = [{"id": f"D1:{i}", "speaker": "Sam", "text": t} for i, t in enumerate(SENTENCES[:12])]
    dataset = tmp_path / "tiny.json"
    session = {"id": "s1", "date": "2026-01-02T10:00:00", "turns": turns}
    dataset.write_text(
        json.dumps({"name": "tiny", "conversations": [{"id": "c1", "sessions": [session]}]})
    )
    advanced: list[int] = []
    report = run_import_bench(dataset, limit=None, advance=advanced.append)
    assert report.turns == sum(advanced) == 12
    assert report.texts_embedded >= 12  # each turn's memories, at least
    # Both timed; which is longer is not asserted: an import near its ceiling (batched writes)
    # can beat a replay of its own embedder calls when the machine is busy.
    assert report.embed_s > 0 and report.import_s > 0
    assert report.share_of_ceiling == pytest.approx(report.turns_per_s / report.ceiling_turns_per_s)
    assert report.ceiling_turns_per_s == pytest.approx(12 / report.embed_s)
