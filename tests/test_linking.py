"""The linker on hand-written mentions, over small scispaCy artifacts built from a subset of
the session's KB."""
from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy
import pytest
import scipy.sparse
import scispacy.abbreviation  # noqa: F401  (registers abbreviation_detector)
import spacy
from scispacy.candidate_generation import LinkerPaths

from pipeline.config import load_settings
from pipeline.corpora import corpus_id, corpus_ids
from pipeline.datatypes import GoldDocument, GoldEntity, Mention
from pipeline.entities import ner  # noqa: F401  (registers litmine_linker)
from pipeline.entities.abbreviations import find_abbreviations
from pipeline.entities.kb import KnowledgeBase, normalize_name
from pipeline.entities.alias_index import BUILD_FILE, KB_FILE, ExactIndex, build_index
from pipeline.entities.linking import (ANN_K, ANN_THRESHOLD, KB_NAME_ATTR, SPECIES_ATTR, SPECIES_GENE_ATTR, Linker,
                                       corpus_lexicon)
from pipeline.entities.species import HUMAN, MOUSE, RAT, GeneSpecies, Orthologs
from pipeline.evaluation.linking import evaluate_linking
from pipeline.records.store import Store

# Names whose concepts the small index holds, besides a slice of the KB as distractors.
NAMES = {
    "Chemical": ["sertraline", "fluoxetine", "citalopram", "paroxetine", "SSRIs", "valproic acid", "GnRH",
                 "serotonin", "glutamate", "lithium"],
    "Gene": ["Kir4.1", "Kv1.5", "KCNJ11", "HTR2B", "GnRH", "GRIA1"],
    "Disease": ["Parkinson's disease", "PD", "seizures", "epilepsy", "depression", "toxicity", "ache",
                "Drug-Related Side Effects and Adverse Reactions"],
}
DISTRACTORS = 2000

KIR_TEXT = "Sertraline and other SSRIs blocked Kir4.1 channels in rat astrocytes."


