"""The short list of chat models `hearth models pull NAME` knows: small, CPU-friendly GGUFs."""

from __future__ import annotations

from pydantic import BaseModel


class CatalogModel(BaseModel):
    """A GGUF on the Hugging Face Hub, named for `hearth models pull NAME`."""

    name: str
    repo: str
    file: str
    size: str
    """About how much it downloads (the Hub's file listing)."""
    architecture: str
    """general.architecture: each one is loaded by the llama.cpp inside llama-cpp-python 0.3.36."""
    licence: str
    note: str = ""
    """What the licence asks of the person (accepting terms), said before downloading."""


# Repositories and files as their publishers list them on the Hub (checked December 2026); each
# is a Q4_K_M, the usual balance of size and quality on a CPU. None is gated on the Hub, so no
# token is needed; the Llama and Gemma files come with licences the person accepts by using them.
CATALOG: dict[str, CatalogModel] = {
    m.name: m
    for m in [
        CatalogModel(
            name="qwen2.5-1.5b",
            repo="Qwen/Qwen2.5-1.5B-Instruct-GGUF",
            file="qwen2.5-1.5b-instruct-q4_k_m.gguf",
            size="1.1 GB",
            architecture="qwen2",
            licence="Apache-2.0",
        ),
        CatalogModel(
            name="smollm2-1.7b",
            repo="HuggingFaceTB/SmolLM2-1.7B-Instruct-GGUF",
            file="smollm2-1.7b-instruct-q4_k_m.gguf",
            size="1.06 GB",
            architecture="llama",
            licence="Apache-2.0",
        ),
        CatalogModel(
            name="llama-3.2-1b",
            repo="bartowski/Llama-3.2-1B-Instruct-GGUF",
            file="Llama-3.2-1B-Instruct-Q4_K_M.gguf",
            size="808 MB",
            architecture="llama",
            licence="Llama 3.2 Community License",
            note="by using it you accept Meta's Llama 3.2 Community License and Acceptable Use "
            "Policy (https://www.llama.com/llama3_2/license/)",
        ),
        CatalogModel(
            name="llama-3.2-3b",
            repo="bartowski/Llama-3.2-3B-Instruct-GGUF",
            file="Llama-3.2-3B-Instruct-Q4_K_M.gguf",
            size="2.02 GB",
            architecture="llama",
            licence="Llama 3.2 Community License",
            note="by using it you accept Meta's Llama 3.2 Community License and Acceptable Use "
            "Policy (https://www.llama.com/llama3_2/license/)",
        ),
        CatalogModel(
            name="gemma-3-1b",
            repo="unsloth/gemma-3-1b-it-GGUF",
            file="gemma-3-1b-it-Q4_K_M.gguf",
            size="806 MB",
            architecture="gemma3",
            licence="Gemma Terms of Use",
            note="by using it you accept Google's Gemma Terms of Use and Prohibited Use Policy "
            "(https://ai.google.dev/gemma/terms)",
        ),
    ]
}
