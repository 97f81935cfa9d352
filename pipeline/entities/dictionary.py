"""Entity tagging: find chemicals, genes, diseases and species in text and give them KB ids.

The baseline is a dictionary tagger over the knowledge base (pipeline.entities.kb): greedy
longest match over token n-grams, with the rules that keep a 320k-name dictionary
usable on prose - case-sensitive matching for gene symbols and acronyms, a stoplist
for abbreviations that mostly mean something else, plurals, abbreviations defined
in the text ("valproic acid (VPA)") and coordinated heads ("Na+ and Ca2+ channels").
A trained tagger can replace it behind the same `EntityTagger` protocol.
"""
from __future__ import annotations

import bisect
import re
import sys
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

from pipeline.codehash import code_hash
from pipeline.config import DATA_DIR
from pipeline.datatypes import Mention
from pipeline.entities.kb import (KIND_RANK, SALT_WORDS, KnowledgeBase, NameEntry, fold_name, singular_forms,
                                  vocabulary_rank)

STOPLIST_PATH = DATA_DIR / "tagger_stoplist.txt"
MAX_TOKENS = 16  # an n-gram spans at most this many tokens (punctuation included) ...
MAX_WORDS = 8  # ... and this many words
TAGGED_TEXTS = 4096  # texts whose mentions a tagger keeps (the oldest go first)
SYMBOL_KINDS = frozenset({"symbol", "alias_symbol", "prev_symbol"})
CURATED_KINDS = frozenset({"curated", "class", "family"})
# Ties between concepts equally well named go to the type litmine's corpora annotate more often.
TYPE_RANK = {"Chemical": 0, "Disease": 1, "Gene": 2, "Species": 3}
# "X-induced Y": X and Y are separate mentions even where a vocabulary lists the compound
CAUSAL_SUFFIXES = frozenset({"induced", "mediated", "evoked", "triggered", "provoked", "elicited"})
# heads shared by a coordinated list: "Kv1.5, Kir4.1, Na+, and Ca2+ channels"
COORDINATED_HEADS = frozenset({"channel", "channels", "receptor", "receptors", "transporter", "transporters"})

_TOKEN = re.compile(r"['\u2019]s\b|[^\W_]+|\S")
_HARD_STOP = frozenset(".,;:!?")
_INNER_PUNCTUATION = frozenset("-/.,:+()[]'\u2019\u2010\u2011\u2013") | {"'s", "\u2019s"}
COORDINATION = re.compile(r"(\S+?),?(?:\s*,\s*(?:and|or)\s+|\s+(?:and|or)\s+|\s*,\s*|\s*/\s*)$")
_WORD = re.compile(r"\S+")
_CAUSAL_LINK = re.compile(r"-(?:%s)\s*$" % "|".join(sorted(CAUSAL_SUFFIXES)), re.IGNORECASE)
_SALT_AFTER = re.compile(r" ([A-Za-z]+)\b")
SHORT_FORM = re.compile(r"\(([A-Za-z0-9][A-Za-z0-9\-+]{1,9})(?:\)|[:;,] )")


class EntityTagger(Protocol):
    name: str

    @property
    def version(self) -> str: ...

    def tag(self, text: str) -> list[Mention]: ...


@dataclass(frozen=True)
class _Entry:
    """A dictionary name compiled for matching."""

    concept_id: str
    type: str
    rank: tuple[int, int, int, int]  # (kind, not the canonical name, type, vocabulary): lower wins
    case_key: str | None  # the surface's case-preserving key must equal this
    needs_capital: bool  # the surface must show a capital or a digit (long gene symbols)
    parts: int  # words and hyphen/slash-separated parts of the name
    exact_chunks: int  # if set, the surface must have exactly this many space-separated chunks

    def accepts(self, cased: str, chunks: int) -> bool:
        """`chunks`: the surface's space-separated chunks; more than the name has parts means
        the key only matched by gluing words together ("be an" is not "Bean")."""
        if chunks > self.parts or (self.exact_chunks and chunks != self.exact_chunks):
            return False
        if self.case_key is not None:
            return cased == self.case_key
        return not self.needs_capital or any(c.isupper() or c.isdigit() for c in cased)


class _Hit(NamedTuple):
    start: int
    end: int
    concept_id: str
    type: str


@dataclass
class _Token:
    start: int
    end: int
    key: str  # normalize_name of the token
    cased: str  # fold_name of the token
    word: bool


