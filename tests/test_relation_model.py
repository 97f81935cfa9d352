"""Relation models trained on small real slices of the gold corpora: training, reuse, loading,
official scoring, the vocabulary mapping, negation/hedging cues and triple assembly."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.codehash import import_closure
from pipeline.config import Settings, load_settings
from pipeline.corpora import to_vocabulary
from pipeline.datatypes import RELATION_POLARITY, GoldDocument, GoldEntity, GoldRelation, Mention, Record
from pipeline.documents.reading import load_document
from pipeline.entities.dictionary import DictionaryTagger
from pipeline.evaluation.entities import Scores
from pipeline.evaluation.relations import evaluate_cues, evaluate_extractor, evaluate_relations, gold_keys, score
from pipeline.models import FLOW_CORPORA, ModelsMissing, current_relation_models
from pipeline.records.prot_tsv import parse_prot_split
from pipeline.records.store import Store
from pipeline.relations.dependencies import Arc, DependencyParser, splice_negations
from pipeline.relations.features import SentenceView, pair_features, path_features
from pipeline.relations.model import TASKS, ModelExtractor, RelationModel
from pipeline.relations.triggers import TriggerExtractor
from pipeline.relations.triples import assemble_triples
from pipeline.training import relation_models
from pipeline.training.relation_batches import make_batch
from pipeline.training.relation_models import predict_batch, train_relation_model
from pipeline.verdicts.evidence import extract_record

SHARED = load_settings().shared
CUES = Path(__file__).parent / "data" / "relations" / "cues.tsv"
PROT = {"drugprot": "drugprot/{split}/drugprot_{split}_abstracs.tsv",
        "chemprot": "chemprot/chemprot_{split}/chemprot_{split}_abstracts.tsv"}


def prot_docs(corpus: str, split: str, n: int) -> list[GoldDocument]:
    path = SHARED / "corpora" / PROT[corpus].format(split=split)
    if not path.is_file():
        pytest.skip(f"no {path}")
    return parse_prot_split(path).documents[:n]


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A store holding 250 DrugProt training abstracts (120 of ChemProt's train, 60 of its dev)."""
    store = Store(tmp_path_factory.mktemp("store") / "litmine.sqlite")
    store.add_gold_documents(prot_docs("drugprot", "training", 250) + prot_docs("chemprot", "training", 120)
                             + prot_docs("chemprot", "development", 60))
    return store


@pytest.fixture(scope="module")
def parser(trained: Settings) -> DependencyParser:
    """The CRAFT parser of the reduced (CI) recipe."""
    return DependencyParser.load(trained)