@pytest.fixture(scope="module")
def index_dir(kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> Path:
    wanted = {c.id for names in NAMES.values() for name in names for c in kb.lookup(name)}
    concept_ids = sorted({e.concept_id for e in kb.entries()})[:DISTRACTORS]
    # min_df=1: in a few thousand aliases most 3-grams occur fewer than scispaCy's 10 times
    return build_index(kb, tmp_path_factory.mktemp("linker") / kb.version,
                       concept_ids=wanted | set(concept_ids), min_df=1, progress=False)


@pytest.fixture(scope="module")
def linker(kb: KnowledgeBase, index_dir: Path) -> Linker:
    return Linker.open(kb, index_dir)


@pytest.fixture(scope="module")
def species_linker(linker: Linker) -> Linker:
    """The linker with GtoPdb's mouse and rat orthologs, as Linker.load gives it."""
    return replace(linker, orthologs=Orthologs.from_gtopdb(load_settings().shared))


def spans(text: str, *marked: tuple[str, str]) -> list[tuple[int, int, str]]:
    """(start, end, type) of each (surface, type) at its first occurrence in text."""
    return [(text.index(s), text.index(s) + len(s), t) for s, t in marked]


def test_exact_index_finds_the_most_similar_aliases_in_a_fixed_order(index_dir: Path) -> None:
    paths = LinkerPaths.from_directory(index_dir)
    vectors = scipy.sparse.load_npz(paths.tfidf_vectors)
    queries = paths.get_tfidf_vectorizer().transform(["sertralin", "Kir 4.1", "parkinson disease"])
    similarities = (queries @ vectors.T).toarray()
    found = ExactIndex(vectors).knnQueryBatch(queries, k=5)
    for row, (ids, distances) in enumerate(found):
        best = sorted(range(vectors.shape[0]), key=lambda i: (-similarities[row, i], i))[:5]
        assert list(ids) == best
        assert numpy.allclose(distances, 1 - similarities[row, best], atol=1e-6)
    again = ExactIndex(vectors).knnQueryBatch(queries, k=5)
    assert all((a[0] == b[0]).all() for a, b in zip(found, again))


def test_exact_index_breaks_ties_at_the_kth_neighbour_by_the_lower_alias() -> None:
    vectors = scipy.sparse.csr_matrix(numpy.array([[1, 0], [0.6, 0.8], [1, 0], [0.6, 0.8], [0, 1], [1, 0]],
                                                  numpy.float32))
    query = scipy.sparse.csr_matrix(numpy.array([[1, 0]], numpy.float32))
    assert [list(ExactIndex(vectors).knnQueryBatch(query, k=k)[0][0]) for k in (2, 4, 9)] == [
        [0, 2], [0, 2, 5, 1], [0, 2, 5, 1, 3]]  # aliases sharing no 3-gram with the query are no neighbours


def test_index_is_in_scispacys_layout_and_reused(kb: KnowledgeBase, index_dir: Path) -> None:
    paths = LinkerPaths.from_directory(index_dir)
    assert all(Path(p).is_file() for p in (paths.tfidf_vectorizer, paths.tfidf_vectors, paths.concept_aliases_list,
                                            index_dir / KB_FILE))
    build = json.loads((index_dir / BUILD_FILE).read_text())
    assert build["kb_version"] == kb.version and build["aliases"] > build["concepts"] > DISTRACTORS
    stamp = (index_dir / BUILD_FILE).stat().st_mtime_ns
    assert build_index(kb, index_dir, progress=False) == index_dir
    assert (index_dir / BUILD_FILE).stat().st_mtime_ns == stamp  # not rebuilt


def test_dictionary_names_link_to_kb_ids(linker: Linker) -> None:
    mentions = linker.link(KIR_TEXT, spans(KIR_TEXT, ("Sertraline", "Chemical"), ("SSRIs", "Chemical"),
                                           ("Kir4.1", "Gene")))
    assert [(m.text, m.id, m.name) for m in mentions] == [
        ("Sertraline", "DrugBank:DB01104", "Sertraline"),
        ("SSRIs", "CLASS:SSRI", "selective serotonin reuptake inhibitor"),
        ("Kir4.1", "HGNC:6256", "KCNJ10"),
    ]
    assert all(c.source == "dictionary" for c in linker.candidates("Kir4.1", "Gene"))


def test_candidates_are_restricted_to_the_mention_type(linker: Linker) -> None:
    text = "GnRH analogues suppress GnRH expression."
    drug, gene = linker.link(text, [(0, 4, "Chemical"), (24, 28, "Gene")])
    assert (drug.id, gene.id) == ("DrugBank:DB00644", "HGNC:4419")  # gonadorelin, GNRH1
    assert linker.link("Kir4.1", [(0, 6, "Disease")])[0].id == ""  # no disease is named anything like it


def test_a_name_with_capitals_inside_is_a_symbol_not_the_common_word(linker: Linker) -> None:
    """"AChE" (acetylcholinesterase) tagged as a disease took "Ache", a synonym of Pain, by folded case."""
    text = "Donepezil inhibits AChE; the ache in his back was worse."
    symbol, word = linker.link(text, [(19, 23, "Disease"), (text.index("ache"), text.index("ache") + 4, "Disease")])
    assert (symbol.text, symbol.id) == ("AChE", "")
    assert (word.text, word.id) == ("ache", "MESH:D010146")  # Pain


def test_abbreviation_is_resolved_through_its_long_form(linker: Linker) -> None:
    text = "Sertraline worsened Parkinson's disease (PD) in rats; PD patients were spared."
    assert find_abbreviations(text) == {"PD": "Parkinson's disease"}
    marked = [(m.start(), m.end(), "Disease") for m in re.finditer("PD", text)]
    assert {m.id for m in linker.link(text, marked)} == {"MESH:D010300"}  # Parkinson Disease
    assert linker.link(text, marked, abbreviations={})[0].id != "MESH:D010300"  # "PD" alone: another concept


def test_misspelt_name_is_found_by_the_ann_candidates(linker: Linker) -> None:
    text = "Patients on sertralin reported nausea."
    (mention,) = linker.link(text, spans(text, ("sertralin", "Chemical")))
    assert (mention.id, mention.name) == ("DrugBank:DB01104", "Sertraline")
    best = linker.candidates("sertralin", "Chemical")[0]
    assert best.source == "ann" and ANN_THRESHOLD <= best.score < 1


def test_unknown_leading_words_are_dropped_before_guessing(linker: Linker) -> None:
    text = "Chronic parkinsonian sertraline users"
    (mention,) = linker.link(text, spans(text, ("parkinsonian sertraline", "Chemical")))
    assert mention.id == "DrugBank:DB01104"
    assert linker._known("parkinsonian sertraline", "Chemical") == []  # no name in KB or corpora
    (salt,) = linker.link("sertraline besylate", [(0, 19, "Chemical")])
    assert salt.id == "DrugBank:DB01104"


def test_a_composite_mention_links_to_the_first_name_it_coordinates(linker: Linker) -> None:
    text = "Caspase-3/7 activity, MMP-2/-9 and SOCS-1 and -3 fell."
    mentions = linker.link(text, spans(text, ("Caspase-3/7", "Gene"), ("MMP-2/-9", "Gene"),
                                       ("SOCS-1 and -3", "Gene")))
    assert [m.name for m in mentions] == ["CASP3", "MMP2", "SOCS1"]
    assert linker._known("MMP-2/-9", "Gene") == []  # no vocabulary names the composite


def test_a_gene_name_several_genes_share_takes_the_one_the_text_names(linker: Linker) -> None:
    alone = "p62 accumulated."
    senses = [c.concept_id for c in linker._dictionary("p62", "Gene")]
    assert "HGNC:11280" in senses[1:]  # SQSTM1, but not the dictionary's first
    assert linker.link(alone, spans(alone, ("p62", "Gene")))[0].id == senses[0]
    text = "Mutations of p62 cause Paget disease; SQSTM1 is an autophagy receptor."
    mentions = linker.link(text, spans(text, ("p62", "Gene"), ("SQSTM1", "Gene")))
    assert [m.name for m in mentions] == ["SQSTM1", "SQSTM1"]
    text = "Seizures, not epilepsy."  # chemicals and diseases keep their own best concept
    diseases = linker.link(text, spans(text, ("Seizures", "Disease"), ("epilepsy", "Disease")))
    assert [m.id for m in diseases] == [linker.link("Seizures", [(0, 8, "Disease")])[0].id, "MESH:D004827"]


def test_a_drug_stands_for_its_mesh_descriptor_not_its_salts(kb: KnowledgeBase) -> None:
    concept = kb.lookup("dexamethasone")[0]
    mesh = concept.xrefs["MESH"].split("|")
    assert "D003907" in mesh and len(mesh) > 1  # the descriptor and supplementary concepts (salts)
    mention = Mention(0, 13, "dexamethasone", "Chemical", concept.id)
    assert corpus_id(kb, "bc5cdr", mention) == ("D003907",)
    assert set(corpus_ids(kb, "bc5cdr", mention)) == set(mesh)  # all of them, for the inverse map
    heart_block = Mention(0, 20, "complete heart block", "Disease", "HP:0001709")  # HPO has no MeSH id
    assert corpus_id(kb, "bc5cdr", heart_block) == ("D006327",)  # MeSH's "Heart Block"


class CountedSearches:
    """A candidate generator that counts the calls made of it (each vectorizes and searches its names)."""

    def __init__(self, generator) -> None:
        self.generator, self.kb, self.calls = generator, generator.kb, []

    def __call__(self, names: list[str], k: int):
        self.calls.append(list(names))
        return self.generator(names, k)


def test_search_ahead_searches_a_batchs_new_names_at_once_and_links_alike(linker: Linker) -> None:
    documents = [(text, spans(text, *marked), None) for text, marked in [
        ("Patients on sertralin reported nausea and parkinsonian seizures.",
         [("sertralin", "Chemical"), ("parkinsonian seizures", "Disease")]),
        ("Parkinson's diseese (PD) worsened; PD patients took fluoxetin and Kir4.1 blockers.",
         [("Parkinson's diseese", "Disease"), ("PD", "Disease"), ("fluoxetin", "Chemical"), ("Kir4.1", "Gene")]),
        ("xyzzy frobnicator", [("xyzzy frobnicator", "Chemical")])]]
    alone = replace(linker, generator=CountedSearches(linker.generator), _cache={})
    ahead = replace(linker, generator=CountedSearches(linker.generator), _cache={})
    ahead.search_ahead(documents)
    assert [ahead.link(*document) for document in documents] == [alone.link(*document) for document in documents]
    assert len(ahead.generator.calls) == 1 and len(alone.generator.calls) > 1  # nothing left to search
    assert {"sertralin", "xyzzy frobnicator"} <= set(ahead.generator.calls[0])
    assert "Kir4.1" not in ahead.generator.calls[0]  # the dictionary knows it: never searched


def test_nothing_similar_enough_gives_no_id(linker: Linker) -> None:
    (mention,) = linker.link("xyzzy frobnicator", [(0, 17, "Chemical")])
    assert (mention.id, mention.name) == ("", "")


def test_spacy_component_links_ents_with_the_abbreviation_detector(linker: Linker) -> None:
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "Disease", "pattern": "PD"}, {"label": "Chemical", "pattern": "Sertraline"},
                        {"label": "Disease", "pattern": [{"LOWER": "parkinson"}, {"LOWER": "'s"}, {"LOWER": "disease"}]}])
    nlp.add_pipe("abbreviation_detector")
    component = nlp.add_pipe("litmine_linker")
    with pytest.raises(ValueError, match="no linker"):  # it is handed one, never loads one from settings
        nlp("Sertraline")
    component.use(linker)
    assert (component.linker.k, component.linker.threshold) == (ANN_K, ANN_THRESHOLD)  # the factory's defaults
    doc = nlp("Sertraline worsened Parkinson's disease (PD) in rats; PD patients were spared.")
    assert [(e.text, e.label_, e.kb_id_, e._.get(KB_NAME_ATTR)) for e in doc.ents] == [
        ("Sertraline", "Chemical", "DrugBank:DB01104", "Sertraline"),
        ("Parkinson's disease", "Disease", "MESH:D010300", "Parkinson Disease"),
        ("PD", "Disease", "MESH:D010300", "Parkinson Disease"),
        ("PD", "Disease", "MESH:D010300", "Parkinson Disease"),
    ]


