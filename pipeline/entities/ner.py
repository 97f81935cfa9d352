"""litmine's entity pipeline: the trained NER models together, document-level rules and
the linker, behind the `EntityTagger` protocol the rest of litmine uses.

The pipeline is tokenizer > KB features > the NER models (pipeline.training.spacy_models.MODELS) >
litmine_abbreviations (pipeline.entities.abbreviations) > litmine_entity_rules > litmine_linker
(`LinkerComponent` below,
over pipeline.entities.linking). Which models, and the pipeline's version: pipeline.entities.versions.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

# registered there: litmine's tokenizer, KB features and layers (nlp) and litmine_abbreviations; here:
# the entity rules and the linker
import pipeline.entities.abbreviations  # noqa: F401
import pipeline.entities.nlp  # noqa: F401
from pipeline.config import Settings
from pipeline.datatypes import Mention
from pipeline.entities.kb import KnowledgeBase
from pipeline.entities.linking import ANN_K, ANN_THRESHOLD, KB_NAME_ATTR, SPECIES_ATTR, SPECIES_GENE_ATTR, Linker
from pipeline.entities.versions import NER_MODELS, model_versions, ner_order, pipeline_version, resolve_models

# what the linker component sets on each entity
for _attr in (KB_NAME_ATTR, SPECIES_ATTR, SPECIES_GENE_ATTR):
    if not Span.has_extension(_attr):
        Span.set_extension(_attr, default="")


def load_pipeline(settings: Settings, kb: KnowledgeBase, ner_models: Sequence[str] = NER_MODELS) -> Language:
    """litmine's entity pipeline: tokenizer, KB features, the NER models in `ner_models`'s
    order (litmine's own or external, see `resolve_models`), the abbreviations the text defines,
    the entity rules and the linker over `kb`."""
    models = resolve_models(settings, ner_models)
    own = [name for name, where in models if isinstance(where, Path)]
    (first, where), rest = models[0], models[1:]
    if isinstance(where, Path):
        nlp = spacy.load(where)
        nlp.rename_pipe("ner", first)
    else:  # litmine's tokenizer still, so entities keep their gold-aligned boundaries
        nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "litmine.Tokenizer.v1"}}})
        if own:
            nlp.add_pipe("litmine_kb_features", name="kb_features")
        rest = models
    for name, where in rest:
        if isinstance(where, Path):
            nlp.add_pipe("ner", name=name, source=spacy.load(where, exclude=["kb_features"]))
        else:
            nlp.add_pipe("litmine_external_ner", name=name, config={"model": where})
    nlp.add_pipe("litmine_abbreviations")
    nlp.add_pipe("litmine_entity_rules")
    linker = Linker.load(settings, kb, progress=False)
    nlp.add_pipe("litmine_linker").use(linker)
    if own:
        nlp.get_pipe("kb_features").use(linker.tagger)
    nlp.meta["litmine_models"] = dict(model_versions(models))
    nlp.meta["litmine_linker"] = {"kb": kb.version, "corpus_names": len(linker.lexicon)}
    return nlp


# ---------------------------------------------------------------------------- external models

# Labels of scispaCy's published NER models (and litmine's own types) as litmine's types;
# what maps to none (cell types, anatomy, GO terms, ...) is not kept.
EXTERNAL_LABELS = {
    "CHEMICAL": "Chemical", "SIMPLE_CHEMICAL": "Chemical", "CHEBI": "Chemical",
    "DISEASE": "Disease", "CANCER": "Disease",
    "GENE_OR_GENE_PRODUCT": "Gene", "GGP": "Gene", "PROTEIN": "Gene", "DNA": "Gene", "RNA": "Gene",
    "ORGANISM": "Species", "TAXON": "Species",
    **{t: t for t in ("Chemical", "Gene", "Disease", "Variant", "Species")},
}


class ExternalNER:
    """An NER pipeline litmine did not train, run on the text with its own tokenizer and
    vectors (so nothing of it needs to match litmine's). Its entities, typed by
    EXTERNAL_LABELS, join the document's where they overlap none already found, as a
    later NER model's would."""

    def __init__(self, external: Language):
        self.external = external

    def __call__(self, doc: Doc) -> Doc:
        taken = {i for ent in doc.ents for i in range(ent.start, ent.end)}
        found = list(doc.ents)
        for ent in self.external(doc.text).ents:
            label = EXTERNAL_LABELS.get(ent.label_)
            span = doc.char_span(ent.start_char, ent.end_char, label=label, alignment_mode="expand") if label else None
            if span is not None and not taken.intersection(range(span.start, span.end)):
                found.append(span)
                taken.update(range(span.start, span.end))
        doc.ents = sorted(found, key=lambda e: e.start)
        return doc


@Language.factory("litmine_external_ner", default_config={"model": ""})
def external_ner(nlp: Language, name: str, model: str) -> ExternalNER:
    return ExternalNER(spacy.load(model))


# ---------------------------------------------------------------------------- entity rules

_LIST_PUNCT = frozenset(",;:.")
_BRACKETS = ("()", "[]", "{}")


@Language.component("litmine_entity_rules")
def entity_rules(doc: Doc) -> Doc:
    """Document-level clean-up of what the NER models found together.

    - An entity loses list punctuation at its edges and brackets it does not close
      ("Ca2+ channels [4" -> "Ca2+ channels"); one without a letter ("[14]") is dropped.
    - An abbreviation the text defines takes the type of the entity that ends its long form,
      wherever the abbreviation occurs.
    """
    ents = [span for span in (_trimmed(ent) for ent in doc.ents) if any(c.isalpha() for c in span.text)]
    types = {}
    for short in doc._.abbreviations if Doc.has_extension("abbreviations") else []:
        long_form = short._.long_form
        # the entity ending the long form is its head: "levodopa-induced dyskinesia (LID)" is a disease,
        # "pleomorphic adenoma gene like-2 (PLAGL2)" not, whatever "adenoma" is
        heads = [e.label_ for e in ents if e.end == long_form.end and e.start >= long_form.start]
        if heads:
            types[short.text] = heads[-1]
    doc.ents = [Span(doc, e.start, e.end, label=types.get(e.text, e.label_)) for e in ents]
    return doc


def _trimmed(span: Span) -> Span:
    doc, start, end = span.doc, span.start, span.end
    while True:
        before = (start, end)
        while start < end and doc[start].text in _LIST_PUNCT:
            start += 1
        while end > start and doc[end - 1].text in _LIST_PUNCT:
            end -= 1
        text = doc[start:end].text
        for opener, closer in _BRACKETS:
            openers = [i for i in range(start, end) if doc[i].text == opener]
            if text.count(opener) > text.count(closer) and openers:  # cut from the last opener left open
                end = openers[-1]
            elif text.count(closer) > text.count(opener) and end > start and doc[end - 1].text == closer:
                end -= 1
            elif text.count(closer) > text.count(opener) and end > start and doc[start].text == closer:
                start += 1
        if (start, end) == before:
            return Span(doc, start, end, label=span.label_)


class PipelineTagger:
    """litmine's trained entity pipeline behind the EntityTagger protocol."""

    name: str = "pipeline"

    def __init__(self, nlp: Language, kb: KnowledgeBase, version: str):
        self.nlp = nlp
        self.kb = kb
        self.version = version  # a cache key: see pipeline_version
        # A Language is not safe to call from two threads at once (components keep per-call
        # state: scispaCy's abbreviation matcher crashed so); flow tasks run in threads and share this tagger.
        self._lock = threading.Lock()

    @classmethod
    def load(cls, settings: Settings, kb: KnowledgeBase, corpus: str | None = None) -> PipelineTagger:
        """The pipeline of `ner_order`'s models."""
        order = ner_order(settings, corpus)
        return cls(load_pipeline(settings, kb, order), kb, pipeline_version(settings, kb, order))

    def tag(self, text: str) -> list[Mention]:
        with self._lock:
            return self.mentions(self.nlp(text))

    def tag_many(self, texts: Iterable[str], batch_size: int = 32) -> Iterator[list[Mention]]:
        """Tag texts in batches (nlp.pipe), the fast way through many abstracts."""
        with self._lock:
            found = [self.mentions(doc) for doc in self.nlp.pipe(texts, batch_size=batch_size)]
        yield from found

    def mentions(self, doc: Doc) -> list[Mention]:
        return [Mention(ent.start_char, ent.end_char, ent.text, ent.label_, ent.kb_id_, ent._.kb_name,
                        ent._.species, ent._.species_gene_id) for ent in doc.ents]


class LinkerComponent:
    """Links ``doc.ents``: sets each entity's ``kb_id_`` and ``._.kb_name``, resolving the
    abbreviations `litmine_abbreviations` (or scispaCy's AbbreviationDetector) found before, and a gene's
    ``._.species`` and ``._.species_gene_id`` (Linker.gene_species).

    Its settings are the factory's config (`k` neighbours asked of the index, the similarity
    `threshold` a neighbour needs); the linker itself (KB, index, what the train corpora taught,
    read from the linker's folder by `Linker.load`) is handed over with `use`, as `load_pipeline`
    does: loading it costs seconds, and a pipeline may be assembled without one.
    """

    def __init__(self, k: int = ANN_K, threshold: float = ANN_THRESHOLD) -> None:
        self.k, self.threshold = k, threshold
        self._linker: Linker | None = None

    def use(self, linker: Linker) -> None:
        self._linker = replace(linker, k=self.k, threshold=self.threshold, _cache={})

    @property
    def linker(self) -> Linker:
        if self._linker is None:
            raise ValueError("litmine_linker has no linker: pass it one with .use(Linker.load(settings, kb)), "
                             "as pipeline.entities.ner.load_pipeline does")
        return self._linker

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        mentions = self.linker.link(doc.text, [(e.start_char, e.end_char, e.label_) for e in ents],
                                    _detected_abbreviations(doc))
        linked = []
        for ent, mention, gene in zip(ents, mentions, self.linker.gene_species(doc.text, mentions)):
            span = Span(doc, ent.start, ent.end, label=ent.label, kb_id=mention.id)
            span._.set(KB_NAME_ATTR, mention.name)
            if gene:
                span._.set(SPECIES_ATTR, gene.taxon)
                span._.set(SPECIES_GENE_ATTR, gene.gene_id)
            linked.append(span)
        doc.ents = linked
        return doc


def _detected_abbreviations(doc: Doc) -> dict[str, str] | None:
    """Short -> long form from ``doc._.abbreviations`` (Spans, or, from scispaCy's detector,
    dicts when it made them serializable); None when it did not run or found none."""
    if not Doc.has_extension("abbreviations") or not doc._.abbreviations:
        return None
    found = {}
    for abbreviation in doc._.abbreviations:
        if isinstance(abbreviation, dict):
            found[abbreviation["short_text"]] = abbreviation["long_text"]
        else:
            long_form = abbreviation._.long_form
            found[abbreviation.text] = long_form if isinstance(long_form, str) else long_form.text
    return found


@Language.factory("litmine_linker", default_config={"k": ANN_K, "threshold": ANN_THRESHOLD})
def make_linker(nlp: Language, name: str, k: int, threshold: float) -> LinkerComponent:
    return LinkerComponent(k, threshold)
