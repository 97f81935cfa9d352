"""Records from PubMed, PMC and the gold corpora: the store, the E-utilities client and the parsers."""