def test_the_linker_takes_its_settings_from_the_pipeline_config(linker: Linker) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("litmine_linker", config={"k": 5, "threshold": 0.9}).use(linker)
    assert nlp.config["components"]["litmine_linker"] == {"factory": "litmine_linker", "k": 5, "threshold": 0.9}
    assert (nlp.get_pipe("litmine_linker").linker.k, nlp.get_pipe("litmine_linker").linker.threshold) == (5, 0.9)


def test_a_saved_linker_component_keeps_its_config_and_links_alike(species_linker: Linker, tmp_path: Path) -> None:
    """to_disk writes the linker whole (KB, index, what it was taught); spacy.load reads it back with the
    config's k and threshold, and links as the original, here a threshold no misspelling reaches."""
    text = "Patients on sertralin showed Kir4.1 loss in rats."
    taught = species_linker.with_tables({**species_linker.tables(), "orthologs": [["HGNC:4419", MOUSE, "14714"]],
                                         "lexicon": [["toxicity", "Disease", "MESH:D064420"]]})
    pipelines = []
    for config in ({}, {"k": 5, "threshold": 0.99}):
        nlp = spacy.blank("en")
        nlp.add_pipe("entity_ruler").add_patterns([{"label": "Chemical", "pattern": "sertralin"},
                                                   {"label": "Gene", "pattern": "Kir4.1"}])
        nlp.add_pipe("litmine_linker", config=config).use(taught)
        pipelines.append(nlp)
    default, strict = ([(e.text, e.kb_id_, e._.get(SPECIES_GENE_ATTR)) for e in nlp(text).ents] for nlp in pipelines)
    assert default == [("sertralin", "DrugBank:DB01104", ""), ("Kir4.1", "HGNC:6256", "29718")]
    assert strict == [("sertralin", "", ""), ("Kir4.1", "HGNC:6256", "29718")]
    pipelines[1].to_disk(tmp_path / "saved")
    assert {p.name for p in (tmp_path / "saved" / "litmine_linker").iterdir()} == {
        "kb.sqlite", KB_FILE, BUILD_FILE, "tfidf_vectorizer.joblib", "tfidf_vectors_sparse.npz", "concept_aliases.json",
        "tables.json.gz"}
    loaded = spacy.load(tmp_path / "saved")
    component = loaded.get_pipe("litmine_linker")
    assert loaded.config["components"]["litmine_linker"] == {"factory": "litmine_linker", "k": 5, "threshold": 0.99}
    assert (component.linker.k, component.linker.threshold) == (5, 0.99)
    assert component.linker.tables() == taught.tables()
    assert [(e.text, e.kb_id_, e._.get(SPECIES_GENE_ATTR)) for e in loaded(text).ents] == strict
    assert loaded.get_pipe("litmine_linker").linker.kb.version == species_linker.kb.version


