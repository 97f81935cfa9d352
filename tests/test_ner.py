"""litmine's trained entity pipeline (the reduced CI models): recognition plus linking on the
two real documents, the KB-features component, and the pipeline's shape."""
from __future__ import annotations

import pytest
import spacy
from spacy.tokens import Span

from conftest import assert_well_formed, shared_document
from pipeline.entities.ner import PipelineTagger, load_pipeline, reading_copy
from pipeline.entities.nlp import KB_TAG_ATTR, KBFeatures, kb_tags
from pipeline.entities.versions import NER_MODELS, ner_order, pipeline_version
from pipeline.models import ModelsMissing

# What the issue names for the two documents: (surface the mention starts with, type, id).
EXPECTED = {
    "pssd-glutamate.txt": {
        ("Sertraline", "Chemical", "DrugBank:DB01104"),
        ("Fluoxetine", "Chemical", "DrugBank:DB00472"),
        ("Fluvoxamine", "Chemical", "DrugBank:DB00176"),
        ("Citalopram", "Chemical", "DrugBank:DB00215"),
        ("Kir4.1", "Gene", "HGNC:6256"),  # KCNJ10
        ("Kv1.5", "Gene", "HGNC:6224"),  # KCNA5
        ("GRIA1", "Gene", "HGNC:4571"),
        ("GRIA3", "Gene", "HGNC:4573"),
        ("GRIK2", "Gene", "HGNC:4580"),
        ("5-HT2B", "Gene", "HGNC:5294"),  # HTR2B
        ("SSRI", "Chemical", "CLASS:SSRI"),
        ("sexual dysfunction", "Disease", "MESH:D012735"),
    },
    "ssri-blunted-affect.txt": {
        ("5-HT1A", "Gene", "HGNC:5286"),  # HTR1A
        ("SSRI", "Chemical", "CLASS:SSRI"),
        ("emotional blunting", "Disease", "HP:0030213"),
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_documents_entities_recognized_and_linked(pipeline_tagger: PipelineTagger, name: str) -> None:
    text = shared_document(name)
    mentions = pipeline_tagger.tag(text)
    assert_well_formed(text, mentions, ("Chemical", "Gene", "Disease", "Species", "Variant"), linked=False)
    found = {(m.text, m.type, m.id) for m in mentions}
    missing = {(surface, type_, id_) for surface, type_, id_ in EXPECTED[name]
               if not any(t.startswith(surface) and (ty, i) == (type_, id_) for t, ty, i in found)}
    assert not missing, sorted(found)


def test_pipeline_shape_and_version(pipeline_tagger: PipelineTagger) -> None:
    names = pipeline_tagger.nlp.pipe_names
    assert names[:2] == ["kb_features", NER_MODELS[0]]
    assert [n for n in names if n.startswith("ner_")] == list(NER_MODELS)
    assert names.index("litmine_abbreviations") < names.index("litmine_entity_rules") < names.index("litmine_linker")
    assert pipeline_tagger.version.startswith("pipeline-")
    assert pipeline_tagger.kb.version in pipeline_tagger.version


def test_tag_many_equals_tag(pipeline_tagger: PipelineTagger) -> None:
    texts = ["Sertraline inhibited Kir4.1 currents in rat astrocytes.", "Cocaine-induced seizures in mice."]
    assert list(pipeline_tagger.tag_many(texts)) == [pipeline_tagger.tag(t) for t in texts]


def test_a_citation_marker_or_a_full_stop_is_no_part_of_a_mention(pipeline_tagger: PipelineTagger) -> None:
    """The models, trained on abstracts without markers, read "insulin [245]" as one unlinkable name;
    the tokenizer kept the stop of "5-HT2A." on the word."""
    text = "Mitiglinide decreases insulin [245] in rats [3,4]. Mirtazapine blocks 5-HT2A. It ends."
    found = pipeline_tagger.tag(text)
    assert [(m.text, m.start, m.end) for m in found if m.text == "insulin"] == [("insulin", 22, 29)]
    assert all(text[m.start:m.end] == m.text and not m.text.endswith((".", "]")) for m in found)


def test_the_reading_copy_maps_back_to_the_text() -> None:
    text = "It binds T2D [4]. Selegiline inhibits MAO-B. J. Smith saw factor X. Then pH."
    copy, where = reading_copy(text)
    assert copy == "It binds T2D . Selegiline inhibits MAO-B . J. Smith saw factor X. Then pH ."
    assert len(where) == len(copy) and where == sorted(where)
    assert all(text[i] == c for i, c in zip(where, copy) if c != " " or text[i] == " ")


def test_genes_carry_the_organism_the_text_is_about(pipeline_tagger: PipelineTagger) -> None:
    """The id stays the human concept (KCNJ10); the rat's own NCBI Gene id rides along."""
    rat, human = (pipeline_tagger.tag(f"Sertraline inhibited Kir4.1 currents in {who} astrocytes.")
                  for who in ("rat", "human"))
    assert [(m.id, m.species, m.species_gene_id) for m in rat if m.text == "Kir4.1"] == [
        ("HGNC:6256", "NCBITaxon:10116", "29718")]
    assert [(m.id, m.species, m.species_gene_id) for m in human if m.text == "Kir4.1"] == [
        ("HGNC:6256", "NCBITaxon:9606", "3766")]


def test_version_is_known_without_loading(pipeline_tagger: PipelineTagger, trained, kb) -> None:
    assert pipeline_version(trained, kb, ner_order(trained)) == pipeline_tagger.version
    assert pipeline_version(trained, kb, ner_order(trained, "biored")) != pipeline_tagger.version


def test_missing_models_say_how_to_build_them(trained, kb) -> None:
    with pytest.raises(ModelsMissing, match="litmine models build"):
        load_pipeline(trained.with_overrides(models=trained.models / "nowhere"), kb)
    with pytest.raises(ModelsMissing, match="en_ner_not_installed_md"):
        pipeline_version(trained, kb, ["en_ner_not_installed_md"])


@pytest.fixture(scope="module")
def external_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A spaCy pipeline litmine did not train, labelled the way scispaCy's published models are."""
    nlp = spacy.blank("en")  # spaCy's tokenizer, not litmine's
    nlp.add_pipe("entity_ruler").add_patterns([
        {"label": "CHEMICAL", "pattern": [{"LOWER": "sertraline"}]},
        {"label": "GENE_OR_GENE_PRODUCT", "pattern": [{"LOWER": "kir4.1"}]},
        {"label": "CELL", "pattern": [{"LOWER": "astrocytes"}]}])
    path = tmp_path_factory.mktemp("external") / "en_ner_fake_md"
    nlp.to_disk(path)
    return str(path)


def test_external_models_named_in_settings(trained, kb, external_model: str) -> None:
    """Official scispaCy models, named in settings, run with litmine's own: typed, linked, first come first served."""
    text = "Sertraline-treated rat astrocytes lost Kir4.1 currents."
    alone = PipelineTagger.load(trained.with_overrides(ner_models=(external_model,)), kb)
    assert alone.nlp.pipe_names[0] == "en_ner_fake_md" and "kb_features" not in alone.nlp.pipe_names
    assert [(m.text, m.type, m.id) for m in alone.tag(text)] == [
        ("Sertraline", "Chemical", "DrugBank:DB01104"), ("Kir4.1", "Gene", "HGNC:6256")]  # CELL is not kept
    mixed = PipelineTagger.load(trained.with_overrides(ner_models=(external_model, "ner_bc5cdr")), kb)
    assert mixed.nlp.pipe_names[:3] == ["kb_features", "en_ner_fake_md", "ner_bc5cdr"]
    assert {(m.text, m.type) for m in alone.tag(text)} <= {(m.text, m.type) for m in mixed.tag(text)}
    assert len({alone.version, mixed.version, pipeline_version(trained, kb)}) == 3


def test_kb_features_mark_dictionary_names(kb) -> None:
    from pipeline.entities.dictionary import DictionaryTagger

    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "litmine.Tokenizer.v1"}}})
    features = KBFeatures()
    features.use(DictionaryTagger(kb))
    doc = features(nlp("Sertraline inhibits Kir4.1 channels."))
    assert doc._.get(KB_TAG_ATTR) == ["B-Chemical", "O", "B-Gene", "O", "O"]
    assert kb_tags(nlp("lidocaine-induced"), [(0, 5, "Chemical")]) == ["B-Chemical", "O", "O"]  # partial token


