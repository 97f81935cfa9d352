"""Entity mentions: the knowledge base, the dictionary tagger, the trained spaCy pipeline and the linker."""
