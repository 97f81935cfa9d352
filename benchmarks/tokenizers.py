"""Which tokenizer keeps the gold entity boundaries? (the measurement behind litmine.Tokenizer.v1)

A token-based NER can only predict mentions that start and end on token boundaries, so
every gold mention a tokenizer cuts through is a guaranteed miss under strict scoring.
Prints, for the train splits of BC5CDR, BioRED and NLM-Gene, the share of gold mentions
each tokenizer cannot represent, tokens per abstract and tokenizer speed.

    .venv/bin/python benchmarks/tokenizers.py
"""
from __future__ import annotations

import time
from collections import Counter

import spacy
from rich.console import Console
from rich.table import Table
from scispacy.custom_tokenizer import combined_rule_tokenizer

from pipeline.config import load_settings
import pipeline.entities.nlp  # noqa: F401  (registers litmine.Tokenizer.v1)
from pipeline.records.store import Store

CORPORA = ("bc5cdr", "biored", "nlm_gene")


def tokenizers() -> dict[str, spacy.Language]:
    scispacy_nlp = spacy.blank("en")
    scispacy_nlp.tokenizer = combined_rule_tokenizer(scispacy_nlp)
    return {
        "spaCy English default": spacy.blank("en"),
        "scispaCy combined_rule_tokenizer": scispacy_nlp,
        "litmine.Tokenizer.v1": spacy.blank("en", config={"nlp": {"tokenizer": {
            "@tokenizers": "litmine.Tokenizer.v1"}}}),
    }


def main() -> None:
    store = Store(load_settings().store_path)
    docs = {corpus: store.gold_documents(corpus, "train") for corpus in CORPORA}
    table = Table("tokenizer", *(f"{c} misaligned" for c in CORPORA), "tokens/abstract", "abstracts/s",
                  title="gold mentions a tokenizer cannot represent (train splits)")
    examples = {}
    for name, nlp in tokenizers().items():
        cells, tokens, seconds, n_docs = [], 0, 0.0, 0
        for corpus, golds in docs.items():
            missed, total = Counter(), 0
            for gold in golds:
                started = time.perf_counter()
                doc = nlp.make_doc(gold.text)
                seconds += time.perf_counter() - started
                tokens, n_docs = tokens + len(doc), n_docs + 1
                starts, ends = {t.idx for t in doc}, {t.idx + len(t) for t in doc}
                total += len(gold.entities)
                missed.update(e.text for e in gold.entities if e.start not in starts or e.end not in ends)
            cells.append(f"{100 * sum(missed.values()) / total:.2f}% of {total}")
            examples[(name, corpus)] = missed.most_common(5)
        table.add_row(name, *cells, f"{tokens / n_docs:.0f}", f"{n_docs / seconds:.0f}")
    Console(width=160).print(table)
    for (name, corpus), common in examples.items():
        print(f"{name} / {corpus}: most often cut: {common}")


if __name__ == "__main__":
    main()