def test_entity_rules_trim_drop_and_type_abbreviations() -> None:
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "litmine.Tokenizer.v1"}}})
    nlp.add_pipe("litmine_abbreviations")
    nlp.add_pipe("litmine_entity_rules")
    doc = nlp.make_doc("Blocks Ca2+ channels [4] and citalopram [14]. Heparin-induced thrombocytopenia (HIT) or HIT.")
    words = [t.text for t in doc]
    def span(first: str, last: str, label: str, after: int = 0) -> Span:
        start = words.index(first, after)
        return Span(doc, start, words.index(last, start) + 1, label=label)
    doc.ents = [span("Ca2", "4", "Gene"), span("citalopram", "citalopram", "Chemical"), span("[", "]", "Chemical", 9),
                span("Heparin", "Heparin", "Chemical"), span("thrombocytopenia", "thrombocytopenia", "Disease"),
                span("HIT", "HIT", "Gene"), span("HIT", "HIT", "Chemical", words.index("HIT") + 1)]
    for _, component in nlp.pipeline:
        doc = component(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("Ca2+ channels", "Gene"), ("citalopram", "Chemical"), ("Heparin", "Chemical"),
        ("thrombocytopenia", "Disease"), ("HIT", "Disease"), ("HIT", "Disease")]


def test_an_entity_cut_off_at_a_hyphen_joins_the_one_going_on() -> None:
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "litmine.Tokenizer.v1"}}})
    nlp.add_pipe("litmine_entity_rules")
    doc = nlp.make_doc("NG-nitro-L-arginine inhibits NOS- and eNOS.")
    words = [t.text for t in doc]
    first, arginine, nos, enos = (words.index(w) for w in ("NG", "arginine", "NOS", "eNOS"))
    doc.ents = [Span(doc, first, first + 2, label="Gene"), Span(doc, first + 2, arginine + 1, label="Chemical"),
                Span(doc, nos, nos + 2, label="Gene"), Span(doc, enos, enos + 1, label="Gene")]
    doc = nlp.get_pipe("litmine_entity_rules")(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [("NG-nitro-L-arginine", "Chemical"), ("NOS-", "Gene"),
                                                      ("eNOS", "Gene")]


def test_entity_rules_leave_brackets_inside_tokens_alone() -> None:
    """spaCy keeps emoticons such as ":(" whole: an unclosed bracket with no token of its own."""
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "litmine.Tokenizer.v1"}}})
    doc = nlp.make_doc("the drug :( was given")
    doc.ents = [Span(doc, 1, 3, label="Chemical")]
    assert [e.text for e in nlp.create_pipe("litmine_entity_rules")(doc).ents] == ["drug :("]
