"""The dream loop: made-up turns over the person's memories, kept for review, never remembered."""