@pytest.fixture(scope="module")
def drugprot_dir(small_store: Store, parser: DependencyParser, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_relation_model("drugprot", small_store, tmp_path_factory.mktemp("models"), parser=parser)


def test_trained_model_is_saved_reused_and_loads_to_the_same_predictions(small_store, parser, tmp_path, capsys):
    folder = train_relation_model("chemprot", small_store, tmp_path, parser=parser, progress=True)
    progress = capsys.readouterr()
    assert "chemprot: selecting on" in progress.err and not progress.out  # stdout is for results (--json)
    assert folder.name.startswith("chemprot-") and (folder / "selection" / "model.json").is_file()
    stamp = (folder / "model.json").stat().st_mtime_ns
    assert train_relation_model("chemprot", small_store, tmp_path, parser=parser) == folder  # reused
    assert (folder / "model.json").stat().st_mtime_ns == stamp
    model = RelationModel.load(folder)
    dev = small_store.gold_documents("chemprot", "dev")
    batch = make_batch(model.task, dev, parser=parser)
    assert any(f.startswith("dp=") for p in batch.pairs for f in p.features)  # ChemProt reads dependency paths
    predicted = predict_batch(model, batch)
    assert predicted and {label for _, label, _ in predicted} <= set(TASKS["chemprot"].labels)
    assert all(0 < confidence <= 1 for _, _, confidence in predicted)
    # another parser or new training data gives a new model folder
    assert train_relation_model("chemprot", small_store, tmp_path,
                                parser=DependencyParser(parser.nlp, "another")) != folder
    small_store.add_gold_documents(prot_docs("chemprot", "training", 130)[120:])
    grown = train_relation_model("chemprot", small_store, tmp_path, parser=parser)
    assert grown != folder
    # one held out from a benchmark's papers (benchmarks/held_out_models.py) learns without them
    held = train_relation_model("chemprot", small_store, tmp_path, parser=parser, held_out={dev[0].doc_id})
    documents = {path: json.loads((path / "build.json").read_text())["documents"] for path in (grown, held)}
    assert held != grown and documents[held] == documents[grown] - 1


def test_evaluation_reports_the_benchmark_micro_f1(drugprot_dir, parser):
    model = RelationModel.load(drugprot_dir)
    dev = prot_docs("drugprot", "development", 80)
    result = evaluate_relations("drugprot", "dev", "gold", model=model, docs=dev, parser=parser)
    figures = result.as_dict()
    assert list(figures) == ["corpus", "split", "entities", "micro", "per_type"]
    assert list(figures["micro"]) == ["precision", "recall", "f1", "gold", "predicted"]
    # 250 training abstracts already learn the frequent types
    assert 0.3 < result.micro.f1 < 1 and result.per_type["INHIBITOR"].f1 > 0.4
    assert set(result.per_type) <= set(TASKS["drugprot"].labels)


def test_a_batch_of_sentences_scores_as_its_sentences_do_alone(drugprot_dir, parser):
    """One matrix product a stage for the whole batch (inference, bias selection) changes no score."""
    model = RelationModel.load(drugprot_dir)
    batch = make_batch(model.task, prot_docs("drugprot", "development", 30), parser=parser)
    together = model.scores_many(batch.sentences)
    alone = [model.scores_many([s]) for s in batch.sentences]
    assert len(batch.sentences) > 10 and together[1].shape == (len(batch.pairs), len(model.task.classes))
    for stage in (0, 1):
        assert np.array_equal(together[stage], np.vstack([scores[stage] for scores in alone]))


def test_official_counting_rules():
    doc = GoldDocument("chemprot", "test", "1", "x", [GoldEntity("T1", 0, 1, "a", "CHEMICAL"),
                                                       GoldEntity("T2", 2, 3, "b", "GENE-Y")],
                       [GoldRelation("CPR:4", "T1", "T2"), GoldRelation("CPR:2", "T1", "T2")])
    assert gold_keys("chemprot", [doc]) == {("1", "CPR:4", "0-1", "2-3")}  # CPR:2 is not evaluated
    cdr = GoldDocument("bc5cdr", "test", "7", "x", [],
                       [GoldRelation("CID", "D1", "D2"), GoldRelation("CID", "D1", "D2")])
    assert gold_keys("bc5cdr", [cdr]) == {("7", "CID", "D1", "D2")}
    biored = GoldDocument("biored", "test", "9", "x", [], [GoldRelation("Bind", "5", "D3")])
    assert gold_keys("biored", [biored]) == {("9", "Bind", "5", "D3")} == gold_keys(
        "biored", [GoldDocument("biored", "test", "9", "x", [], [GoldRelation("Bind", "D3", "5")])])
    result = score({("1", "A", "x", "y"), ("1", "B", "x", "z")}, {("1", "A", "x", "y"), ("1", "A", "x", "z")})
    assert result.micro == Scores(precision=0.5, recall=0.5, f1=0.5, gold=2, predicted=2)
    assert result.per_type["B"] == Scores(precision=0.0, recall=0.0, f1=0.0, gold=1, predicted=0)


def test_extractors_are_scored_in_litmines_vocabulary_sentence_by_sentence():
    text = "Aspirin inhibits COX-1 but not COX-2. Aspirin did not inhibit COX-3."
    entities = [GoldEntity(f"T{i}", text.index(name, at), text.index(name, at) + len(name), name, type_)
                for i, (name, type_, at) in enumerate([("Aspirin", "CHEMICAL", 0), ("COX-1", "GENE-Y", 0),
                                                       ("COX-2", "GENE-Y", 0), ("Aspirin", "CHEMICAL", 30),
                                                       ("COX-3", "GENE-Y", 0)])]
    doc = GoldDocument("drugprot", "dev", "1", text, entities,
                       [GoldRelation("INHIBITOR", "T0", "T1"), GoldRelation("PART-OF", "T2", "T0")])
    result = evaluate_extractor(TriggerExtractor(), "drugprot", [doc])
    # gold: T0 inhibits T1, T0 associated_with T2 (PART-OF, read chemical first); the trigger finds
    # T0 inhibits T1 and T0 inhibits T2, and its negated T3-T4 inhibition is left out
    assert result.extractor == "trigger-baseline"
    assert result.as_dict()["micro"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "gold": 2, "predicted": 2}
    assert result.per_type["inhibits"].precision == 0.5 and result.per_type["associated_with"].recall == 0


def test_the_flow_reads_the_current_relation_models(trained, tmp_path):
    folders = current_relation_models(trained)
    assert [f.name.split("-")[0] for f in folders] == list(FLOW_CORPORA) == ["drugprot", "biored"]
    assert all(json.loads((f / "build.json").read_text())["documents"] > 0 for f in folders)
    extractor = ModelExtractor.load(folders, DependencyParser.load(trained))
    assert extractor.version == "+".join(f.name for f in folders)
    with pytest.raises(ModelsMissing, match="relations_drugprot.*litmine models build"):
        current_relation_models(trained.with_overrides(models=tmp_path))


def test_every_corpus_type_maps_into_litmines_vocabulary():
    for corpus, task in TASKS.items():
        for label in task.labels:
            mapped = to_vocabulary(corpus, label, ("Chemical", "Gene" if corpus != "bc5cdr" else "Disease"))
            if corpus == "biored" and label not in ("Association", "Positive_Correlation", "Negative_Correlation",
                                                    "Bind"):
                assert mapped is None  # chemical-chemical types have no litmine relation
            else:
                assert mapped in RELATION_POLARITY, (corpus, label)
    assert to_vocabulary("biored", "Negative_Correlation", ("Disease", "Chemical")) == "treats"
    assert to_vocabulary("biored", "Positive_Correlation", ("Chemical", "Disease")) == "causes"
    assert to_vocabulary("drugprot", "INHIBITOR", ("Chemical", "Gene")) == "inhibits"
    assert to_vocabulary("chemprot", "CPR:6", ("Chemical", "Gene")) == "antagonist_of"


def test_negation_and_hedging_cues_on_the_hand_labelled_sample():
    result = evaluate_cues(CUES)
    assert result.negated.sentences == 130
    assert result.negated.recall >= 0.9 and result.negated.f1 >= 0.75
    assert result.hedged.recall >= 0.95 and result.hedged.f1 >= 0.85
    assert list(result.as_dict()["hedged"]) == ["precision", "recall", "f1", "gold", "predicted", "sentences",
                                                "positives"]


def _mentions(sentence: str, *spec: tuple[str, str, str]) -> list[Mention]:
    return sorted((Mention(sentence.index(text), sentence.index(text) + len(text), text, type_, id_)
                   for text, type_, id_ in spec), key=lambda m: m.start)


def test_model_extractor_negation_and_triples(drugprot_dir, parser):
    extractor = ModelExtractor.load([drugprot_dir], parser=parser)
    sentence = "Sertraline did not inhibit Kir4.1 channels."
    relations = extractor.extract(sentence, 3, _mentions(sentence, ("Sertraline", "Chemical", "DrugBank:DB01104"),
                                                         ("Kir4.1", "Gene", "HGNC:6256")))
    assert [(r.subject.text, r.relation, r.object.text, r.negated, r.hedged) for r in relations] == [
        ("Sertraline", "inhibits", "Kir4.1", True, False)]
    triples = assemble_triples(relations, pmid="123")
    assert len(triples) == 1 and triples[0].negated and triples[0].target.id == "HGNC:6256"
    assert triples[0].pmid == "123" and triples[0].target_link.sentence == sentence and triples[0].polarity == -1


def test_pssd_sertraline_sentence_yields_inhibits_triples(drugprot_dir, parser, kb):
    """The blog post's key sentence, read as evidence text: sertraline inhibits Kv1.5 (KCNA5) and Kir4.1 (KCNJ10)."""
    path = SHARED / "documents" / "pssd-glutamate.txt"
    if not path.is_file():
        pytest.skip(f"no {path}")
    document = load_document(path)
    sentence = next(s.text for s in document.sentences if "Sertraline was reported to inhibit" in s.text)
    extracted = extract_record(Record(uid="doc:pssd", title=sentence), DictionaryTagger(kb),
                               ModelExtractor.load([drugprot_dir], parser=parser))
    triples = assemble_triples(extracted.relations, pmid="")
    inhibited = {t.target.id for t in triples if t.target_link and t.drug.text == "Sertraline"
                 and t.target_link.relation == "inhibits" and not t.negated}
    assert {"HGNC:6224", "HGNC:6256"} <= inhibited


def test_negation_words_do_not_change_a_pairs_features():
    """The corpora leave negated relations unannotated; the model must still type them."""
    def features(sentence: str) -> list[str]:
        view = SentenceView.of(sentence, _mentions(sentence, ("Sertraline", "Chemical", ""), ("Kir4.1", "Gene", "")))
        return sorted(pair_features(view, 0, 1))

    assert features("Sertraline did not inhibit Kir4.1.") == features("Sertraline inhibit Kir4.1.")
    assert features("Sertraline failed to inhibit Kir4.1.") == features("Sertraline inhibit Kir4.1.")
    assert features("Sertraline, unlike NO, inhibits Kir4.1.") != features("Sertraline, unlike, inhibits Kir4.1.")


def _parse(sentence: str, *arcs: tuple[str, str, str, int]) -> tuple[Arc, ...]:
    """A hand-made parse: (word, tag, label, head index) per token, found left to right."""
    found, cursor = [], 0
    for word, tag, dep, head in arcs:
        start = sentence.index(word, cursor)
        cursor = start + len(word)
        found.append(Arc(start, cursor, word.lower(), tag, dep, head))
    return tuple(found)


def test_dependency_path_between_the_mentions_head_words():
    sentence = "Sertraline inhibits Kir4.1 channels."
    parse = _parse(sentence, ("Sertraline", "NNP", "nsubj", 1), ("inhibits", "VBZ", "ROOT", 1),
                   ("Kir4.1", "NN", "compound", 3), ("channels", "NNS", "dobj", 1), (".", ".", "punct", 1))
    mentions = _mentions(sentence, ("Sertraline", "Chemical", ""), ("Kir4.1", "Gene", ""))
    features = set(path_features(parse, mentions, 0, 1, ("CHEMICAL", "GENE")))
    assert {"dp=@CHEMICAL@ <nsubj inhibits >dobj channels >compound @GENE@", "dp_labels=<nsubj >dobj >compound",
            "dp_verb=inhib", "dp_trigger=inhibits", "gov=GENE:compound:channels", "gov=CHEMICAL:nsubj:inhibits",
            "dp_top=inhib", "dp_len=3"} <= features
    view = SentenceView.of(sentence, mentions, parse)
    assert set(pair_features(view, 0, 1)) - set(pair_features(SentenceView.of(sentence, mentions), 0, 1)) == features


def test_a_negating_verb_is_spliced_out_of_the_path():
    """"X failed to inhibit Y" reads as "X inhibit Y", as the word features do (relation_features)."""
    failed = "Sertraline failed to inhibit Kir4.1"
    plain = "Sertraline inhibit Kir4.1"
    spliced = splice_negations(_parse(failed, ("Sertraline", "NNP", "nsubj", 1), ("failed", "VBD", "ROOT", 1),
                                      ("to", "TO", "aux", 3), ("inhibit", "VB", "xcomp", 1),
                                      ("Kir4.1", "NN", "dobj", 3)))
    assert spliced[3].head == 3 and spliced[1] == Arc(11, 17, "failed", "VBD", "neg", 3)
    parse = _parse(plain, ("Sertraline", "NNP", "nsubj", 1), ("inhibit", "VB", "ROOT", 1), ("Kir4.1", "NN", "dobj", 1))

    def features(sentence, tree):
        mentions = _mentions(sentence, ("Sertraline", "Chemical", ""), ("Kir4.1", "Gene", ""))
        return sorted(path_features(tree, mentions, 0, 1, ("CHEMICAL", "GENE")))

    assert features(failed, spliced) == features(plain, parse)


def test_parser_gives_each_token_its_span_and_head(parser):
    text = "Caffeine blocks adenosine A2A receptors in the striatum."
    parse, again = parser.parse([text, text])
    assert parse == again
    assert all(text[arc.start:arc.end].lower() == arc.word and 0 <= arc.head < len(parse) for arc in parse)
    assert any(arc.head == i for i, arc in enumerate(parse))  # a root


def test_a_models_key_follows_every_relations_module_its_training_reads():
    """A change to what training reads retrains: the key hashes the relation modules training imports
    (a hand-bumped version was once forgotten when the negation's reach changed)."""
    read = {m.__name__ for m in import_closure(relation_models) if m.__name__.startswith("pipeline.relations")}
    assert read <= set(relation_models.TRAINING_CODE)
