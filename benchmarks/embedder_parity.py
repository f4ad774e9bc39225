"""`hearth bench embedder`: the bundled model through onnxruntime against sentence-transformers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from agent.importing.conversations import load_dataset
from benchmarks.machine import Machine

ARMS = ("torch", "onnx")

ARM = """
import json, resource, sys, time
started = time.perf_counter()
arm, texts_file, out_file = sys.argv[1:]

def peak_kib():
    # VmHWM is this process's own peak; ru_maxrss also counts the parent's size at the fork.
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib // 1024 if sys.platform == "darwin" else kib

from memory.graph.embedder import OnnxEmbedder, SentenceEmbedder
model = OnnxEmbedder() if arm == "onnx" else SentenceEmbedder()
model.embed(["warm up"])
load_s = time.perf_counter() - started
load_rss = peak_kib()
texts = json.loads(open(texts_file, encoding="utf-8").read())
started = time.perf_counter()
vectors = model.embed(texts)
embed_s = time.perf_counter() - started
import numpy as np
np.save(out_file, vectors)
torch = "torch" in sys.modules or "sentence_transformers" in sys.modules
print(json.dumps({"load_s": load_s, "load_rss_kib": load_rss, "peak_rss_kib": peak_kib(),
                  "embed_s": embed_s, "torch": torch}))
"""
"""One arm in a process of its own: load (imports included) and a first embed, timed from the
script's first line; its peak RSS then; every text embedded (64 a batch, one thread)."""

Vectors = npt.NDArray[np.float32]


class EmbedderArm(BaseModel):
    name: str
    load_s: float
    """Imports, model load and a first one-text embed, in a fresh process."""
    load_rss_mib: float
    """Peak resident memory once loaded."""
    peak_rss_mib: float
    """Peak resident memory of the whole run."""
    texts_per_s: float
    imported_torch: bool


class EmbedderBench(BaseModel):
    """`hearth bench embedder --json`."""

    machine: Machine
    dataset: str
    conversations: int
    texts: int
    """Distinct turn texts embedded by both arms."""
    min_cosine: float
    mean_cosine: float
    questions: int
    same_top10: float
    """Share of questions whose 10 nearest turns of their conversation (by each arm's own
    vectors) are the same turns in the same order."""
    same_top10_set: float
    """Share whose 10 nearest turns are the same, in any order."""
    arms: list[EmbedderArm]


def _run_arm(name: str, texts_file: Path, out: Path) -> tuple[EmbedderArm, Vectors]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", ARM, name, str(texts_file), str(out)],
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        returncode = process.wait()
        stdout.seek(0)
        stderr.seek(0)
        if returncode != 0:
            tail = stderr.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"the {name} arm failed:\n{tail}")
        figures = json.loads(stdout.read().decode().strip().splitlines()[-1])
    vectors = np.load(out).astype(np.float32)
    return (
        EmbedderArm(
            name=name,
            load_s=figures["load_s"],
            load_rss_mib=figures["load_rss_kib"] / 1024,
            peak_rss_mib=figures["peak_rss_kib"] / 1024,
            texts_per_s=len(vectors) / figures["embed_s"] if figures["embed_s"] else 0.0,
            imported_torch=figures["torch"],
        ),
        vectors,
    )


def _top10(turns: Vectors, query: Vectors) -> list[int]:
    return [int(i) for i in np.argsort(-(turns @ query), kind="stable")[:10]]


def run_embedder_bench(
    path: Path, *, limit: int | None, describe: Callable[[str], None] = lambda text: None
) -> EmbedderBench:
    """Embed the turns and questions of the first `limit` conversations with each arm, each in
    a fresh process; compare the vectors and each question's 10 nearest turns."""
    dataset = load_dataset(path)
    conversations = dataset.conversations[:limit] if limit else dataset.conversations
    per_conversation = [
        ([t.text for _, _, t in c.turns()], [q.question for q in c.questions])
        for c in conversations
    ]
    texts = list(dict.fromkeys(t for turns, qs in per_conversation for t in [*turns, *qs]))
    index = {t: i for i, t in enumerate(texts)}
    arms: list[EmbedderArm] = []
    vectors: dict[str, Vectors] = {}
    with tempfile.TemporaryDirectory(prefix="hearth-bench-embedder-") as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(texts), encoding="utf-8")
        for name in ARMS:
            describe(f"{name}: loading and embedding {len(texts)} texts")
            arm, vectors[name] = _run_arm(name, texts_file, Path(tmp) / f"{name}.npy")
            arms.append(arm)
    cosine = np.sum(vectors["torch"] * vectors["onnx"], axis=1)
    same = same_set = questions = 0
    for turns, qs in per_conversation:
        rows = [index[t] for t in turns]
        for question in qs:
            hits = {name: _top10(v[rows], v[index[question]]) for name, v in vectors.items()}
            questions += 1
            same += hits["torch"] == hits["onnx"]
            same_set += set(hits["torch"]) == set(hits["onnx"])
    return EmbedderBench(
        machine=Machine.here(),
        dataset=dataset.name,
        conversations=len(conversations),
        texts=len(texts),
        min_cosine=float(cosine.min()),
        mean_cosine=float(cosine.mean()),
        questions=questions,
        same_top10=same / questions if questions else 1.0,
        same_top10_set=same_set / questions if questions else 1.0,
        arms=arms,
    )
