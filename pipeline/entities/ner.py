"""litmine's entity pipeline: the trained NER models together, document-level rules and
the linker, behind the `EntityTagger` protocol the rest of litmine uses.

The pipeline is tokenizer > KB features > the NER models (pipeline.training.spacy_models.MODELS) >
litmine_abbreviations (pipeline.entities.abbreviations) > litmine_entity_rules > litmine_linker
(`LinkerComponent` below, over pipeline.entities.linking). Which models, and the pipeline's version:
pipeline.entities.versions.

Each component carries its own state, as spaCy's and scispaCy's do: settings in its factory's
config, what it learned written by its `to_disk` and read by its `from_disk`. `load_pipeline`
assembles the pipeline from the trained models, the KB and the linker's folder; `pipeline_folder`
saves it as one folder, and litmine reads it back with `spacy.load` like anyone else, so
`spacy.load(folder)` is the same pipeline on any machine, without litmine's settings, store or
shared data. The factories are registered when their modules are imported (as scispaCy's are) and
through the `spacy_factories`, `spacy_tokenizers` and `spacy_architectures` entry points
(pyproject.toml), which spaCy follows by itself.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
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
from pipeline.config import Settings
from pipeline.datatypes import Mention
from pipeline.documents.citations import cut_markers
from pipeline.entities.kb import KnowledgeBase
from pipeline.entities.alias_index import BUILD_FILE, KB_FILE
from pipeline.entities.linking import (ANN_K, ANN_THRESHOLD, KB_NAME_ATTR, SPECIES_ATTR, SPECIES_GENE_ATTR, Linker,
                                       read_tables, write_tables)
from pipeline.entities.nlp import KBFeatures
from pipeline.entities.versions import NER_MODELS, model_versions, ner_order, pipeline_version, resolve_models
from pipeline.models import pipeline_dir

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
    where = models[0][1]
    if isinstance(where, Path):  # its tokenizer, vocab and KB features; its NER is added as the others'
        nlp = spacy.load(where, exclude=["ner"])
        # a saved pipeline needs no KB path: the linker carries the KB (this one is the training machine's)
        nlp.config["initialize"]["components"].pop("kb_features", None)
    else:  # litmine's tokenizer still, so entities keep their gold-aligned boundaries
        nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "litmine.Tokenizer.v1"}}})
        if own:
            nlp.add_pipe("litmine_kb_features", name="kb_features")
    for name, where in models:
        if isinstance(where, Path):
            nlp.add_pipe("ner", name=name, source=spacy.load(where, exclude=["kb_features"]))
        else:
            nlp.add_pipe("litmine_external_ner", name=name, config={"model": where})
    nlp.add_pipe("litmine_abbreviations")
    nlp.add_pipe("litmine_entity_rules")
    linker = Linker.load(settings, kb, progress=False)
    nlp.add_pipe("litmine_linker").use(linker)  # and the KB features its dictionary
    nlp.meta["litmine_models"] = dict(model_versions(models))
    nlp.meta["litmine_linker"] = {"kb": kb.version, "corpus_names": len(linker.lexicon)}
    return nlp


def pipeline_folder(settings: Settings, kb: KnowledgeBase, ner_models: Sequence[str] = NER_MODELS) -> Path:
    """The pipeline of `ner_models` saved as one folder, models/pipeline/<its version>: assembled by
    `load_pipeline` and saved the first time it is asked for (`litmine models build` asks for the
    flow's), whole or not at all."""
    version = pipeline_version(settings, kb, ner_models)
    folder = pipeline_dir(settings) / version
    if (folder / "meta.json").is_file():
        return folder
    nlp = load_pipeline(settings, kb, ner_models)
    nlp.meta["litmine_pipeline"] = version
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=folder.parent))
    try:
        tmp.chmod(0o755)
        nlp.to_disk(tmp)
        os.replace(tmp, folder)
    except OSError:
        if not (folder / "meta.json").is_file():  # else another process saved it first
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


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
    later NER model's would. It is loaded by its name (a package or folder) when first used,
    unless read from a saved pipeline, which holds a copy of it."""

    def __init__(self, model: str):
        self.model = model
        self._external: Language | None = None

    @property
    def external(self) -> Language:
        if self._external is None:
            self._external = spacy.load(self.model)
        return self._external

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        self.external.to_disk(path)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> ExternalNER:
        self._external = spacy.load(path)
        return self

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
    return ExternalNER(model)


# ---------------------------------------------------------------------------- entity rules

_LIST_PUNCT = frozenset(",;:.")
_BRACKETS = ("()", "[]", "{}")


@Language.component("litmine_entity_rules")
def entity_rules(doc: Doc) -> Doc:
    """Document-level clean-up of what the NER models found together.

    - An entity loses list punctuation at its edges and brackets it does not close
      ("Ca2+ channels [4" -> "Ca2+ channels"); one without a letter ("[14]") is dropped.
    - An entity ending in a hyphen joins the one right after it, whose type it takes (its head):
      "NG-" and "nitro-L-arginine", read by two models, are NG-nitro-L-arginine.
    - An abbreviation the text defines takes the type of the entity that ends its long form,
      wherever the abbreviation occurs.
    """
    ents = _joined([span for span in (_trimmed(ent) for ent in doc.ents) if any(c.isalpha() for c in span.text)])
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


def _joined(ents: list[Span]) -> list[Span]:
    """Each entity cut off at a hyphen ("NG-") joined with the entity that goes on from it."""
    joined: list[Span] = []
    for ent in sorted(ents, key=lambda e: e.start):
        last = joined[-1] if joined else None
        if last is not None and last.end == ent.start and last.text.endswith("-") and not last[-1].whitespace_:
            joined[-1] = Span(ent.doc, last.start, ent.end, label=ent.label_)
        else:
            joined.append(ent)
    return joined


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


# A full stop after a word ending in a capital that follows a digit, a small letter or a hyphen ("T2D.",
# "5-HT2A.", "MAO-B.", "NF-kappaB."): the tokenizer keeps it on the word, as it keeps an initial's ("J."),
# and the models, which learned names without it, read "5-HT2A." as no receptor.
_GLUED_STOP = re.compile(r"(?<=[0-9a-z-][A-Z])\.(?=\s|\Z)")


def reading_copy(text: str) -> tuple[str, list[int]]:
    """The text as the NER models should read it, and for each of its characters where it stood in
    `text`: citation markers cut out (`cut_markers`) and a space before a glued full stop (which
    stands where the stop does)."""
    cut, kept = cut_markers(text)
    stops = [m.start() for m in _GLUED_STOP.finditer(cut)]
    if not stops:
        return cut, kept
    pieces, where, start = [], [], 0
    for stop in stops:
        pieces.append(f"{cut[start:stop]} ")
        where.extend([*kept[start:stop], kept[stop]])
        start = stop
    pieces.append(cut[start:])
    where.extend(kept[start:])
    return "".join(pieces), where


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
        """The pipeline of `ner_order`'s models, read by `spacy.load` from its folder (`pipeline_folder`)."""
        folder = pipeline_folder(settings, kb, ner_order(settings, corpus))
        return cls(spacy.load(folder), kb, folder.name)

    def tag(self, text: str) -> list[Mention]:
        """The text's mentions, read from its `reading_copy`, at their places in `text`."""
        copy, kept = reading_copy(text)
        with self._lock:
            return self.mentions(self.nlp(copy), text, kept)

    def tag_many(self, texts: Iterable[str], batch_size: int = 32) -> Iterator[list[Mention]]:
        """Tag texts in batches (nlp.pipe), the fast way through many abstracts."""
        texts = list(texts)
        cuts = [reading_copy(text) for text in texts]
        with self._lock:
            docs = self.nlp.pipe((cut for cut, _ in cuts), batch_size=batch_size)
            found = [self.mentions(doc, text, kept) for doc, text, (_, kept) in zip(docs, texts, cuts)]
        yield from found

    def mentions(self, doc: Doc, text: str, kept: list[int]) -> list[Mention]:
        """The doc's entities as mentions of `text`, of which the doc read the characters `kept`; a
        cut marker ends a name ("T2D" read from "T2D [172]")."""
        found = []
        for ent in doc.ents:
            last = next((i for i in range(ent.start_char, ent.end_char - 1) if kept[i + 1] != kept[i] + 1),
                         ent.end_char - 1)
            start, end = kept[ent.start_char], kept[last] + 1
            found.append(Mention(start, end, text[start:end], ent.label_, ent.kb_id_, ent._.kb_name, ent._.species,
                                 ent._.species_gene_id))
        return found


