"""Training the co-mention link model (`pipeline.verdicts.comentions`) on the relation corpora's gold links.

Every pair of a chemical and a gene or disease that a train document names together in a sentence
is one example: up or down where the corpus annotates a link with a direction (BioRED's positive and
negative correlations, BC5CDR's chemical-induced diseases, DrugProt's activators, inhibitors and up-
and down-regulators), none where it annotates a link without one or, in the corpora whose
annotation of a document's pairs is complete (BioRED, DrugProt), none at all. BC5CDR pairs without
a CID link are left out: many are treatments, a link the other way that BC5CDR does not annotate.
DrugProt's agonists count as up and its antagonists as down, as litmine's relation vocabulary has them.
A pair a BioRED or BC5CDR document names only in different sentences is an example too (`Apart`):
those corpora annotate a document's links whatever sentences say them; DrugProt annotates a
sentence's, so its pairs named apart say nothing and are left out.

The confidence above which the model takes a side is chosen on out-of-fold predictions over the
training documents, apart for the pairs named apart; no dev or test document is read.
"""
from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from pipeline.codehash import closure_hash
from pipeline.config import Settings
from pipeline.corpora import ENTITY_TYPES
from pipeline.datatypes import GoldDocument, GoldEntity, Mention, Relation
from pipeline.documents.sentences import split_sentences
from pipeline.evaluation.pharma import CHEMICAL_TYPES, TARGET_TYPES
from pipeline.models import LINKS
from pipeline.records.store import Store
from pipeline.training.pickled import build_pickled
from pipeline.verdicts import comentions
from pipeline.verdicts.comentions import Apart, CoMention, LinkModel, apart_features, record_features

CORPORA = ("biored", "bc5cdr", "drugprot")
SIGN = {"Positive_Correlation": 1, "Negative_Correlation": -1, "CID": 1, "ACTIVATOR": 1, "INHIBITOR": -1,
        "INDIRECT-UPREGULATOR": 1, "INDIRECT-DOWNREGULATOR": -1, "AGONIST": 1, "ANTAGONIST": -1,
        "AGONIST-ACTIVATOR": 1, "AGONIST-INHIBITOR": -1}
COMPLETE = {"biored", "drugprot"}  # corpora that annotate every linked pair of a document
DOCUMENT_LEVEL = {"biored", "bc5cdr"}  # corpora that annotate links said across sentences
REDUCED_LINK_DOCUMENTS = 150  # the quick CI recipe: the first train documents of each corpus


@dataclass(frozen=True)
class LinkConfig:
    """What training depends on besides the data; part of the model's key."""

    c: float = 0.1  # inverse regularization of the logistic regression
    folds: int = 5
    seed: int = 0
    # What a side taken the wrong way costs against one taken the right way. Telling users that a paper says
    # the opposite of what it says is the worst error litmine can make: a side is taken only where it is
    # right at least penalty / (1 + penalty) of the time (9: nine times in ten).
    penalty: float = 9.0


@dataclass
class LinkExample:
    corpus: str
    doc_id: str
    items: list[CoMention]  # the sentences naming both; none when the pair is named only `apart`
    sign: int
    apart: Apart | None = None

    def features(self) -> dict[str, float]:
        return record_features(self.items) if self.items else apart_features(self.apart)


def _concept(entity: GoldEntity) -> str:
    """The concept a gold mention stands for: its first identifier, or its lower-cased text."""
    ids = [i for i in entity.identifiers.replace(",", "|").split("|") if i and i != "-"]
    return ids[0] if ids else entity.text.lower()


