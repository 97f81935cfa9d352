"""Training litmine's models from the gold corpora (never imported by code that only runs them)."""