def test_a_linker_not_opened_from_its_folder_cannot_be_saved(linker: Linker, tmp_path: Path) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("litmine_linker").use(replace(linker, index=None))
    with pytest.raises(ValueError, match="index folder"):
        nlp.to_disk(tmp_path / "saved")


def test_train_corpus_names_teach_conventions(kb: KnowledgeBase, linker: Linker, tmp_path: Path) -> None:
    text = "Lithium toxicity and seizures."
    entities = [GoldEntity("T1", 0, 7, "Lithium", "Chemical", "D008094"),
                GoldEntity("T2", 8, 16, "toxicity", "Disease", "D064420"),
                GoldEntity("T3", 21, 29, "seizures", "Disease", "D012640|D004827")]  # composite: teaches nothing
    with Store(tmp_path / "store.sqlite") as store:
        store.add_gold_documents([GoldDocument("bc5cdr", "train", "1", text, entities)])
        lexicon = corpus_lexicon(store, linker)
        assert lexicon == {("lithium", "Chemical"): kb.lookup("lithium")[0].id,
                           ("toxicity", "Disease"): "MESH:D064420"}
        assert corpus_lexicon(store, linker, exclude={"1"}) == {}
    taught = Linker(kb, linker.tagger, linker.generator, lexicon)
    assert taught.link("Renal toxicity.", [(6, 14, "Disease")])[0].name == "Drug-Related Side Effects and Adverse Reactions"
    assert taught.candidates("toxicity", "Disease")[0].source == "corpus"
    assert linker.candidates("toxicity", "Disease")[0].source == "ann"  # no vocabulary names it so


