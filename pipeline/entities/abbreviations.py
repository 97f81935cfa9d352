"""Abbreviations a text defines ("valproic acid (VPA)"): litmine's one abbreviation finder.

Schwartz & Hearst (2003), as the dictionary tagger reads them (`dictionary.SHORT_FORM`,
`dictionary.long_form`), for every part of litmine: the dictionary tagger, the linker, and the
entity pipeline through the `litmine_abbreviations` component, which sets ``doc._.abbreviations``
the way scispaCy's AbbreviationDetector does (every occurrence of a defined short form, as a Span
whose ``._.long_form`` is the defining long form), so code written for scispaCy's reads it.

Why not scispaCy's detector: on the gold definitions of BC5CDR and BioRED dev
(`benchmarks/abbreviations.py`) it found 6-8 points fewer (68.2% / 66.7% against 76.5% / 73.2%,
on litmine's tokenizer; precision the same within 1.5 points): it accepts only ")" to close a
short form ("(PAN; " is missed) and drops short forms a tokenizer splits at a hyphen ("5-FU").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc, Span

from pipeline.entities.dictionary import SHORT_FORM, long_form

# scispaCy's names, so that a pipeline reads the same whichever finder ran
ABBREVIATIONS_ATTR, LONG_FORM_ATTR = "abbreviations", "long_form"
if not Doc.has_extension(ABBREVIATIONS_ATTR):
    Doc.set_extension(ABBREVIATIONS_ATTR, default=[])
if not Span.has_extension(LONG_FORM_ATTR):
    Span.set_extension(LONG_FORM_ATTR, default=None)


@dataclass(frozen=True)
class Definition:
    """One "long form (short form)" in a text, as character offsets."""

    short: str
    long_start: int
    long_end: int


def definitions(text: str) -> list[Definition]:
    """The first definition of each short form the text defines."""
    found: dict[str, Definition] = {}
    for match in SHORT_FORM.finditer(text):
        short = match.group(1)
        if short in found or sum(c.isalpha() for c in short) < 2:
            continue
        before = text[:match.start()].rstrip()
        start = long_form(short, before)
        if start is not None:
            found[short] = Definition(short, start, len(before))
    return list(found.values())


def find_abbreviations(text: str) -> dict[str, str]:
    """Short form -> long form for the abbreviations the text defines."""
    return {d.short: text[d.long_start:d.long_end] for d in definitions(text)}


@Language.component("litmine_abbreviations")
def mark_abbreviations(doc: Doc) -> Doc:
    """``doc._.abbreviations``: each token-aligned occurrence of a short form the text defines,
    with ``._.long_form`` the long form's Span."""
    found = []
    for definition in definitions(doc.text):
        long = doc.char_span(definition.long_start, definition.long_end, alignment_mode="expand")
        if long is None:
            continue
        for occurrence in re.finditer(rf"(?<![\w-]){re.escape(definition.short)}(?!\w)", doc.text):
            short = doc.char_span(*occurrence.span())
            if short is not None:
                short._.set(LONG_FORM_ATTR, long)
                found.append(short)
    doc._.set(ABBREVIATIONS_ATTR, found)
    return doc
