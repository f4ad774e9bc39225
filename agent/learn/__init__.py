"""Learning from what the person says: extraction, the write path, episodes, corrections,
consolidation."""
