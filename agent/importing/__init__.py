"""Bringing conversations from elsewhere in as history, through the write path."""
