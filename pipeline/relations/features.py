"""Sparse features of an entity pair in one sentence, for the linear relation models.

A pair is described by what a reader would look at: the words between the two
mentions (as a bag, as n-grams and, when short, as one phrase), the words just
around each mention, the mentions' own words, their order and distance, the other
entities in the way, and trigger words from the baseline lexicon near either one;
when the sentence is parsed, also the dependency path between the two (`path_features`).
The pair's mentions become markers (``@CHEMICAL@``) and other mentions become type
tokens (``#gene#``) so that patterns like ``@GENE@ inhibitors such as @CHEMICAL@``
generalize across names. Gene subtypes (DrugProt's GENE-Y/GENE-N) are not used:
the same model must run on litmine's own tagger output, which only says "Gene".

Negation words are left out of the tokens: the corpora do not annotate negated
relations, so a model that saw "did not" would learn to call "X did not inhibit Y"
no relation, where litmine wants an inhibition that is negated. The type comes from
the model, the negation from `pipeline.relations.triggers.is_negated`. The parse is kept from
seeing them the same way (`pipeline.relations.dependencies.splice_negations`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.datatypes import Mention
from pipeline.relations.dependencies import Parse, head_token, shortest_path
from pipeline.relations.triggers import HEDGE_CUES, TRIGGERS

_TOKEN = re.compile(r"\w+|[^\w\s]")
_DIGITS = re.compile(r"\d")
_TRIGGER_WORDS = [(relation, re.compile(rf"^(?:{pattern})$", re.I)) for relation, pattern in TRIGGERS]
NEGATION_WORDS = frozenset({"not", "no", "never", "neither", "nor", "failed", "fail", "fails", "unable", "lack",
                            "lacked", "lacks", "absence", "cannot"})
# dropped with a negation word: the auxiliary before it ("did not") and "to" after "failed to"
_AUXILIARIES = frozenset({"did", "does", "do", "was", "were", "is", "are", "has", "have", "had", "could", "can",
                          "would", "will", "may", "might", "should", "to"})
_HEDGE_WORD = re.compile(HEDGE_CUES.pattern.replace(r"\b", ""), re.I)
# short phrases between a pair are kept whole up to this many tokens
PHRASE_TOKENS = 6
WINDOW = 3  # tokens kept on each side of a mention
CLAUSE_WORDS = frozenset({"which", "that", "whereas", "while", "but", "however", "although", ";", "whether",
                          "when", "by", "via", "through", "than", "both"})


@dataclass
class Token:
    start: int
    end: int
    word: str  # normalized: lower case, digits as 0


@dataclass
class SentenceView:
    """A tokenized sentence with the token span of each of its mentions."""

    text: str
    mentions: list[Mention]
    tokens: list[Token]
    spans: list[tuple[int, int]]  # token [first, last) of each mention
    parse: Parse | None = None  # the sentence's dependency parse, for the models that read one

    @classmethod
    def of(cls, text: str, mentions: list[Mention], parse: Parse | None = None) -> SentenceView:
        """Tokens with negations outside mentions dropped ("did not", "failed to"; "NO", nitric
        oxide, stays)."""
        found = [(m, m.group().lower()) for m in _TOKEN.finditer(text)]
        negation = [word in NEGATION_WORDS and not m.group().isupper()
                    and not any(x.start < m.end() and x.end > m.start() for x in mentions) for m, word in found]
        dropped = set()
        for i, is_negation in enumerate(negation):
            if is_negation:
                dropped.add(i)
                dropped.update(j for j in (i - 1, i + 1) if 0 <= j < len(found) and found[j][1] in _AUXILIARIES)
        tokens = [Token(m.start(), m.end(), _DIGITS.sub("0", word)) for i, (m, word) in enumerate(found)
                  if i not in dropped]
        spans = []
        for mention in mentions:
            inside = [i for i, t in enumerate(tokens) if t.start < mention.end and t.end > mention.start]
            spans.append((inside[0], inside[-1] + 1) if inside else (0, 0))
        return cls(text, mentions, tokens, spans, parse)


def type_tag(mention: Mention) -> str:
    return mention.type.upper()


@lru_cache(maxsize=1 << 16)  # a word's class never changes; twelve regexes a word were a tenth of extraction
def _trigger_class(word: str) -> str | None:
    for relation, pattern in _TRIGGER_WORDS:
        if pattern.match(word):
            return relation
    return None


def _sequence(view: SentenceView, a: int, b: int) -> tuple[list[str], int, int]:
    """The sentence's words with mention `a` and `b` as markers and every other mention as
    its type token; returns the words and the markers' positions."""
    owner: dict[int, int] = {}
    for k, (first, last) in enumerate(view.spans):
        for i in range(first, last):
            current = owner.get(i)
            # the pair's own mentions win over others covering the same token
            if current is None or (k in (a, b) and current not in (a, b)):
                owner[i] = k
    words: list[str] = []
    where = {a: -1, b: -1}
    previous = None
    for i, token in enumerate(view.tokens):
        k = owner.get(i)
        if k is None:
            words.append(token.word)
            previous = None
            continue
        if k == previous:
            continue
        previous = k
        if k in where:
            where[k] = len(words)
            words.append(f"@{type_tag(view.mentions[k])}@")
        else:
            words.append(f"#{view.mentions[k].type.lower()}#")
    return words, where[a], where[b]


