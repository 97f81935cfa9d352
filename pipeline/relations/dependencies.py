"""Dependency parses for the relation models, from litmine's CRAFT tagger and parser.

The words between two mentions say little when the sentence is long or nested ("X, which
was given to rats for 3 weeks, reduced the expression of Y"); the shortest dependency path
between the mentions' head words ("X <nsubj reduced >dobj expression >prep of >pobj Y")
keeps what links them and drops the asides. A parse is plain data (an `Arc` per token), so
each sentence is parsed once, in batches, and the features (`relation_features`) never
touch spaCy.

Negation is kept out of the tree as it is kept out of the features: a negating verb with a
clausal complement ("X failed to inhibit Y") is spliced out, so the path reads as for
"X inhibit Y".
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from pipeline.config import Settings, load_settings

NEGATING_HEADS = frozenset({"fail", "failed", "fails", "unable"})


@dataclass(frozen=True, slots=True)
class Arc:
    """A parsed token: its character span in the sentence, lower-cased word, POS tag, and the
    label and index of the arc to its head (the root points to itself)."""

    start: int
    end: int
    word: str
    tag: str
    dep: str
    head: int


Parse = tuple[Arc, ...]


class DependencyParser:
    """litmine's trained CRAFT tagger+parser."""

    def __init__(self, nlp: Any, version: str):
        self.nlp = nlp
        self.version = version  # the trained parser's key: relation models are rebuilt when it changes
        self._lock = threading.Lock()  # a Language is not safe to call from two threads at once

    @classmethod
    def load(cls, settings: Settings) -> DependencyParser:
        """The built parser, on exact matrix products where they pay (`use_exact_ops`: the same parses);
        ModelsMissing when `litmine models build` has not made it yet."""
        import spacy

        import pipeline.entities.nlp  # noqa: F401  (registers litmine's tokenizer)
        from pipeline.entities.gemm import use_exact_ops
        from pipeline.models import ModelsMissing
        from pipeline.models import model_dir

        path = model_dir(settings, "parser_craft")
        if path is None:
            raise ModelsMissing(f"model not built: parser_craft (under {settings.models}); run `litmine models build`")
        nlp = spacy.load(path)
        use_exact_ops(nlp)
        return cls(nlp, path.parent.name)

    def parse(self, texts: Sequence[str], batch_size: int = 128) -> list[Parse]:
        """Each text parsed as one sentence."""
        with self._lock:
            docs = list(self.nlp.pipe(texts, batch_size=batch_size))
        return [splice_negations(tuple(Arc(t.idx, t.idx + len(t.text), t.text.lower(), t.tag_, t.dep_, t.head.i)
                                       for t in doc)) for doc in docs]


@cache
def default_parser() -> DependencyParser:
    """The parser of litmine's settings, loaded once per process."""
    return DependencyParser.load(load_settings())


def splice_negations(parse: Parse) -> Parse:
    """"X failed to inhibit Y": "inhibit" takes "failed"'s place in the tree."""
    arcs = list(parse)
    for n, arc in enumerate(parse):
        if arc.word not in NEGATING_HEADS:
            continue
        complement = next((i for i, x in enumerate(arcs) if x.head == n and x.dep == "xcomp" and i != n), None)
        if complement is None:
            continue
        arcs[complement] = replace(arcs[complement], dep=arc.dep, head=complement if arc.head == n else arc.head)
        for i, x in enumerate(arcs):
            if x.head == n and i not in (n, complement):
                arcs[i] = replace(x, head=complement)
        arcs[n] = replace(arc, dep="neg", head=complement)
    return tuple(arcs)


def head_token(parse: Parse, start: int, end: int) -> int | None:
    """The token of a character span whose head lies outside it (the last such), or None."""
    inside = [i for i, t in enumerate(parse) if t.start < end and t.end > start]
    heads = [i for i in inside if parse[i].head == i or parse[i].head not in inside]
    return heads[-1] if heads else None


def shortest_path(parse: Parse, i: int, j: int) -> tuple[list[int], list[int]] | None:
    """The tokens from i up to the lowest common ancestor (inclusive), and from below it down
    to j; None when they are in different trees."""
    up, down = _ancestors(parse, i), _ancestors(parse, j)
    common = next((x for x in up if x in down), None)
    if common is None:
        return None
    return up[:up.index(common) + 1], down[:down.index(common)][::-1]


def _ancestors(parse: Parse, i: int) -> list[int]:
    chain = [i]
    while parse[chain[-1]].head != chain[-1] and len(chain) <= len(parse):
        chain.append(parse[chain[-1]].head)
    return chain
