"""Training the relation models of pipeline.relations.model: fitting both stages, choosing the bias.

The first stage's scores for its own training documents come from 5-fold cross-fitting,
so the second stage learns from scores like those it will see at inference. The bias
on NONE (how readily a pair is related) is chosen on a selection split, never on test.
A model's folder is named by a hash of its configuration and training data
(`training_key`), so it is rebuilt only when either changes.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import sys
import time
import zlib
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from sklearn.svm import LinearSVC

from pipeline.codehash import code_hash
from pipeline.config import Settings
from pipeline.datatypes import GoldDocument
from pipeline.models import FLOW_CORPORA, relation_model_dir
from pipeline.records.store import Store
from pipeline.relations.dependencies import DependencyParser, default_parser
from pipeline.relations.model import (MODEL_FORMAT, NONE, TASKS, CorpusTask, LinearModel, RelationModel, context_scores,
                                      decide, feature_matrix)
from pipeline.training.relation_batches import (DOC_FEATURES, Batch, ConceptPair, Row, concept_pair_features,
                                                concept_pairs, load_split, make_batch, sentence_parses)


@dataclass(frozen=True)
class TrainingConfig:
    c: float = 0.6  # the SVMs' regularization, selected on DrugProt's held-out slice and ChemProt/BioRED dev
    min_count: int = 2  # features seen in fewer training pairs are dropped
    folds: int = 5
    heldout_modulus: int = 7  # DrugProt: documents whose crc32 % 7 == 0 select the bias


def fit_linear(feature_lists: Sequence[Sequence[str]], labels: Sequence[str], classes: tuple[str, ...],
               config: TrainingConfig, dense: np.ndarray | None = None,
               vocabulary: dict[str, int] | None = None) -> LinearModel:
    if vocabulary is None:
        counts: dict[str, int] = defaultdict(int)
        for features in feature_lists:
            for f in set(features):
                counts[f] += 1
        vocabulary = {f: i for i, f in enumerate(sorted(f for f, n in counts.items() if n >= config.min_count))}
    matrix = feature_matrix(vocabulary, feature_lists, dense)
    svm = LinearSVC(C=config.c, max_iter=3000, random_state=0).fit(matrix, labels)  # liblinear shuffles
    # the SVM's classes come sorted; keep the task's order
    order = [list(svm.classes_).index(c) if c in svm.classes_ else -1 for c in classes]
    weights = np.zeros((matrix.shape[1], len(classes)), np.float32)
    intercept = np.full(len(classes), -10.0, np.float32)
    coef = svm.coef_ if len(svm.classes_) > 2 else np.vstack([-svm.coef_, svm.coef_])
    bias = svm.intercept_ if len(svm.classes_) > 2 else np.array([-svm.intercept_[0], svm.intercept_[0]])
    for k, j in enumerate(order):
        if j >= 0:
            weights[:, k] = coef[j]
            intercept[k] = bias[j]
    return LinearModel(vocabulary, classes, weights, intercept)


def _label(labels: set[str], task: CorpusTask) -> str:
    return min(labels, key=task.classes.index) if labels else NONE


def _first_stage(task: CorpusTask, batch: Batch, config: TrainingConfig) -> tuple[LinearModel, list[np.ndarray]]:
    """The first stage fitted on the batch, and its cross-fitted scores for each sentence."""
    pairs = batch.pairs
    features = [p.features for p in pairs]
    labels = [_label(p.labels, task) for p in pairs]
    model = fit_linear(features, labels, task.classes, config)
    folds = np.array([zlib.crc32(batch.docs[p.doc].doc_id.encode()) % config.folds for p in pairs])
    scores = np.zeros((len(pairs), len(task.classes)), np.float32)
    for k in range(config.folds):
        inside = np.flatnonzero(folds != k)
        fold_model = fit_linear([features[i] for i in inside], [labels[i] for i in inside], task.classes,
                                config, vocabulary=model.vocabulary)
        outside = np.flatnonzero(folds == k)
        scores[outside] = fold_model.scores([features[i] for i in outside])
    return model, _per_sentence(batch, scores)


def _per_sentence(batch: Batch, scores: np.ndarray) -> list[np.ndarray]:
    out, at = [], 0
    for s in batch.sentences:
        out.append(scores[at:at + len(s.pairs)])
        at += len(s.pairs)
    return out


def _second_inputs(task: CorpusTask, batch: Batch, scores: list[np.ndarray]
                   ) -> tuple[list[list[str]], np.ndarray, list[set[str]], list[Row]]:
    """The second stage's examples: (features, dense, labels, what each row stands for)."""
    if not task.document_level:
        dense = [context_scores(s, sc) for s, sc in zip(batch.sentences, scores)]
        pairs = batch.pairs
        return ([p.features for p in pairs], np.vstack(dense) if dense else np.zeros((0, 1)),
                [p.labels for p in pairs], list(pairs))
    by_doc: dict[int, list[int]] = defaultdict(list)
    for i, s in enumerate(batch.sentences):
        by_doc[s.pairs[0].doc].append(i)
    rows: list[ConceptPair] = []
    for d, doc in enumerate(batch.docs):
        idx = by_doc.get(d, [])
        rows += concept_pairs(task, d, doc.text, batch.mentions[d], [batch.sentences[i] for i in idx],
                              [scores[i] for i in idx], batch.golds[d])
    k = len(task.classes) * 2 + len(DOC_FEATURES)
    return ([concept_pair_features(r) for r in rows], np.vstack([r.dense for r in rows]) if rows else
            np.zeros((0, k)), [r.labels for r in rows], list(rows))