def _bucket(n: int) -> str:
    for limit in (0, 1, 2, 3, 4, 6, 9, 13, 20, 30):
        if n <= limit:
            return str(limit)
    return "far"


def pair_features(view: SentenceView, a: int, b: int) -> list[str]:
    """Features of the pair (mention a, mention b) in a sentence; a and b in either order."""
    ma, mb = view.mentions[a], view.mentions[b]
    if (ma.start, ma.end) > (mb.start, mb.end):
        a, b, ma, mb = b, a, mb, ma
    ta, tb = type_tag(ma), type_tag(mb)
    order = f"{ta}>{tb}"
    features = [f"order={order}"]
    if ma.end > mb.start:  # nested or overlapping mentions ("GABA" inside "GABA receptor")
        inner, outer = (ma, mb) if (ma.end - ma.start) < (mb.end - mb.start) else (mb, ma)
        features.append(f"nested={type_tag(inner)}in{type_tag(outer)}")
        outer_words = [t.word for t in view.tokens if outer.start <= t.start and t.end <= outer.end]
        features += [f"nested_w={w}" for w in outer_words]
    words, ia, ib = _sequence(view, a, b)
    if ia == ib or ia < 0 or ib < 0:
        return features + _mention_words(view, a, b)
    between = words[ia + 1:ib]
    left, right = words[max(0, ia - WINDOW):ia], words[ib + 1:ib + 1 + WINDOW]
    features.append(f"dist={_bucket(len(between))}")
    features.append(f"order_dist={order}:{_bucket(len(between))}")
    others = [w for w in between if w.startswith("#")]
    features.append(f"n_between={_bucket(len(others))}")
    features += [f"between_type={w}" for w in set(others)]
    for w in set(between):
        features.append(f"bw={w}")
        features.append(f"bw_o={order}:{w}")
    features += [f"bb={x}_{y}" for x, y in zip(between, between[1:])]
    features += [f"bt={x}_{y}_{z}" for x, y, z in zip(between, between[1:], between[2:])]
    if between:
        features += [f"bfirst={between[0]}", f"blast={between[-1]}"]
    if len(between) <= PHRASE_TOKENS:
        features.append(f"phrase={order}:{' '.join(between)}")
    # the marked window: n-grams that include a marker ("@CHEMICAL@ inhibited", "of @GENE@")
    window = words[max(0, ia - 2):ib + 3]
    features += [f"mg={x}_{y}" for x, y in zip(window, window[1:]) if "@" in x + y]
    features += [f"mt={x}_{y}_{z}" for x, y, z in zip(window, window[1:], window[2:]) if "@" in x + y + z]
    for name, ctx, at in ((ta, words, ia), (tb, words, ib)):
        for d in (1, 2, 3):
            if at - d >= 0:
                features.append(f"{name}_l{d}={ctx[at - d]}")
            if at + d < len(ctx):
                features.append(f"{name}_r{d}={ctx[at + d]}")
        if at - 2 >= 0:
            features.append(f"{name}_lb={ctx[at - 2]}_{ctx[at - 1]}")
        if at + 2 < len(ctx):
            features.append(f"{name}_rb={ctx[at + 1]}_{ctx[at + 2]}")
    features += [f"left={w}" for w in left] + [f"right={w}" for w in right]
    reduced = _reduce(between, words[ia], words[ib])
    if reduced != between:
        features.append(f"rdist={_bucket(len(reduced))}")
        features += [f"rbw={w}" for w in set(reduced)]
        features += [f"rbb={x}_{y}" for x, y in zip(reduced, reduced[1:])]
        if len(reduced) <= PHRASE_TOKENS:
            features.append(f"rphrase={order}:{' '.join(reduced)}")
    if reduced:
        features += [f"rfirst={reduced[0]}", f"rlast={reduced[-1]}"]
    triggers = [w for w in reduced if _trigger_class(w)]
    if triggers:
        features += [f"tfirst={triggers[0]}", f"tlast={triggers[-1]}", f"tlast_o={order}:{triggers[-1]}"]
    features.append(f"commas={_bucket(between.count(','))}")
    features += [f"clause={w}" for w in set(between) & CLAUSE_WORDS]
    features.append(f"n_sentence={_bucket(len(view.mentions))}")
    features += _trigger_features(between, words, ia, ib, ta, tb)
    features += _nearest(ma, mb, between)
    if "(" in between and ")" not in between:
        features.append("paren_open")
    if any(_HEDGE_WORD.fullmatch(w) for w in words):
        features.append("hedge_sentence")
    if view.parse is not None:
        features += path_features(view.parse, view.mentions, a, b, (ta, tb))
    return _with_stems(features) + _mention_words(view, a, b)


