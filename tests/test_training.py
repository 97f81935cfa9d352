"""Turning the gold corpora into spaCy training data, and the strict NER scorer."""
from __future__ import annotations

from pathlib import Path

import pytest
import spacy

from pipeline.config import Settings, load_settings
from pipeline.datatypes import GoldDocument, GoldEntity, Mention
import pipeline.entities.nlp  # noqa: F401  (registers litmine.Tokenizer.v1)
from pipeline.evaluation.entities import Scores, evaluate_ner
from pipeline.models import model_dir
from pipeline.training.spacy_models import MODELS, gold_split, ner_doc, treebank_docs, treebank_files


@pytest.fixture(scope="module")
def nlp() -> spacy.Language:
    return spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "litmine.Tokenizer.v1"}}})


def gold(corpus: str, text: str, *entities: tuple[str, str]) -> GoldDocument:
    """A gold document with the entities given as (surface, corpus type), found left to right."""
    doc, cursor = GoldDocument(corpus, "train", "1", text), 0
    for i, (surface, type_) in enumerate(entities):
        start = text.index(surface, cursor)
        doc.entities.append(GoldEntity(f"T{i}", start, start + len(surface), surface, type_))
        cursor = start
    return doc


def test_tokenizer_keeps_gold_boundaries_inside_words(nlp: spacy.Language) -> None:
    words = [t.text for t in nlp("lidocaine-induced seizures; Na+/K+ ATPase; CaCl(2) and Kv1.5")]
    assert words[:3] == ["lidocaine", "-", "induced"]
    assert "Na" in words and "K" in words and "CaCl" in words
    assert "Kv1.5" in words  # dots inside names stay


def test_ner_doc_maps_types_and_leaves_unused_types_out_of_the_loss(nlp: spacy.Language) -> None:
    doc, dropped = ner_doc(nlp, gold("nlm_gene", "BRCA1 binds the RING domain of BARD1.",
                                     ("BRCA1", "Gene"), ("RING domain", "Domain"), ("BARD1", "STARGENE")))
    assert [(e.text, e.label_) for e in doc.ents] == [("BRCA1", "Gene"), ("BARD1", "Gene")]
    assert dropped == 0
    iob = {t.text: t.ent_iob_ for t in doc}
    assert iob["RING"] == "" and iob["domain"] == ""  # missing: neither entity nor outside
    assert iob["binds"] == "O"


def test_ner_doc_drops_nested_mentions_and_counts_them(nlp: spacy.Language) -> None:
    doc, dropped = ner_doc(nlp, gold("bc5cdr", "Lithium carbonate toxicity was seen.",
                                     ("Lithium carbonate", "Chemical"), ("Lithium", "Chemical"),
                                     ("toxicity", "Disease")))
    assert [(e.text, e.label_) for e in doc.ents] == [("Lithium carbonate", "Chemical"), ("toxicity", "Disease")]
    assert dropped == 1


def test_nlm_gene_lends_every_tenth_train_document_to_dev(trained: Settings) -> None:
    from pipeline.records.store import Store

    with Store(trained.store_path) as store:
        fit, dev = gold_split(store, "nlm_gene", "train-fit"), gold_split(store, "nlm_gene", "train-dev")
        train = store.gold_documents("nlm_gene", "train")
        with pytest.raises(ValueError, match="no gold documents for bc5cdr nosuch"):
            gold_split(store, "bc5cdr", "nosuch")
    assert len(dev) == len(train) // 10 and len(fit) + len(dev) == len(train)
    assert not {d.doc_id for d in fit} & {d.doc_id for d in dev}


def test_craft_split_by_article() -> None:
    settings = load_settings()
    if not (settings.shared / "treebanks" / "craft").is_dir():
        pytest.skip("no CRAFT treebank")
    parts = {split: treebank_files(settings, "craft", split) for split in ("train", "dev", "test")}
    assert [len(p) for p in parts.values()] == [79, 9, 9]
    assert not set(parts["train"]) & (set(parts["dev"]) | set(parts["test"]))
    docs = treebank_docs(settings, "craft", "test")
    assert docs and all(doc.has_annotation("DEP") and doc.has_annotation("TAG") for doc in docs[:5])


def test_bad_conllu_names_the_file(tmp_path: Path) -> None:
    bank = tmp_path / "treebanks" / "craft" / "conllu"
    bank.mkdir(parents=True)
    for i in range(10):
        (bank / f"{i}.conllu").write_text("1\tA\ta\tDET\tDT\t_\t0\troot\t_\t_\n\n")
    (bank / "9.conllu").write_text("1\tA\ta\tDET\n\n")
    with pytest.raises(ValueError, match=r"9\.conllu: not valid CoNLL-U"):
        treebank_docs(Settings(shared=tmp_path), "craft", "test")


def test_models_are_keyed_and_reused(trained: Settings) -> None:
    for spec in MODELS:
        path = model_dir(trained, spec.name)
        assert path is not None and (path.parent / "build.json").is_file()
    assert model_dir(trained.with_overrides(models=trained.models / "nowhere"), "ner_bc5cdr") is None


class _Fixed:
    """A tagger that returns what it is told to, to check the scorer's arithmetic."""

    version = "fixed"

    def __init__(self, mentions: list[Mention]):
        self._mentions = mentions

    def tag(self, text: str) -> list[Mention]:
        return self._mentions


def test_strict_scoring_counts_offsets_and_types_exactly() -> None:
    doc = gold("nlm_gene", "BRCA1 binds the RING domain of BARD1 in mice.",
               ("BRCA1", "Gene"), ("RING domain", "Domain"), ("BARD1", "Gene"))
    doc.split = "test"
    tagger = _Fixed([Mention(0, 5, "BRCA1", "Gene"),  # right
                     Mention(16, 27, "RING domain", "Gene"),  # an unused-type span: not counted
                     Mention(31, 35, "BARD", "Gene"),  # boundary error: wrong
                     Mention(40, 44, "mice", "Species")])  # a type NLM-Gene does not annotate: ignored
    figures = evaluate_ner(tagger, [doc], "nlm_gene", "test")
    assert set(figures.per_type) == {"Gene"}
    assert figures.overall == Scores(precision=0.5, recall=0.5, f1=0.5, gold=2, predicted=2)
    assert figures.as_dict()["overall"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "gold": 2, "predicted": 2}
