"""The chat app's rooms: its log, its turns, the actions on messages, lending, the status line."""
