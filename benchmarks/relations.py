"""Train litmine's relation models and measure them: the figures of README's "Relations" section.

Run from the project root with the corpora imported into the store:

    .venv/bin/python benchmarks/relations.py [--corpus drugprot ...] [--out results.json]

For each corpus it trains (or reuses) the model under Settings.models/relations, reports
the benchmark's micro-F1 on the reported split with gold and with predicted entities,
the training wall time, the model's size on disk and the inference throughput (pairs/s
and abstracts/s, gold entities, one process; DrugProt's and ChemProt's include parsing the
sentences), then scores the negation and hedging cues on their hand-labelled sample, and
compares the flow's evidence extractor (DrugProt + BioRED models) with the trigger baseline.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from pipeline.config import load_settings
from pipeline.datatypes import Record
from pipeline.entities.dictionary import DictionaryTagger
from pipeline.entities.kb import KnowledgeBase
from pipeline.entities.kb_build import ensure_kb
from pipeline.evaluation.relations import evaluate_cues, evaluate_extractor, evaluate_relations
from pipeline.models import FLOW_CORPORA, relation_model_dir
from pipeline.records.store import Store
from pipeline.relations.dependencies import default_parser
from pipeline.relations.model import ModelExtractor, RelationModel
from pipeline.relations.triggers import TriggerExtractor
from pipeline.training.relation_batches import make_batch
from pipeline.training.relation_models import predict_batch, train_relation_model
from pipeline.verdicts.evidence import extract_records

CUES = Path(__file__).resolve().parent.parent / "tests" / "data" / "relations" / "cues.tsv"
# The split each corpus reports on: DrugProt has no public test split.
REPORTED = {"drugprot": ("dev",), "chemprot": ("test",), "bc5cdr": ("test",), "biored": ("test",)}


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def benchmark(corpus: str, store: Store, out_dir: Path, tagger: DictionaryTagger, kb: KnowledgeBase,
              predicted: bool) -> dict[str, object]:
    started = time.perf_counter()
    folder = train_relation_model(corpus, store, out_dir, progress=True)
    trained_s = time.perf_counter() - started
    started = time.perf_counter()
    model = RelationModel.load(folder)
    load_s = time.perf_counter() - started
    scores: list[dict[str, object]] = []
    result: dict[str, object] = {"model": folder.name, "train_wall_s": round(trained_s, 1),
                                 "load_s": round(load_s, 2), "model_bytes": _size(folder), "scores": scores}
    for split in REPORTED[corpus]:
        docs = store.gold_documents(corpus, split)
        started = time.perf_counter()
        batch = make_batch(model.task, docs)
        predict_batch(model, batch)
        elapsed = time.perf_counter() - started
        result["pairs_per_s"] = round(len(batch.pairs) / elapsed, 1)
        result["abstracts_per_s"] = round(len(docs) / elapsed, 2)
        for entities in ("gold", "predicted") if predicted else ("gold",):
            figures = evaluate_relations(corpus, split, entities, model=model, docs=docs, tagger=tagger, kb=kb)
            scores.append(figures.as_dict())
            print(f"{corpus} {split} {entities}: {json.dumps(figures.micro.as_dict())}", flush=True)
    return result


def extractor_throughput(store: Store, folders: list[Path], tagger: DictionaryTagger,
                         n: int = 200) -> dict[str, object]:
    """End to end as the flow runs it: tag and extract (DrugProt + BioRED models, the parser
    for both) over the first `n` BC5CDR test abstracts, read together (`extract_records`)."""
    started = time.perf_counter()
    extractor = ModelExtractor.load(folders, parser=default_parser())
    load_s = time.perf_counter() - started
    records = [Record(uid=f"pmid:{d.doc_id}", title=d.text) for d in store.gold_documents("bc5cdr", "test")[:n]]
    started = time.perf_counter()
    relations = sum(len(found.relations) for found in extract_records(records, tagger, extractor))
    elapsed = time.perf_counter() - started
    result = {"load_s": round(load_s, 2), "abstracts_per_s": round(len(records) / elapsed, 2),
              "relations": relations, "abstracts": len(records)}
    print("extractor", json.dumps(result), flush=True)
    return result


def flow_extractors(store: Store, folders: list[Path]) -> list[dict[str, object]]:
    """The flow's evidence extractor against the trigger baseline, sentence by sentence over gold
    entities in litmine's vocabulary (`evaluate_extractor`): DrugProt dev, BioRED test, and
    BC5CDR test, where BioRED's model reads chemical–disease pairs of a corpus it never saw."""
    results = []
    extractors = (TriggerExtractor(), ModelExtractor.load(folders, parser=default_parser()))
    for corpus, split in (("drugprot", "dev"), ("biored", "test"), ("bc5cdr", "test")):
        docs = store.gold_documents(corpus, split)
        for extractor in extractors:
            figures = evaluate_extractor(extractor, corpus, docs)
            micro = json.dumps(figures.micro.as_dict())
            print(f"flow extractor {extractor.name} {corpus} {split}: {micro}", flush=True)
            results.append({"split": split, **figures.as_dict()})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", nargs="*", default=list(REPORTED))
    parser.add_argument("--no-predicted", action="store_true", help="gold entities only")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = load_settings()
    kb = ensure_kb(settings)
    tagger = DictionaryTagger(kb)
    results: dict[str, object] = {"cues": evaluate_cues(CUES).as_dict()}
    print("cues", json.dumps(results["cues"]), flush=True)
    with Store(settings.store_path) as store:
        for corpus in args.corpus:
            results[corpus] = benchmark(corpus, store, relation_model_dir(settings), tagger, kb, not args.no_predicted)
        folders = [train_relation_model(corpus, store, relation_model_dir(settings)) for corpus in FLOW_CORPORA]
        results["extractor"] = extractor_throughput(store, folders, tagger)
        results["flow_extractors"] = flow_extractors(store, folders)
    text = json.dumps(results, indent=1)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