def document_examples(doc: GoldDocument) -> list[LinkExample]:
    """The document's chemical-target pairs named together in a sentence, with their gold sign."""
    concept = {e.ann_id: _concept(e) for e in doc.entities}
    signs: dict[tuple[str, str], set[int]] = {}  # either order of a linked pair -> its signs
    for relation in doc.relations:
        first, second = concept.get(relation.arg1, relation.arg1), concept.get(relation.arg2, relation.arg2)
        for pair in ((first, second), (second, first)):
            signs.setdefault(pair, set()).add(SIGN.get(relation.type, 0))
    chemicals = {_concept(e) for e in doc.entities if e.type in CHEMICAL_TYPES}
    target_types = {_concept(e): ENTITY_TYPES[e.type] for e in doc.entities if e.type in TARGET_TYPES}
    targets = set(target_types) - chemicals
    sentences = []
    for start, end in split_sentences(doc.text):
        mentions = [Mention(e.start - start, e.end - start, e.text, e.type, _concept(e)) for e in doc.entities
                    if start <= e.start and e.end <= end]
        sentences.append((doc.text[start:end], mentions))

    def sides(side: Mention, sentence: str, mentions: list[Mention]) -> list[Mention]:
        return [m for m in mentions if m.id == side.id]

    examples = []
    for chemical in sorted(chemicals):
        for target in sorted(targets):
            found = signs.get((chemical, target), set())
            if len(found - {0}) > 1 or (not found and doc.corpus not in COMPLETE):
                continue
            claimed = Relation(Mention(0, 0, "", "Chemical", chemical), "increases",
                               Mention(0, 0, "", target_types[target], target), "", 0)
            sign = max(found - {0}, default=0)
            items = [c for _, c in comentions.comentions(claimed, sentences, sides)]
            if items:
                examples.append(LinkExample(doc.corpus, doc.doc_id, items, sign))
            elif doc.corpus in DOCUMENT_LEVEL and (named := comentions.apart(claimed, sentences, sides)):
                examples.append(LinkExample(doc.corpus, doc.doc_id, [], sign, named))
    return examples


def training_examples(store: Store, corpora: Iterable[str] = CORPORA, limit: int | None = None) -> list[LinkExample]:
    """The examples of every train document of `corpora` (the first `limit` of each)."""
    examples = []
    for corpus in corpora:
        for doc in store.gold_documents(corpus, "train")[:limit]:
            examples.extend(document_examples(doc))
    return examples


def _classifier(c: float) -> Pipeline:
    return make_pipeline(DictVectorizer(), LogisticRegression(C=c, max_iter=3000))


def _grid(start: float = 0.5) -> np.ndarray:
    return np.round(np.arange(start, 0.991, 0.01), 3)


def choose_thresholds(probabilities: np.ndarray, signs: np.ndarray, corpora: np.ndarray,
                      penalty: float) -> dict[str, float]:
    """The thresholds that score best over the corpora, each counting alike (a side the right way
    counts 1, the wrong way -`penalty`, on a pair without a direction -`penalty` too): direction and
    link for cited records, on the directed pairs; link for records found by search, on all pairs."""
    down, none, up = probabilities.T
    sign = np.where(up >= down, 1, -1)
    direction = np.maximum(up, down) / np.maximum(up + down, 1e-12)
    linked = 1 - none
    directed = signs != 0
    names = sorted(set(corpora))

    def score(taken: np.ndarray, among: np.ndarray) -> float:
        return float(np.mean([((taken & among & (corpora == c) & (sign == signs)).sum()
                               - penalty * (taken & among & (corpora == c) & (sign != signs)).sum())
                              / max(1, (among & (corpora == c)).sum()) for c in names]))

    direction_threshold, cited_link = max(((d, k) for d in _grid() for k in _grid(0.0)),
                                          key=lambda t: score((direction >= t[0]) & (linked >= t[1]), directed))
    cited = (direction >= direction_threshold) & (linked >= cited_link)
    search_link = max(_grid(cited_link), key=lambda t: score(cited & (linked >= t), np.ones_like(directed)))
    searched = cited & (linked >= search_link)
    figures = {"direction_threshold": float(direction_threshold), "cited_link_threshold": float(cited_link),
               "search_link_threshold": float(search_link)}
    for c in names:
        here = directed & (corpora == c)
        figures[f"{c}_cited_covered"] = float((cited & here).sum() / max(1, here.sum()))
        figures[f"{c}_cited_wrong_way"] = float((cited & here & (sign != signs)).sum() / max(1, (cited & here).sum()))
        figures[f"{c}_searched_wrong"] = float((searched & (corpora == c) & (sign != signs)).sum()
                                               / max(1, (searched & (corpora == c)).sum()))
    return figures


