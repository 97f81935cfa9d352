"""Reading documents: their text, sentences, citation markers and reference lists."""
