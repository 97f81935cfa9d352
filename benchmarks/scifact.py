"""SciFact claim verification: the figures `litmine evaluate claims --corpus scifact` reports,
plus BM25 recall@k, training time and inference speed.

Trains a fresh model into a temporary folder (so the training time is real) unless
--cached, which uses the model under Settings.models. The store must hold SciFact
(`litmine import ../shared/corpora/scifact`).

    .venv/bin/python benchmarks/scifact.py [--split dev] [--cached]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pipeline.config import load_settings
from pipeline.entities.dictionary import DictionaryTagger
from pipeline.evaluation.scifact import Corpus, load_abstracts, load_claims, load_or_train, retrieval_recall, score
from pipeline.toolkit import open_toolkit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev", choices=("train", "dev"))
    parser.add_argument("--cached", action="store_true", help="use the cached model instead of training one")
    args = parser.parse_args()
    settings = load_settings()
    toolkit = open_toolkit(settings)

    started = time.perf_counter()
    corpus = Corpus(load_abstracts(toolkit.store), DictionaryTagger(toolkit.kb))  # as `litmine evaluate claims`
    corpus_seconds = time.perf_counter() - started
    train, claims = load_claims(toolkit.store, "train"), load_claims(toolkit.store, args.split)
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        model = load_or_train(corpus, train, settings.models if args.cached else Path(scratch))
        train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    figures = score(model, corpus, claims)
    score_seconds = time.perf_counter() - started
    recall = retrieval_recall(corpus.index, claims, (1, 3, 5, 10, 20))

    print(f"SciFact {args.split}: {len(claims)} claims, {len(corpus.abstracts)} abstracts, "
          f"{sum(len(c.evidence) for c in claims)} gold evidence abstracts")
    print(f"{'setting':<10} {'precision':>9} {'recall':>7} {'F1':>6} {'macro-F1':>9}")
    for setting, values in figures.items():
        macro = f"{values['macro_f1']:9.3f}" if "macro_f1" in values else ""
        print(f"{setting:<10} {values['precision']:9.3f} {values['recall']:7.3f} {values['f1']:6.3f} {macro}")
    print("BM25 recall@k: " + ", ".join(f"@{k} {v:.3f}" for k, v in recall.items()))
    print("train cross-validation: " + ", ".join(f"{k} {v:.3f}" for k, v in model.cross_validation.items()))
    print(f"chosen: top_k {model.top_k}, selection {model.selection_threshold}, open {model.open_threshold}, "
          f"oracle {model.oracle_threshold}, contradict {model.contradict_threshold}")
    print(f"corpus views {corpus_seconds:.1f} s; {'loading' if args.cached else 'training'} {train_seconds:.1f} s "
          f"(model's own fit {model.train_seconds:.1f} s); inference {len(claims) / score_seconds:.1f} claims/s "
          f"(open and oracle for each claim)")


if __name__ == "__main__":
    main()
