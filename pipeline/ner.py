"""litmine's entity pipeline: the trained NER models together, document-level rules and
the linker, behind the `EntityTagger` protocol the rest of litmine uses.

The pipeline is tokenizer > KB features > the NER models (pipeline.training.MODELS) >
scispaCy's AbbreviationDetector > litmine_entity_rules > litmine_linker (pipeline.linking).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence

import scispacy.abbreviation  # noqa: F401  (registers abbreviation_detector)
import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

import pipeline.nlp  # noqa: F401  (registers litmine's tokenizer, KB features and layers)
from pipeline.config import Settings
from pipeline.datatypes import Mention
from pipeline.kb import KnowledgeBase
from pipeline.training import model_dir

# litmine's NER models in order of precedence: where two find overlapping mentions, the
# first one's stands (spaCy's NER keeps entities already set, predicting around them).
NER_MODELS = ("ner_bc5cdr", "ner_gene", "ner_biored")
# The model trained on each corpus's guidelines: it goes first when litmine is scored on that corpus.
CORPUS_MODELS = {"bc5cdr": "ner_bc5cdr", "biored": "ner_biored", "nlm_gene": "ner_gene"}


class ModelsMissing(RuntimeError):
    """A trained model the pipeline needs has not been built."""


def load_pipeline(settings: Settings, kb: KnowledgeBase, ner_models: Sequence[str] = NER_MODELS) -> Language:
    """litmine's entity pipeline: tokenizer, KB features, the NER models in `ner_models`'s
    order, scispaCy's AbbreviationDetector, the entity rules and the linker over `kb`."""
    from pipeline.linking import Linker  # registers litmine_linker

    paths = [(name, model_dir(settings, name)) for name in ner_models]
    missing = [name for name, path in paths if path is None]
    if missing:
        raise ModelsMissing(f"models not built: {', '.join(missing)} (under {settings.models}); "
                            "run `litmine models build` (or `make models`)")
    first, *rest = paths
    nlp = spacy.load(first[1])
    nlp.rename_pipe("ner", first[0])
    for name, path in rest:
        nlp.add_pipe("ner", name=name, source=spacy.load(path, exclude=["kb_features"]))
    nlp.add_pipe("abbreviation_detector")
    nlp.add_pipe("litmine_entity_rules")
    linker = Linker.load(settings, kb, progress=False)
    nlp.add_pipe("litmine_linker").use(linker)
    nlp.get_pipe("kb_features").use(linker.tagger)
    nlp.meta["litmine_models"] = {name: path.parent.name for name, path in paths}
    nlp.meta["litmine_linker"] = {"kb": kb.version, "corpus_names": len(linker.lexicon)}
    return nlp


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


def corpus_order(corpus: str | None = None) -> list[str]:
    """NER_MODELS with the corpus's own model first, so a benchmark sees its guidelines' boundaries."""
    own = CORPUS_MODELS.get(corpus or "")
    return [own, *(m for m in NER_MODELS if m != own)] if own else list(NER_MODELS)


class PipelineTagger:
    """litmine's trained entity pipeline behind the EntityTagger protocol."""

    name: str = "pipeline"

    def __init__(self, nlp: Language, kb: KnowledgeBase):
        self.nlp = nlp
        self.kb = kb
        models = sorted(f"{name}={nlp.get_pipe_meta(name).factory}" for name in nlp.pipe_names)
        self._version = f"{self.name}-{_pipeline_hash(nlp)}+kb-{kb.version}+{'/'.join(models)}"

    @classmethod
    def load(cls, settings: Settings, kb: KnowledgeBase, corpus: str | None = None) -> PipelineTagger:
        """The pipeline from settings' models; for a corpus, its own NER model first."""
        return cls(load_pipeline(settings, kb, corpus_order(corpus)), kb)

    @property
    def version(self) -> str:
        """Changes with the trained models, the KB or the pipeline's components: a cache key."""
        return self._version

    def tag(self, text: str) -> list[Mention]:
        return self.mentions(self.nlp(text))

    def tag_many(self, texts: Iterable[str], batch_size: int = 32) -> Iterator[list[Mention]]:
        """Tag texts in batches (nlp.pipe), the fast way through many abstracts."""
        for doc in self.nlp.pipe(texts, batch_size=batch_size):
            yield self.mentions(doc)

    def mentions(self, doc: Doc) -> list[Mention]:
        return [Mention(ent.start_char, ent.end_char, ent.text, ent.label_, ent.kb_id_, ent._.kb_name)
                for ent in doc.ents]


def _pipeline_hash(nlp: Language) -> str:
    """The trained models' identity: their training meta (config, data keys and scores)."""
    return hashlib.sha256(json.dumps(nlp.meta, sort_keys=True, default=str).encode()).hexdigest()[:12]