def test_evaluate_linking_scores_gold_mentions(kb: KnowledgeBase, linker: Linker, tmp_path: Path) -> None:
    text = "Sertraline and sertralin caused seizures, not xyzzyx."
    entities = [GoldEntity("T1", 0, 10, "Sertraline", "Chemical", "D020280"),
                GoldEntity("T2", 15, 24, "sertralin", "Chemical", "D020280|D005473"),  # either id counts
                GoldEntity("T3", 32, 40, "seizures", "Disease", "D012640"),
                GoldEntity("T4", 46, 52, "xyzzyx", "Chemical", "-1")]  # no gold id: skipped
    with Store(tmp_path / "store.sqlite") as store:
        store.add_gold_documents([GoldDocument("bc5cdr", "test", "1", text, entities)])
        result = evaluate_linking(store, kb, linker, "bc5cdr", "test")
    assert result.n == 3 and result.accuracy == 1.0
    assert result.per_type["Chemical"].n == 2 and result.per_type["Disease"].accuracy == 1.0
    assert list(result.as_dict()) == ["corpus", "split", "accuracy", "per_type", "n"]
    assert list(result.as_dict()["per_type"]["Chemical"]) == ["accuracy", "n", "in_kb_accuracy", "in_kb_n"]


def test_gene_species_gives_the_ortholog_of_the_species_in_context(species_linker: Linker) -> None:
    text = "Kir4.1 is lost in patients. In mice, Kir4.1 fell; rat Kir4.1 did not. GnRH rose in mice."
    marked = [(m.start(), m.end(), "Gene") for m in re.finditer(r"Kir4\.1|GnRH", text)]
    marked.insert(1, (text.index("mice"), text.index("mice") + 4, "Species"))
    mentions = species_linker.link(text, marked)
    assert [m.id for m in mentions] == ["HGNC:6256", "NCBITaxon:10090", "HGNC:6256", "HGNC:6256", "HGNC:4419"]
    assert species_linker.gene_species(text, mentions) == [
        GeneSpecies(HUMAN, "3766"),  # human KCNJ10's NCBI Gene id
        None,  # not a gene
        GeneSpecies(MOUSE, "16513"),  # mouse Kcnj10, from GtoPdb
        GeneSpecies(RAT, "29718"),  # the prefix is nearer than the "mice" before it
        GeneSpecies(MOUSE, ""),  # no mouse GNRH1 known: the human concept's id stands
    ]