def _corpus_weights(corpora: np.ndarray) -> np.ndarray:
    """Each corpus weighs alike in training, whatever its size: DrugProt has ten times BioRED's pairs,
    and users cite papers like BioRED's (diseases, doc-level links) as often as DrugProt's."""
    names, counts = np.unique(corpora, return_counts=True)
    share = dict(zip(names, len(corpora) / (len(names) * counts)))
    return np.array([share[c] for c in corpora])


def _out_of_fold(examples: list[LinkExample], config: LinkConfig) -> tuple[Pipeline, np.ndarray]:
    """A classifier fitted on every example, and each example's probabilities (in `comentions.SIGNS`
    order) from one fitted without its document's fold."""
    rows = [e.features() for e in examples]
    signs = np.array([e.sign for e in examples])
    docs = sorted({e.doc_id for e in examples})
    fold_of = dict(zip(docs, np.random.default_rng(config.seed).permutation(len(docs)) % config.folds))
    folds = np.array([fold_of[e.doc_id] for e in examples])
    weights = _corpus_weights(np.array([e.corpus for e in examples]))
    probabilities = np.zeros((len(examples), 3))
    for f in range(config.folds):
        if len(set(signs[folds != f])) < 2:  # a fold of a small sample may hold one sign only: nothing to learn
            continue
        model = _classifier(config.c).fit([r for r, k in zip(rows, folds != f) if k], signs[folds != f],
                                          logisticregression__sample_weight=weights[folds != f])
        predicted = model.predict_proba([r for r, k in zip(rows, folds == f) if k])
        for column, sign in enumerate(comentions.SIGNS):  # a sign the fold never saw keeps probability 0
            if sign in model.classes_:
                probabilities[folds == f, column] = predicted[:, list(model.classes_).index(sign)]
    return _classifier(config.c).fit(rows, signs, logisticregression__sample_weight=weights), probabilities


def train_links(examples: list[LinkExample], config: LinkConfig = LinkConfig()) -> LinkModel:
    """Fit on every example; choose the thresholds on out-of-fold predictions, documents kept whole. The
    pairs named apart have a classifier and thresholds of their own (none when they are all of one sign)."""
    together = [e for e in examples if e.apart is None]
    model, probabilities = _out_of_fold(together, config)
    figures = choose_thresholds(probabilities, np.array([e.sign for e in together]),
                                np.array([e.corpus for e in together]), config.penalty)
    links = LinkModel(model, figures["direction_threshold"], figures["cited_link_threshold"],
                      figures["search_link_threshold"], cross_validation=figures)
    apart = [e for e in examples if e.apart is not None]
    if len({e.sign for e in apart}) > 1:
        links.apart_classifier, probabilities = _out_of_fold(apart, config)
        chosen = choose_thresholds(probabilities, np.array([e.sign for e in apart]),
                                   np.array([e.corpus for e in apart]), config.penalty)
        figures.update({f"apart_{name}": value for name, value in chosen.items() if "search" not in name})
        links.apart_direction_threshold = chosen["direction_threshold"]
        links.apart_link_threshold = chosen["cited_link_threshold"]
    return links


def links_key(examples: list[LinkExample], config: LinkConfig) -> str:
    """Changes with the config, the examples and the code training runs (its import closure)."""
    digest = hashlib.sha256(json.dumps(asdict(config)).encode())
    for example in examples:
        digest.update(json.dumps(asdict(example)).encode())
    digest.update(closure_hash(sys.modules[__name__]).encode())
    return digest.hexdigest()[:12]


def build_links(settings: Settings, store: Store, config: LinkConfig = LinkConfig(), limit: int | None = None) -> Path:
    """Train the link model on the relation corpora's train splits unless one with its key exists, and
    make it current; returns its folder."""
    examples = training_examples(store, limit=limit)
    if not examples:
        raise ValueError(f"the link model trains on BioRED, BC5CDR and DrugProt train: import ../shared/corpora "
                         f"into {store.path}")
    return build_pickled(settings, LINKS, links_key(examples, config), f"{len(examples)} chemical-target pairs",
                         lambda: train_links(examples, config), {"examples": len(examples), "config": asdict(config)})