# Features whose words also count by their first five letters, so that "inhibits",
# "inhibited" and "inhibitory" share evidence.
STEMMED = frozenset({"bw", "rbw", "tfirst", "tlast", "bfirst", "blast", "CHEMICAL_l1", "CHEMICAL_r1", "GENE_l1",
                     "GENE_r1", "DISEASE_l1", "DISEASE_r1"})


def _with_stems(features: list[str]) -> list[str]:
    stems = []
    for f in features:
        key, _, word = f.partition("=")
        if key in STEMMED and len(word) > 5 and word.isalpha():
            stems.append(f"{key}~{word[:5]}")
    return features + stems


def _reduce(between: list[str], first: str, second: str) -> list[str]:
    """The words between with parenthesized asides dropped and lists of mentions coordinated
    with either end collapsed: "@CHEMICAL@ ( 0 mm ) inhibited #gene# , #gene# and @GENE@"
    reads as "@CHEMICAL@ inhibited @GENE@"."""
    kept: list[str] = []
    depth = 0
    for w in between:
        if w == "(":
            depth += 1
        elif w == ")" and depth:
            depth -= 1
        elif not depth:
            kept.append(w)
    if depth:  # unbalanced: the pair sits inside or across a parenthesis
        kept = [w for w in between if w not in "()"]
    for marker, tail in ((second, True), (first, False)):
        token = "#" + marker.strip("@").lower() + "#"
        seq = kept if tail else kept[::-1]
        cut = len(seq)
        while cut and seq[cut - 1] in (",", "and", "or", "/", "(" if tail else ")", token):
            cut -= 1
        if token in seq[cut:] or seq[cut:] == [")"]:
            seq = seq[:cut]
        kept = seq if tail else seq[::-1]
    return kept


def _trigger_features(between: list[str], words: list[str], ia: int, ib: int, ta: str, tb: str) -> list[str]:
    features = []
    for w in between:
        found = _trigger_class(w)
        if found:
            features.append(f"trig_between={found}")
    for name, at in ((ta, ia), (tb, ib)):
        for i in range(max(0, at - WINDOW), min(len(words), at + WINDOW + 1)):
            found = _trigger_class(words[i]) if i != at else None
            if found:
                features.append(f"trig_{name}_{'l' if i < at else 'r'}={found}")
    return features


