"""litmine: check what a document claims about drugs against the biomedical literature."""

__version__ = "0.1.0"
