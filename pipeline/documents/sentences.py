"""Splitting prose into sentences: full stops, not the periods of abbreviations, initials,
parenthetical remarks or journal citations ("J Neurosci. 2007;27")."""
from __future__ import annotations

import re

# Full stop, ? or ! (with closing quotes or brackets and any citation markers that
# follow it: "… clearance. [14]"), before a capital, digit or Greek letter; or a
# blank line; or a newline that does not run on in lower case.
_BOUNDARY = re.compile(
    r"[.!?][\"'”’)\]]*(?:[ \t]*(?:\[\d[\d\s,;\-–—]*\]|\([^()\n]*\b(?:19|20)\d{2}[a-z]?\)))*"
    r"(?=\s+(?:[\"'“(]?[A-Z0-9\u0391-\u03a9\u03b1-\u03c9]|[a-z]+[A-Z0-9\-]))"  # or "miR-132", "p62", "circRNA"
    r"|\n[ \t]*\n\s*"
    r"|\n(?=[ \t]*[^\sa-z])"
)
_ABBREVIATIONS = frozenset("al e.g i.e vs cf dr mr mrs ms prof st inc ltd co resp spp ssp sp var viz".split())
_NUMBER_ABBREVIATIONS = frozenset(  # abbreviations when a number follows: "Fig. 2", "ca. 10%", "Aug. 31"
    "fig figs no nos vol p pp eq eqs ref refs ca approx jan feb mar apr jun jul aug sep sept oct nov dec".split())
_INITIAL_CONTEXT = frozenset("by and & of in from with to".split())  # lower-case words that precede initials


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of `text`, whitespace trimmed; fast enough for whole corpora."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        terminal = m.group()[0] in ".!?"
        if m.group()[0] == "." and _not_a_full_stop(text, start, m.start()):
            continue
        _add_span(spans, text, start, m.end() if terminal else m.start())
        start = m.end()
    _add_span(spans, text, start, len(text))
    return spans


def _add_span(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    stripped = chunk.strip()
    if stripped:
        first = start + len(chunk) - len(chunk.lstrip())
        spans.append((first, first + len(stripped)))


def _not_a_full_stop(text: str, start: int, dot: int) -> bool:
    """A period that ends an abbreviation or an initial, sits inside parentheses,
    or precedes a journal citation's year ("J Neurosci. 2007;27")."""
    words = text[max(start, dot - 40):dot].split()
    if not words:
        return False
    word = words[-1].lstrip("([\"'“")
    if word.lower() in _ABBREVIATIONS or re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word):
        return True
    if word.lower() in _NUMBER_ABBREVIATIONS and text[dot + 1:dot + 8].lstrip()[:1].isdigit():
        return True
    if len(word) == 1 and word.isupper():  # "J. Neurosci." but not "vitamin D. Levels"
        before = words[-2] if len(words) > 1 else ""
        if not (before.isalpha() and before.islower()) or before in _INITIAL_CONTEXT:
            return True
    sentence = text[start:dot]
    if sentence.count("(") > sentence.count(")") and ")" in text[dot:dot + 200]:
        return True
    return bool(re.match(r"\s+\d{4}\s*[;:]", text[dot + 1:dot + 12]))