def test_spacy_component_sets_the_species_of_genes(species_linker: Linker) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "Gene", "pattern": "Kir4.1"},
                                               {"label": "Chemical", "pattern": "Sertraline"}])
    nlp.add_pipe("litmine_linker").use(species_linker)
    doc = nlp(KIR_TEXT)
    assert [(e.text, e.kb_id_, e._.get(SPECIES_ATTR), e._.get(SPECIES_GENE_ATTR)) for e in doc.ents] == [
        ("Sertraline", "DrugBank:DB01104", "", ""), ("Kir4.1", "HGNC:6256", RAT, "29718")]


def test_evaluate_linking_scores_genes_by_their_species_id(kb: KnowledgeBase, linker: Linker,
                                                           species_linker: Linker, tmp_path: Path) -> None:
    text = "Kir4.1 fell in rats; human KCNJ11 did not."
    entities = [GoldEntity("T1", 0, 6, "Kir4.1", "GeneOrGeneProduct", "29718"),  # rat Kcnj10
                GoldEntity("T2", 15, 19, "rats", "OrganismTaxon", "10116"),
                GoldEntity("T3", 27, 33, "KCNJ11", "GeneOrGeneProduct", "3767")]  # human KCNJ11
    with Store(tmp_path / "store.sqlite") as store:
        store.add_gold_documents([GoldDocument("biored", "test", "1", text, entities)])
        assert evaluate_linking(store, kb, species_linker, "biored", "test").per_type["Gene"].accuracy == 1.0
        assert evaluate_linking(store, kb, linker, "biored", "test").per_type["Gene"].accuracy == 0.5


def test_train_corpora_teach_rodent_names_and_orthologs(species_linker: Linker, tmp_path: Path) -> None:
    text = "GnRH and Kir4.1 rose in mice."
    entities = [GoldEntity("T1", 0, 4, "GnRH", "GeneOrGeneProduct", "14714"),  # mouse Gnrh1: not in GtoPdb
                GoldEntity("T2", 9, 15, "Kir4.1", "GeneOrGeneProduct", "16513"),  # mouse Kcnj10: GtoPdb's
                GoldEntity("T3", 24, 28, "mice", "OrganismTaxon", "10090")]
    with Store(tmp_path / "store.sqlite") as store:
        store.add_gold_documents([GoldDocument("biored", "train", "1", text, entities)])
        taught = species_linker.learn(store)
        assert species_linker.learn(store, exclude={"1"}).orthologs.learned == {}
        # learned once into the linker's folder, then read from it: the same linker, the same bytes
        written = species_linker.taught(store, tmp_path, progress=False)
        read = species_linker.taught(store, tmp_path, progress=False)
        (tmp_path / "again").mkdir()
        species_linker.taught(store, tmp_path / "again", progress=False)
        saved = [list(folder.glob("learned-*.json.gz")) for folder in (tmp_path, tmp_path / "again")]
        assert len(saved[0]) == 1 and saved[0][0].read_bytes() == saved[1][0].read_bytes()
        assert (written.lexicon, written.orthologs) == (read.lexicon, read.orthologs) == (taught.lexicon,
                                                                                            taught.orthologs)
    assert taught.lexicon[(normalize_name("Kir4.1"), "Gene")] == "HGNC:6256"  # the mouse gene names its ortholog
    assert taught.orthologs.learned == {("HGNC:4419", MOUSE): "14714"}
    later = "GnRH fell in mice."
    assert taught.gene_species(later, taught.link(later, [(0, 4, "Gene")])) == [GeneSpecies(MOUSE, "14714")]