def _nearest(a: Mention, b: Mention, between: list[str]) -> list[str]:
    """Whether each mention is the closest of its type to the other one."""
    features = []
    if f"#{b.type.lower()}#" not in between:
        features.append("b_nearest_to_a")
    if f"#{a.type.lower()}#" not in between:
        features.append("a_nearest_to_b")
    return features


def _mention_words(view: SentenceView, a: int, b: int) -> list[str]:
    features = []
    for k in (a, b):
        mention = view.mentions[k]
        name = type_tag(mention)
        words = [w for w in (t.lower() for t in re.findall(r"\w+", mention.text)) if not w.isdigit()]
        features += [f"{name}_w={_DIGITS.sub('0', w)}" for w in words]
        if words:
            features.append(f"{name}_head={_DIGITS.sub('0', words[-1])}")
        features.append(f"{name}_text={_DIGITS.sub('0', mention.text.lower())}")
    return features


MAX_PATH = 8  # dependency paths longer than this (in arcs) keep only their bag features


def _stem(word: str) -> str:
    return word[:5] if len(word) > 5 and word.isalpha() else word


def path_features(parse: Parse, mentions: list[Mention], a: int, b: int, tags: tuple[str, str]) -> list[str]:
    """Features of mentions a and b (a first in the sentence, `tags` their marker types) read
    off the parse: the shortest path between their head tokens (words and labels, labels
    only, its length and shape, the words, verbs and trigger classes on it, the word where it
    turns) and the word each mention hangs from."""
    heads = [head_token(parse, mentions[k].start, mentions[k].end) for k in (a, b)]
    if heads[0] is None or heads[1] is None or heads[0] == heads[1]:
        return []

    shown: dict[int, str] = {}

    def word(i: int) -> str:
        """A token as the path shows it: the pair as markers, other mentions as type tokens."""
        if i not in shown:
            t = parse[i]
            owner = next((k for k, m in enumerate(mentions) if t.start < m.end and t.end > m.start), None)
            shown[i] = (_DIGITS.sub("0", t.word) if owner is None else f"@{tags[0] if owner == a else tags[1]}@"
                        if owner in (a, b) else f"#{mentions[owner].type.lower()}#")
        return shown[i]

    features = []
    for tag, h in zip(tags, heads):
        features.append(f"gov_dep={tag}:{parse[h].dep}")
        if parse[h].head != h:
            governor = word(parse[h].head)
            features += [f"gov={tag}:{parse[h].dep}:{governor}", f"gov~={tag}:{_stem(governor)}"]
    path = shortest_path(parse, heads[0], heads[1])
    if path is None:
        return features + ["dp_none"]
    up, down = path
    nodes = up + down
    labels = [f"<{parse[i].dep}" for i in up[:-1]] + [f">{parse[i].dep}" for i in down]
    inner = nodes[1:-1]
    features += [f"dp_len={min(len(labels), MAX_PATH + 1)}", f"dp_shape={len(up) - 1}:{len(down)}"]
    if len(labels) <= MAX_PATH:
        full = [word(nodes[0])]
        for label, i in zip(labels, nodes[1:]):
            full += [label, word(i)]
        features += ["dp=" + " ".join(full), "dp_stem=" + " ".join(_stem(w) for w in full),
                     "dp_labels=" + " ".join(labels)]
    words = {word(i) for i in inner}
    features += [f"dp_w={w}" for w in words] + [f"dp_w~={_stem(w)}" for w in words]
    features += [f"dp_edge={labels[j]}:{_stem(word(i))}" for j, i in enumerate(inner)]
    features += [f"dp_edge={_stem(word(i))}:{labels[j + 1]}" for j, i in enumerate(inner)]
    features += [f"dp_verb={_stem(word(i))}" for i in inner if parse[i].tag.startswith("VB")]
    features += [f"dp_trigger={c}" for c in {_trigger_class(w) for w in words} if c]
    common = up[-1]
    if common not in heads:
        features.append(f"dp_top={_stem(word(common))}")
    return features
