"""Hearth: everything that persists: config, journal, memory graph."""
