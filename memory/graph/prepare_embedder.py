"""`python -m memory.graph.prepare_embedder`: make the bundled model's ONNX export (setup)."""

from __future__ import annotations

import sys

from memory.graph.embedder import OnnxEmbedder
from memory.graph.onnx_runtime import read_record


def main() -> int:
    """Export once (idempotent: a checked export of the same model files is kept)."""
    embedder = OnnxEmbedder()
    path = embedder.prepare()
    record = read_record(embedder.folder, embedder.identity.hash)
    cosine = record.min_cosine if record else float("nan")
    print(f"hearth: embedder ready: {path} (cosine to torch >= {cosine:.6f})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
