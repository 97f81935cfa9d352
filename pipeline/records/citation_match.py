"""Does a citation name this record? Its title, first author and year compared with the record's.

Two questions rest on it: the reference check (`pipeline.records.reference_check`: does the id
lead to the work the text names?) and the title search (`pipeline.records.title_search`: which
PubMed record is the one a free-text reference names?). People mis-cite honestly, so the tests
are lenient: titles are normalised (Unicode, case, punctuation) and compared by token-set
similarity, so that typos and a title cut short still match; a surname matches whatever its
initials; a year off by one agrees.
"""
from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

# Years further apart than this disagree: a paper out online in December is often cited by its
# print year, one later.
YEAR_SLACK = 1
MIN_TITLE_WORDS = 3  # a shorter "title" is too little to tell one work from another


def normalise(text: str) -> str:
    """Lower case, accents and punctuation dropped, Greek letters and Unicode variants folded
    ("β-Blockers" and "beta blockers" alike), whitespace collapsed."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[α-ω]", lambda m: unicodedata.name(m.group(), "").split()[-1].lower(), text)
    return " ".join(re.sub(r"[^\w]+|_", " ", text).split())


def title_similarity(a: str, b: str, either_cut_short: bool = True) -> float:
    """Token-set similarity of two titles, 0-1: 1 when one's words are all in the other (a title
    cut short), high for a few typos, low for another work's title. With `either_cut_short`
    False only `a` (the cited title) may be the one cut short: a candidate `b` whose few words
    are all in `a` is another, shorter title ("Telomere length and cancer"), not `a`'s paper."""
    words_a, words_b = set(normalise(a).split()), set(normalise(b).split())
    if not words_a or not words_b:
        return 0.0
    common = " ".join(sorted(words_a & words_b))
    only_a = " ".join([common, *sorted(words_a - words_b)]).strip()
    only_b = " ".join([common, *sorted(words_b - words_a)]).strip()
    pairs = [(only_a, only_b)] + ([(common, only_a)] if common else []) + \
        ([(common, only_b)] if common and either_cut_short else [])
    return max(SequenceMatcher(None, x, y).ratio() for x, y in pairs)


def family_name(name: str) -> str:
    """"De Luca F" -> "De Luca": the name as written, without its initials."""
    parts = name.split()
    if len(parts) > 1 and parts[-1].isupper() and len(parts[-1]) <= 3:
        parts = parts[:-1]
    return " ".join(parts)


def surname(name: str) -> str:
    """"De Luca F" -> "deluca": the surname without initials, spaces or punctuation."""
    return normalise(family_name(name)).replace(" ", "")


def first_author(cited: dict[str, str]) -> str:
    """The first author of a parsed citation (`parse_citation`'s fields) as written, initials and
    all: "De Luca F" from "De Luca F, Smith J, et al" (the parser's `first_author` stops at "De")."""
    return re.sub(r"\s+et\s+al\b.*", "", cited.get("authors", "")).split(",")[0].strip() \
        or cited.get("first_author", "")


def same_author(cited: str, recorded: str) -> bool:
    """Whether two author names have the same surname ("Bao Y" and "Bao YQ" do)."""
    return surname(cited) == surname(recorded)


def years_agree(cited: int, recorded: int) -> bool:
    return abs(cited - recorded) <= YEAR_SLACK
