"""Throughput of litmine's extraction, stage by stage, in one run on the 500 BC5CDR test abstracts.

    .venv/bin/python benchmarks/throughput.py [--limit N]

Rows: the tokenizer alone; tokenizer + KB features (the dictionary pass); the whole entity
pipeline (tokenizer -> KB features -> the NER models -> abbreviations -> linking); and the
trained relation extractor (DrugProt + BioRED models) over the pipeline's mentions, sentence
by sentence as the flow runs it, in candidate pairs/s and abstracts/s. One process, warm
(each stage runs once on 20 abstracts first, so loading is not counted).
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace

from rich.console import Console
from rich.table import Table

from pipeline.config import load_settings
from pipeline.documents.sentences import split_sentences
from pipeline.entities.kb_build import ensure_kb
from pipeline.entities.ner import PipelineTagger
from pipeline.models import current_relation_models
from pipeline.records.store import Store
from pipeline.relations.dependencies import DependencyParser
from pipeline.relations.model import ModelExtractor


def timed(run, items: list) -> float:
    run(items[:20])
    started = time.perf_counter()
    run(items)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=500)
    args = parser.parse_args()
    settings = load_settings()
    kb = ensure_kb(settings)
    with Store(settings.store_path) as store:
        texts = [d.text for d in store.gold_documents("bc5cdr", "test")][:args.limit]
    tagger = PipelineTagger.load(settings, kb)
    nlp = tagger.nlp
    features = nlp.get_pipe("kb_features")
    extractor = ModelExtractor.load(current_relation_models(settings), DependencyParser.load(settings))

    rows = [("tokenizer only", timed(lambda ts: list(nlp.tokenizer.pipe(ts)), texts), "")]
    rows.append(("tokenizer + KB features", timed(lambda ts: [features(nlp.make_doc(t)) for t in ts], texts), ""))
    mentions: list = []
    rows.append(("entity pipeline: " + " > ".join(nlp.pipe_names),
                 timed(lambda ts: mentions.__setitem__(slice(None), tagger.tag_many(ts)), texts), ""))
    sentences = []
    for text, found in zip(texts, mentions):
        for index, (start, end) in enumerate(split_sentences(text)):
            inside = [m for m in found if start <= m.start and m.end <= end]
            sentences.append((text[start:end], index, [replace(m, start=m.start - start, end=m.end - start)
                                                       for m in inside]))
    pairs = sum(len(s[2]) * (len(s[2]) - 1) // 2 for s in sentences)
    seconds = timed(lambda ss: [extractor.extract(s, i, m) for s, i, m in ss], sentences)
    rows.append(("relation extraction (trained models)", seconds, f"{pairs / seconds:,.0f} mention pairs/s"))

    table = Table("stage", "seconds", "abstracts/s", "", title=f"throughput on {len(texts)} BC5CDR test abstracts")
    for name, seconds, extra in rows:
        table.add_row(name, f"{seconds:.1f}", f"{len(texts) / seconds:,.1f}", extra)
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
