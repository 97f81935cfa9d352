"""Scoring litmine's stages on the gold corpora, the way each benchmark scores them."""
