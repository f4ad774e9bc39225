"""Hearth's screens beside the chat."""
