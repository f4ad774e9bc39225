"""The model runtime: the one place that makes a Llama, GGUF checks, model files, crashes."""
