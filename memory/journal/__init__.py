"""The conversation journal: sessions, messages, feedback signals, the conversation tree."""