def fit_model(task: CorpusTask, batch: Batch, config: TrainingConfig, version: str = "") -> RelationModel:
    """Both stages on a batch; biases stay 0 until chosen on a selection split."""
    first, scores = _first_stage(task, batch, config)
    features, dense, labels, _ = _second_inputs(task, batch, scores)
    vocabulary = first.vocabulary if not task.document_level else None
    second = fit_linear(features, [_label(x, task) for x in labels], task.classes, config, dense,
                        vocabulary=vocabulary)
    return RelationModel(task, first, second, 0.0, 0.0, version)


def batch_scores(model: RelationModel, batch: Batch, first_stage: bool = False) -> tuple[list[Row], np.ndarray]:
    """The rows the model decides on (candidates, or concept pairs for document-level tasks)
    and their scores: the second stage's unless `first_stage`."""
    first, second = model.scores_many(batch.sentences)
    if model.task.document_level and not first_stage:
        features, dense, _, rows = _second_inputs(model.task, batch, _per_sentence(batch, first))
        return rows, model.second.scores(features, dense) if rows else np.zeros((0, len(model.task.classes)))
    return list(batch.pairs), first if first_stage else second


def predict_batch(model: RelationModel, batch: Batch, first_stage: bool = False) -> list[tuple[Row, str, float]]:
    """(candidate or concept pair, label, confidence) for every related pair of the batch."""
    rows, scores = batch_scores(model, batch, first_stage)
    bias = model.first_bias if first_stage else model.bias
    return [(row, label, conf) for row, (label, conf) in zip(rows, decide(scores, model.task.classes, bias))
            if label != NONE]


def choose_bias(model: RelationModel, batch: Batch, first_stage: bool = False) -> float:
    """The NONE bias that maximizes micro-F1 on a selection batch."""
    rows, scores = batch_scores(model, batch, first_stage)
    gold = _gold_count(model.task, batch, first_stage)
    best = (-1.0, 0.0)
    for bias in np.round(np.arange(-0.4, 1.21, 0.1), 2):
        decided = decide(scores, model.task.classes, float(bias))
        predicted = sum(1 for label, _ in decided if label != NONE)
        tp = sum(1 for row, (label, _) in zip(rows, decided) if label != NONE and label in row.labels)
        f1 = 2 * tp / (predicted + gold) if predicted or gold else 0.0
        best = max(best, (f1, float(bias)))
    return best[1]


def _gold_count(task: CorpusTask, batch: Batch, first_stage: bool) -> int:
    """The gold relations a selection batch holds: per mention pair for a document-level
    task's first stage (its sentence decisions), else as the benchmark counts them."""
    if first_stage and task.document_level:
        return sum(len(p.labels) for p in batch.pairs)
    return sum(len(v) for g in batch.golds for v in g.values())


# The modules whose code a model's training reads: its features, the pairs it trains on (negated
# unrelated pairs are left out: `is_negated`), the trigger table, the model and its fitting. Their
# definitions are hashed into the key (`code_hash`: comments, docstrings and imports aside), so a
# change to what training reads retrains, where a hand-bumped version was once forgotten.
TRAINING_CODE = ("pipeline.relations.features", "pipeline.relations.triggers", "pipeline.relations.dependencies",
                 "pipeline.relations.model", "pipeline.training.relation_batches", __name__)


def training_key(task: CorpusTask, config: TrainingConfig, docs: list[GoldDocument], parser_version: str) -> str:
    """A hash of what a model is trained from: the model format, the code training reads
    (`TRAINING_CODE`), its config and selection, the parser it reads, and the training data."""
    code = code_hash(*(importlib.import_module(name) for name in TRAINING_CODE))
    digest = hashlib.sha256(json.dumps([MODEL_FORMAT, code, asdict(config), task.corpus,
                                        task.final_splits, task.select_split, parser_version]).encode())
    for doc in docs:
        digest.update(json.dumps([doc.split, doc.doc_id, doc.text, [asdict(e) for e in doc.entities],
                                  sorted(json.dumps(asdict(r)) for r in doc.relations)]).encode())
    return digest.hexdigest()[:12]


