"""Which process holds the data dir, and how the others reach it: the lock, lending, serve files."""
