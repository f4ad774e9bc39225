"""The memory graph: its store and database, nodes, retrieval, people, vectors, forgetting."""