# What a saved linker holds beside its index: the KB, and the tables of Linker.tables.
SAVED_KB, SAVED_TABLES = "kb.sqlite", "tables.json.gz"


def _place(source: Path, target: Path) -> None:
    """`source` at `target`: a hard link where the file system allows, else a copy."""
    if target.exists() and target.samefile(source):
        return
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


class LinkerComponent:
    """Links ``doc.ents``: sets each entity's ``kb_id_`` and ``._.kb_name``, resolving the
    abbreviations `litmine_abbreviations` (or scispaCy's AbbreviationDetector) found before, and a gene's
    ``._.species`` and ``._.species_gene_id`` (Linker.gene_species).

    Its settings are the factory's config (`k` neighbours asked of the index, the similarity
    `threshold` a neighbour needs). The linker itself (KB, index, what the train corpora and GtoPdb
    taught) is read by `from_disk` from a saved pipeline, or handed over with `use`, as `load_pipeline`
    does with the one `Linker.load` reads from the linker's folder. Either way it gives the pipeline's
    KB features the linker's dictionary, so the KB travels once.
    """

    def __init__(self, nlp: Language, k: int = ANN_K, threshold: float = ANN_THRESHOLD) -> None:
        self.nlp, self.k, self.threshold = nlp, k, threshold
        self._linker: Linker | None = None

    def use(self, linker: Linker) -> None:
        self._linker = replace(linker, k=self.k, threshold=self.threshold, _cache={})
        for _, component in self.nlp.components:
            if isinstance(component, KBFeatures):
                component.use(linker.tagger)

    @property
    def linker(self) -> Linker:
        if self._linker is None:
            raise ValueError("litmine_linker has no linker: load a saved pipeline with spacy.load, or pass it one "
                             "with .use(Linker.load(settings, kb)), as pipeline.entities.ner.load_pipeline does")
        return self._linker

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """The linker whole: its KB, its index (scispaCy's files) and the tables of what it was taught. The
        KB and index are hard-linked where the file system allows (neither is ever changed in place)."""
        from scispacy.candidate_generation import LinkerPaths

        linker, path = self.linker, Path(path)
        if linker.index is None:
            raise ValueError("litmine_linker: only a linker opened from its index folder can be saved")
        index = LinkerPaths.from_directory(linker.index)
        path.mkdir(parents=True, exist_ok=True)
        _place(linker.kb.path, path / SAVED_KB)
        for source in (index.tfidf_vectorizer, index.tfidf_vectors, index.concept_aliases_list,
                       linker.index / KB_FILE, linker.index / BUILD_FILE):
            _place(Path(source), path / Path(source).name)
        write_tables(path / SAVED_TABLES, linker.tables())

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> LinkerComponent:
        path = Path(path)
        self.use(Linker.open(KnowledgeBase.open(path / SAVED_KB), path).with_tables(read_tables(path / SAVED_TABLES)))
        return self

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        mentions = self.linker.link(*_to_link(doc))
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

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        """Each doc linked as by `__call__`, a batch at a time: the names of a batch that need the
        index are searched together first (`Linker.search_ahead`), which is what linking new
        abstracts costs most."""
        for batch in spacy.util.minibatch(docs, batch_size):
            self.linker.search_ahead([_to_link(doc) for doc in batch])
            yield from map(self, batch)


def _to_link(doc: Doc) -> tuple[str, list[tuple[int, int, str]], dict[str, str] | None]:
    """What the linker links in a doc: its text, its entities' spans and types, the abbreviations found."""
    return doc.text, [(e.start_char, e.end_char, e.label_) for e in doc.ents], _detected_abbreviations(doc)


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
    return LinkerComponent(nlp, k, threshold)
