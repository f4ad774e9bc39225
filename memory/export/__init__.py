"""Training data from the journal: rows, formats, the dataset card, redaction."""
