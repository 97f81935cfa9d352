"""The linker scored on the corpora's gold mentions (`litmine evaluate linking`)."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

from pipeline.corpora import CORPUS_XREFS, NER_TYPES, corpus_id
from pipeline.entities.kb import KnowledgeBase
from pipeline.entities.linking import Linker, corpus_concepts, gold_ids
from pipeline.records.store import Store


@dataclass(frozen=True)
class TypeAccuracy:
    """One type's identifier accuracy: over all its scored mentions, and over those the KB could link."""

    accuracy: float
    n: int
    in_kb_accuracy: float
    in_kb_n: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class LinkingFigures:
    """What `litmine evaluate linking --json` prints: accuracy over all scored mentions and per type."""

    corpus: str
    split: str
    accuracy: float
    per_type: dict[str, TypeAccuracy]
    n: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def evaluate_linking(store: Store, kb: KnowledgeBase, linker: Linker, corpus: str, split: str) -> LinkingFigures:
    """Identifier accuracy on the gold mentions of a corpus split (gold offsets and types).

    A mention counts as correct when the corpus id its concept stands for (MeSH, NCBI Gene,
    via pipeline.corpora.corpus_id) is one of its gold ids: a composite
    mention ("breast and ovarian cancer", D001943|D010051) is right when linked to either
    part, since a linker gives one id per mention. A gene's id is its species' NCBI Gene id
    (Linker.gene_species: a mouse paper's TNF is mouse Tnf), its human concept's where no
    ortholog is known. Mentions without a gold id ("-1") are skipped. What the linker learns
    from the train corpora is relearned without the split's documents (BioRED's train split
    holds 53 BC5CDR test abstracts, NLM-Gene 26 BioRED dev and 24 test ones). "in_kb_accuracy"
    counts only the mentions one of whose gold ids some KB concept of their type carries
    (litmine's KB is human-only: for genes, the human ones).
    """
    docs = store.gold_documents(corpus, split)
    if linker.lexicon:
        linker = linker.learn(store, exclude={d.doc_id for d in docs})
    xrefs = CORPUS_XREFS[corpus]
    reachable = corpus_concepts(kb, corpus, linker.concept_types)
    correct: Counter[str] = Counter()
    total: Counter[str] = Counter()
    in_kb_correct: Counter[str] = Counter()
    in_kb_total: Counter[str] = Counter()
    for doc in docs:
        gold = [(e, NER_TYPES[corpus].get(e.type), gold_ids(e.identifiers)) for e in doc.entities]
        gold = [(e, type_, ids) for e, type_, ids in gold if type_ in xrefs and ids]
        mentions = linker.link(doc.text, [(e.start, e.end, type_) for e, type_, _ in gold])
        for (_, type_, ids), mention, gene in zip(gold, mentions, linker.gene_species(doc.text, mentions)):
            predicted = (gene.gene_id,) if gene and gene.gene_id else corpus_id(kb, corpus, mention)
            right = bool(ids & set(predicted))
            total[type_] += 1
            correct[type_] += right
            if ids & reachable[type_].keys():
                in_kb_total[type_] += 1
                in_kb_correct[type_] += right
    n = sum(total.values())
    per_type = {t: TypeAccuracy(round(correct[t] / total[t], 4), total[t],
                                round(in_kb_correct[t] / max(in_kb_total[t], 1), 4), in_kb_total[t])
                for t in sorted(total)}
    return LinkingFigures(corpus, split, round(sum(correct.values()) / max(n, 1), 4), per_type, n)