def load_stoplist(path: Path = STOPLIST_PATH) -> set[str]:
    """The curated stoplist plus spaCy's English stop words, as normalized keys."""
    from spacy.lang.en.stop_words import STOP_WORDS  # spaCy takes over a second to import: not on a cached run's path

    words = {line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")}
    return words | {w.lower() for w in STOP_WORDS}


def _compile(entry: NameEntry) -> _Entry | None:
    """How strictly a name must match: gene symbols, acronyms, very short and common-word
    names only in their own case; long gene symbols only when written with a capital.
    Disease acronyms and two-letter acronyms (OD, TD) are left to in-text definitions."""
    letters = [c for c in entry.name if c.isalpha()]
    acronym = len(letters) >= 2 and not any(c.islower() for c in letters) and entry.kind != "brand"
    symbol = entry.kind in SYMBOL_KINDS
    if acronym and entry.kind not in CURATED_KINDS and (
            (entry.type == "Disease" and len(entry.norm) <= 3) or (len(entry.norm) <= 2 and entry.kind != "symbol")):
        return None
    if entry.kind in ("alias_symbol", "prev_symbol") and entry.common:
        return None  # STOP, CAT, REST: an English word first
    common = entry.common and entry.kind not in ("name", "symbol") and entry.kind not in CURATED_KINDS
    if common and entry.name.islower():
        return None  # a synonym that is an everyday word ("muscle", "balance") is not worth it
    strict = (len(entry.norm) <= 3 or (symbol and len(entry.norm) <= 5) or (acronym and len(entry.norm) <= 4)
              or common or (acronym and entry.common))
    rank = (KIND_RANK[entry.kind], not entry.preferred, TYPE_RANK.get(entry.type, 9), vocabulary_rank(entry.concept_id))
    words = entry.name.split()
    parts = len(re.findall(r"[^\s\-/]+", entry.name))
    # "protein S" must not match "proteins": a one-letter last word is never glued on
    glued = len(words) > 1 and len(words[-1]) == 1
    return _Entry(entry.concept_id, entry.type, rank, fold_name(entry.name) if strict else None,
                  symbol and not strict, parts, len(words) if glued else 0)


class DictionaryTagger:
    """Longest-match dictionary tagger over the KB's name table.

    Holds the set of normalized names in memory and fetches (and caches) the entries of
    a name only when an n-gram hits one: 0.2 s to start instead of 4.5 s for the whole
    table (160 MB), at the same tagging speed (measured on the BC5CDR dev abstracts).
    """

    name: str = "dictionary"

    def __init__(self, kb: KnowledgeBase, stoplist: set[str] | None = None):
        self.kb = kb
        self._stop = load_stoplist() if stoplist is None else stoplist
        self._norms = kb.norms()
        self._cache: dict[str, list[_Entry]] = {}
        self._labels: dict[str, str] = {}
        self._tagged: OrderedDict[str, tuple[Mention, ...]] = OrderedDict()
        self._version = f"{self.name}-{code_hash(sys.modules[__name__], STOPLIST_PATH)}+kb-{kb.version}"

    @property
    def version(self) -> str:
        """Changes with this module, its stoplist or the KB: a key for caching tagger output."""
        return self._version

    def tag(self, text: str) -> list[Mention]:
        """The text's mentions. A text tagged before is answered from memory: the verifier reads
        each record once per claim it may bear on (the demo's 266 records 770 times)."""
        tagged = self._tagged.get(text)
        if tagged is None:
            tokens = _tokenize(text)
            found = self._longest_matches(text, tokens)
            found = self._coordinated_heads(text, found)
            found = _with_salts(text, found)
            found = self._abbreviations(text, found)
            tagged = self._tagged[text] = tuple(self._mention(text, start, end, cid, type_)
                                                for start, end, cid, type_ in sorted(found))
            if len(self._tagged) > TAGGED_TEXTS:
                self._tagged.popitem(last=False)
        return list(tagged)

    # -- matching

    def entries_named(self, key: str) -> list[_Entry]:
        """The compiled entries named `key` (a normalized name), best first; the linker reads
        them to know a name's exact concepts."""
        if key not in self._norms:
            return []
        entries = self._cache.get(key)
        if entries is None:
            compiled = (_compile(e) for e in self.kb.entries(key) if e.kind in CURATED_KINDS or key not in self._stop)
            entries = self._cache[key] = sorted((e for e in compiled if e is not None), key=lambda e: e.rank)
        return entries

    def _best(self, key: str, cased: str, chunks: int = 1) -> _Entry | None:
        """The best entry named `key` that accepts the surface; plurals fall back to the singular."""
        for entry in self.entries_named(key):
            if entry.accepts(cased, chunks):
                return entry
        for singular in singular_forms(key):
            singular_cased = cased[:len(singular)] if key.startswith(singular) else cased[:len(singular) - 1] + "y"
            for entry in self.entries_named(singular):
                if len(singular) > 2 and entry.accepts(singular_cased, chunks):
                    return entry
        return None

    def _longest_matches(self, text: str, tokens: list[_Token]) -> list[_Hit]:
        found = []
        i = 0
        while i < len(tokens):
            if not tokens[i].word:
                i += 1
                continue
            best: tuple[int, _Entry] | None = None
            key = cased = ""
            words, chunks, depth = 0, 1, 0
            for j in range(i, min(len(tokens), i + MAX_TOKENS)):
                if j > i and _breaks(text, tokens, j):
                    break
                token = tokens[j]
                piece = text[token.start:token.end]
                depth += (piece in "([") - (piece in ")]")
                if depth < 0:
                    break
                key += token.key
                cased += token.cased
                words += token.word
                chunks += j > i and token.start > tokens[j - 1].end
                if words > MAX_WORDS:
                    break
                if token.key and depth == 0:
                    entry = self._best(key, cased, chunks)
                    if entry is not None:
                        best = (j, entry)
            if best is None:
                i += 1
                continue
            j, entry = best
            found.append(_Hit(tokens[i].start, tokens[j].end, entry.concept_id, entry.type))
            i = j + 1
        return found

    def _coordinated_heads(self, text: str, found: list[_Hit]) -> list[_Hit]:
        """Give each item of "Kv1.5, Kir4.1, Na+, and Ca2+ channels" the head the last item
        carries: "Na+" becomes the Na+ channel family, Kir4.1 stays the gene it is."""
        by_start = {hit.start: hit for hit in found}
        result = dict(by_start)
        for start, end, _, _ in found:
            head = re.search(r"(\w+)$", text[start:end])
            if head is None or head.group(1).lower() not in COORDINATED_HEADS or head.start() == 0:
                continue
            head_key, head_cased = fold_name(head.group(1)).lower(), fold_name(head.group(1))
            left = start
            while True:
                match = COORDINATION.search(text, max(0, left - 40), left)
                if match is None or match.end() != left:
                    break
                item_start, item_end = match.start(1), match.end(1)
                item = text[item_start:item_end]
                entry = self._best(fold_name(item).lower() + head_key, fold_name(item) + head_cased)
                if entry is not None and entry.type in ("Gene", "Chemical"):
                    old = by_start.get(item_start)
                    if old is None or old.end == item_end:
                        result[item_start] = _Hit(item_start, item_end, entry.concept_id, entry.type)
                left = item_start
        return _without_overlaps(result.values())

    def _abbreviations(self, text: str, found: list[_Hit]) -> list[_Hit]:
        """Abbreviations defined in the text: "valproic acid (VPA)" tags every VPA as valproic
        acid; "suprachiasmatic nucleus (SCN)" stops SCN from being tagged as a gene."""
        ends = {hit.end: hit for hit in found}
        starts = {hit.start: hit for hit in found}
        assigned: dict[str, tuple[str, str]] = {}
        suppressed: set[str] = set()
        for match in SHORT_FORM.finditer(text):
            short = match.group(1)
            letters = sum(c.isalpha() for c in short)
            if letters < 2:
                continue
            before = text[:match.start()].rstrip()
            definer = ends.get(len(before))
            long_start = long_form(short, before)
            capital = any(c.isupper() for c in short)
            tagged = starts.get(match.start(1))
            if long_start is not None and (definer is None or (
                    long_start < definer.start and not _CAUSAL_LINK.search(before[long_start:definer.start])
                    and (tagged is None or tagged.concept_id != definer.concept_id))):
                # it abbreviates something no mention covers: "suprachiasmatic nucleus (SCN)",
                # "long-term depression (LTD)" (but "levodopa-induced dyskinesias (LID)" is a disease)
                if capital:
                    suppressed.add(short)
            elif definer is not None and (long_start is not None or (capital and letters > len(short) - letters)):
                assigned.setdefault(short, (definer.concept_id, definer.type))
        if not assigned and not suppressed:
            return found
        kept = {(hit.start, hit.end): hit for hit in found
                if text[hit.start:hit.end] not in suppressed or text[hit.start:hit.end] in assigned}
        for short, (cid, type_) in assigned.items():
            for occurrence in re.finditer(rf"(?<![\w-]){re.escape(short)}(?!\w)", text):
                kept[occurrence.span()] = _Hit(occurrence.start(), occurrence.end(), cid, type_)
        return _without_overlaps(kept.values())

    def _mention(self, text: str, start: int, end: int, concept_id: str, type_: str) -> Mention:
        label = self._labels.get(concept_id)
        if label is None:
            concept = self.kb.concept(concept_id)
            label = self._labels[concept_id] = concept.name if concept else ""
        return Mention(start=start, end=end, text=text[start:end], type=type_, id=concept_id, name=label)


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        piece = match.group()
        cased = fold_name(piece)
        tokens.append(_Token(match.start(), match.end(), cased.lower(), cased, piece[0].isalnum()))
    return tokens


def _breaks(text: str, tokens: list[_Token], j: int) -> bool:
    """Whether an n-gram may not extend over token j: across a line break, sentence or
    clause punctuation, or an opening bracket after a space."""
    token, previous = tokens[j], tokens[j - 1]
    gap = text[previous.end:token.start]
    if "\n" in gap:
        return True
    piece = text[token.start:token.end]
    if piece in _HARD_STOP:
        after = text[token.end:token.end + 1]
        return not after or after.isspace() or bool(gap)
    if not token.word and piece not in _INNER_PUNCTUATION:
        return True  # "P=0.05" is no "P0"
    if piece.lower() in CAUSAL_SUFFIXES and text[previous.start:previous.end] == "-":
        return True
    return piece in "([" and bool(gap)


def long_form(short: str, before: str) -> int | None:
    """Schwartz & Hearst (2003): where the long form that the words before "(short)" spell
    begins (an offset into `before`), or None if they do not spell it."""
    window = max(0, len(before) - 12 * (len(short) + 5))
    spans = [m.span() for m in _WORD.finditer(before, window)][-min(len(short) + 5, 2 * len(short)):]
    if not spans:
        return None
    first = spans[0][0]
    long = before[first:].lower()
    s, i = len(short) - 1, len(long) - 1
    while s >= 0:
        c = short[s].lower()
        if not c.isalnum():
            s -= 1
            continue
        while i >= 0 and (long[i] != c or (s == 0 and i > 0 and long[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return None
        i -= 1
        s -= 1
    start = i + 1
    while start > 0 and not long[start - 1].isspace():
        start -= 1
    return first + start


def _with_salts(text: str, found: list[_Hit]) -> list[_Hit]:
    """A drug and its salt or counter-ion are one mention of the drug: "bupropion HCl",
    "diclofenac sodium", "sodium warfarin"."""
    result: list[_Hit] = []
    for hit in sorted(found):
        previous = result[-1] if result else None
        if previous and hit.type == previous.type == "Chemical" and text[previous.end:hit.start] == " ":
            if text[hit.start:hit.end].lower() in SALT_WORDS:
                result[-1] = previous._replace(end=hit.end)
                continue
            if text[previous.start:previous.end].lower() in SALT_WORDS:
                result[-1] = hit._replace(start=previous.start)
                continue
        result.append(hit)
    others = [hit for hit in result if hit.type != "Chemical"]
    for n, hit in enumerate(result):
        end = hit.end
        while hit.type == "Chemical" and (salt := _SALT_AFTER.match(text, end)) \
                and salt.group(1).lower() in SALT_WORDS \
                and not any(o.start < salt.end() and o.end > salt.start() for o in others):
            end = salt.end()
        result[n] = hit._replace(end=end)
    return _without_overlaps(result)


def _without_overlaps(hits: Iterable[_Hit]) -> list[_Hit]:
    """Keep the longest of overlapping hits (the earlier one on ties), in text order."""
    starts: list[int] = []
    kept: list[_Hit] = []  # sorted by start, pairwise disjoint
    for hit in sorted(hits, key=lambda h: (h.start - h.end, h.start)):
        n = bisect.bisect_left(starts, hit.start)
        if (n == 0 or kept[n - 1].end <= hit.start) and (n == len(kept) or kept[n].start >= hit.end):
            starts.insert(n, hit.start)
            kept.insert(n, hit)
    return kept
