"""litmine's spaCy building blocks for training: its tokenizer, the KB-features component
and the embedding layer that feeds those features to the trained models.

Registered here so that the training configs (pipeline/configs/*.cfg) and the trained
pipelines name them, the spaCy way, instead of code wiring them by hand:

- ``litmine.Tokenizer.v1``: spaCy's English tokenizer that also splits on ``- / + : ( ) , ; = ~ [ ]``
  inside words. Chosen by measurement (benchmarks/tokenizers.py) - gold entity boundaries it
  cannot represent, on the train splits: BC5CDR 0.06%, BioRED 0.81%, NLM-Gene 2.2%; spaCy's
  default 1.3 / 3.2 / 7.7%; scispaCy's combined_rule_tokenizer 9.4 / 10.6 / 21.8%.
- ``litmine_kb_features``: marks each token with what litmine's dictionary (the KB's names,
  pipeline.entities.dictionary) says about it ("B-Chemical", "I-Gene", "O"), so a trained NER can use
  320k curated names as evidence and still overrule them.
- ``litmine.KBHashEmbed.v1``: spaCy's MultiHashEmbed with that mark as one more embedded column.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import compile_infix_regex, registry
from thinc.api import HashEmbed, Maxout, Model, chain, concatenate, list2ragged, ragged2list, with_array
from thinc.types import Floats2d, Ints2d

from pipeline.entities.dictionary import DictionaryTagger, EntityTagger
from pipeline.entities.kb import KnowledgeBase

# Split inside words on these, so "lidocaine-induced", "Na+/K+" and "CaCl(2)" keep gold boundaries.
EXTRA_INFIXES = [r"[\-/+:(),;=~\[\]]"]
KB_TAG_ATTR = "kb_tags"
NO_TAG = "O"

if not Doc.has_extension(KB_TAG_ATTR):
    Doc.set_extension(KB_TAG_ATTR, default=None)


@registry.tokenizers("litmine.Tokenizer.v1")
def create_tokenizer() -> Callable[[Language], Tokenizer]:
    def make(nlp: Language) -> Tokenizer:
        tokenizer = registry.tokenizers.get("spacy.Tokenizer.v1")()(nlp)
        infixes = list(nlp.Defaults.infixes or []) + EXTRA_INFIXES
        tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
        return tokenizer

    return make


# ---------------------------------------------------------------------------- KB features


class KBFeatures:
    """Writes the dictionary's BIO tag of every token to ``doc._.kb_tags``.

    The dictionary tagger comes from the KB that `initialize` names (training) or is handed
    over with `use` (`load_pipeline`): loading it costs seconds, and a pipeline may be built
    without one.
    Training runs it once per epoch on the same texts, so tags are cached by text.
    """

    def __init__(self, cache_size: int = 20_000):
        self._tagger: EntityTagger | None = None
        self._cache: OrderedDict[str, list[tuple[int, int, str]]] = OrderedDict()
        self._cache_size = cache_size

    def use(self, tagger: EntityTagger) -> None:
        self._tagger = tagger
        self._cache.clear()

    def initialize(self, get_examples: Callable | None = None, *, nlp: Language | None = None,
                   kb_path: str | None = None) -> None:
        """spaCy calls this before training: tag with the KB the model is keyed by."""
        if kb_path:
            self.use(DictionaryTagger(KnowledgeBase.open(Path(kb_path))))

    @property
    def tagger(self) -> EntityTagger:
        if self._tagger is None:
            raise ValueError("litmine_kb_features has no dictionary tagger: spaCy's initialize gives it one "
                             "from [initialize.components.kb_features] kb_path, load_pipeline with .use(tagger)")
        return self._tagger

    def __call__(self, doc: Doc) -> Doc:
        doc._.set(KB_TAG_ATTR, kb_tags(doc, self._spans(doc.text)))
        return doc

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        spans = self._cache.get(text)
        if spans is None:
            spans = [(m.start, m.end, m.type) for m in self.tagger.tag(text)]
            self._cache[text] = spans
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return spans


def kb_tags(doc: Doc, spans: list[tuple[int, int, str]]) -> list[str]:
    """BIO tags over the doc's tokens for character spans (partial tokens included)."""
    tags = [NO_TAG] * len(doc)
    for start, end, type_ in spans:
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is None:
            continue
        for i in range(span.start, span.end):
            tags[i] = ("B-" if i == span.start else "I-") + type_
    return tags


@Language.factory("litmine_kb_features")
def make_kb_features(nlp: Language, name: str) -> KBFeatures:
    return KBFeatures()


# ---------------------------------------------------------------------------- embedding


@registry.architectures("litmine.KBHashEmbed.v1")
def kb_hash_embed(width: int, attrs: list[str], rows: list[int], kb_rows: int = 64) -> Model[list[Doc], list[Floats2d]]:
    """spaCy's MultiHashEmbed (hash-embedded lexical attributes, mixed by a Maxout layer)
    with the token's KB tag as one more column."""
    if len(rows) != len(attrs):
        raise ValueError(f"Mismatched lengths: {len(rows)} rows for {len(attrs)} attrs")
    tables = [HashEmbed(width, n, column=i, seed=8 + i, dropout=0.0) for i, n in enumerate([*rows, kb_rows])]
    return chain(
        Model("litmine_features", _features_forward, attrs={"columns": attrs}),
        list2ragged(),
        with_array(concatenate(*tables)),
        with_array(Maxout(width, width * len(tables), nP=3, dropout=0.0, normalize=True)),
        ragged2list(),
    )


def _features_forward(model: Model, docs: list[Doc], is_train: bool) -> tuple[list[Ints2d], Callable]:
    columns = model.attrs["columns"]
    features = []
    for doc in docs:
        lexical = doc.to_array(columns).reshape((len(doc), len(columns)))
        tags = doc._.get(KB_TAG_ATTR) or [NO_TAG] * len(doc)
        kb = numpy.asarray([doc.vocab.strings.add(tag) for tag in tags], dtype="uint64").reshape((len(doc), 1))
        features.append(model.ops.asarray2i(numpy.hstack([lexical, kb]), dtype="uint64"))
    return features, lambda d_features: []
