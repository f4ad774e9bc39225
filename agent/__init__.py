"""Hearth: the model runtime, the turn loop and the context builder."""