def train_relation_model(corpus: str, store: Store, out_dir: Path, config: TrainingConfig = TrainingConfig(),
                         progress: bool = False, parser: DependencyParser | None = None,
                         limit: int | None = None, held_out: Collection[str] = ()) -> Path:
    """Train (or find already trained) the corpus's model under out_dir/<corpus>-<hash>/,
    reading `parser`'s parses (default: litmine's, `default_parser`), from the first `limit`
    documents of each split if given (the quick CI recipe), less the documents whose ids are in
    `held_out` (benchmarks/held_out_models.py: a model that never saw the papers a benchmark cites).

    Selection: the NONE biases are chosen on the task's selection split with a model
    trained on the other training data; the released model is then refitted on all of
    `final_splits` and keeps those biases. build.json records the wall time and size.
    """
    task = TASKS[corpus]
    final_docs = [d for d in load_split(store, corpus, task.final_splits, limit) if d.doc_id not in held_out]
    if not final_docs:
        raise ValueError(f"no {corpus} documents in the store {store.path}; "
                         f"import them first: litmine import <shared>/corpora/{corpus}")
    parser = parser or default_parser()
    key = training_key(task, config, final_docs, parser.version)
    folder = Path(out_dir) / f"{corpus}-{key}"
    if (folder / "model.json").is_file():
        return folder
    started = time.monotonic()
    if task.select_split == "heldout":
        held = [d for d in final_docs if zlib.crc32(d.doc_id.encode()) % config.heldout_modulus == 0]
        fit_docs = [d for d in final_docs if zlib.crc32(d.doc_id.encode()) % config.heldout_modulus != 0]
    else:
        held = [d for d in final_docs if d.split == task.select_split]
        fit_docs = [d for d in final_docs if d.split != task.select_split]
    _say(progress, f"{corpus}: selecting on {len(held)} documents, fitted on {len(fit_docs)}")
    # parsed once for the three batches below (every task selects on a part of its final splits)
    parses = sentence_parses(task, final_docs, parser=parser)
    selection = fit_model(task, make_batch(task, fit_docs, training=True, parses=parses), config)
    held_batch = make_batch(task, held, parses=parses)
    bias, first_bias = choose_bias(selection, held_batch), choose_bias(selection, held_batch, first_stage=True)
    selection.bias, selection.first_bias = bias, first_bias
    selection.version = f"{corpus}-{key}-selection"
    _say(progress, f"{corpus}: bias {bias}, first-stage bias {first_bias}; refitting on {len(final_docs)} documents")
    model = fit_model(task, make_batch(task, final_docs, training=True, parses=parses), config,
                      version=f"{corpus}-{key}")
    model.bias, model.first_bias = bias, first_bias
    tmp = folder.with_name(folder.name + ".tmp")
    model.save(tmp)
    selection.save(tmp / "selection")
    (tmp / "build.json").write_text(json.dumps({
        "model": f"relations_{corpus}", "documents": len(final_docs), "selected_on": len(held),
        "seconds": round(time.monotonic() - started, 1),
        "bytes": sum(p.stat().st_size for p in tmp.iterdir() if p.is_file())}, indent=2))
    tmp.rename(folder)
    return folder


def build_relation_models(settings: Settings, store: Store, parser: DependencyParser,
                          limit: int | None = None, corpora: Sequence[str] = FLOW_CORPORA) -> dict[str, Path]:
    """The models the evidence-check flow reads (FLOW_CORPORA, or those of `corpora`), trained where
    missing, each made current (relations/<corpus>.current names its folder)."""
    built = {}
    for corpus in corpora:
        folder = train_relation_model(corpus, store, relation_model_dir(settings), parser=parser, progress=True,
                                      limit=limit)
        (relation_model_dir(settings) / f"{corpus}.current").write_text(folder.name)
        built[f"relations_{corpus}"] = folder
    return built


def ensure_relation_model(corpus: str, settings: Settings, store: Store, split: str = "",
                          progress: bool = False) -> RelationModel:
    """The corpus's trained model, trained first if missing or stale. For `split` = a split the
    released model was trained on (ChemProt/BC5CDR/BioRED dev), the selection model, which was not."""
    folder = train_relation_model(corpus, store, relation_model_dir(settings), progress=progress)
    if split in TASKS[corpus].final_splits:
        folder = folder / "selection"
    return RelationModel.load(folder)


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)  # stdout is for results (`--json`)
