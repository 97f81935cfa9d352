"""Co-mentions: which way a record's sentences naming both sides of a triple claim take them.

Why: the relation models read a link in one sentence when its wording is one they learned, and a
cited paper often links a drug and its effect in words they miss ("Succinylcholine-induced masseter
muscle rigidity", "the selective 5-HT6 receptor antagonist Ro4368554 restores memory"). Which way
such a link goes is said by a few words between and around the two names. A linear model over those
words (`LinkModel`), trained on the relation corpora's gold links (`pipeline.training.comentions`),
reads every sentence of a record that names both sides and says which way the record links them:
up (+1: increases, causes, activates), down (-1: decreases, treats, inhibits) or not at all (0).

A record may name the two only in different sentences: a case report names the drug in its title and
the effect in its results ("Bupropion (Zyban) toxicity. ... Two patients developed severe cardiac
arrhythmias"), a trial its regimen and then its toxicities ("Grade 3-4 neutropenia occurred in 40%").
BioRED and BC5CDR annotate such links, document by document; a classifier of their own reads them
(`Apart`) by the words around each name, the words of the effect's sentences and of the title. Only
a cited record takes a side so (a record found by search names both because that is how it was found),
and only one naming the drug before the effect (`apart`).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from pipeline.claims.vocabulary import trigger_at
from pipeline.datatypes import RELATION_POLARITY, Mention, Relation
from pipeline.relations.triggers import HEDGE_CUES, NEGATION_CUES
from pipeline.verdicts.wording import lessened
from pipeline.verdicts.stance import directions

if TYPE_CHECKING:  # scikit-learn takes 2 s to import: only where a model is fitted or loaded
    from sklearn.pipeline import Pipeline

SIGNS = (-1, 0, 1)  # the classes a LinkModel predicts, in the order of its probabilities
CONTEXT = 3  # words read before the first name and after the second
FAR = 12  # of more words between two names, only the FAR nearest one or the other are read
APART_SENTENCES = 5  # of a side named apart, the sentences read (the first)
_WORD = re.compile(r"[A-Za-z0-9]+")  # hyphens split: "puromycin-induced" is a name and a trigger
_STEM = 6
# Where a claim's side is named in a sentence, given the sentence's mentions.
SideFinder = Callable[[Mention, str, list[Mention]], list[Mention]]


@dataclass(frozen=True)
class CoMention:
    """One sentence naming both sides: where each side and every other name is."""

    sentence: str
    subject: tuple[int, int]
    object: tuple[int, int]
    others: tuple[tuple[int, int], ...] = ()
    title: bool = False
    target: str = ""  # the object's entity type: a drug inhibits a gene but treats a disease


def _words(text: str, others: list[tuple[int, int]], offset: int) -> list[str]:
    """Lower-case word stems of a stretch of a sentence, each other name as one "<name>"."""
    found, seen = [], set()
    for match in _WORD.finditer(text):
        start = offset + match.start()
        other = next((o for o in others if o[0] <= start < o[1]), None)
        if other is not None:
            if other not in seen:
                seen.add(other)
                found.append("<name>")
            continue
        found.append(match.group().lower()[:_STEM])
    return found


def _triggers(sentence: str, start: int, end: int) -> list[str]:
    """The relations litmine's trigger table names between two offsets, in order."""
    found = []
    for word in _WORD.finditer(sentence[start:end]):
        hit = trigger_at(sentence, start + word.start(), start + word.end())
        if hit:
            found.append(hit[0])
    return found


@dataclass(frozen=True)
class Named:
    """One sentence naming one side of a claim (and not the other): where the side and every other name are."""

    sentence: str
    index: int  # the sentence's place in the record: 0 is the title
    span: tuple[int, int]
    others: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Apart:
    """A record naming both sides of a claim, never in one sentence: the sentences naming each."""

    subject: tuple[Named, ...]
    object: tuple[Named, ...]
    target: str = ""


def comention_features(item: CoMention) -> dict[str, float]:
    """The words and cues of one co-mention, as sparse features for a linear model."""
    sentence = item.sentence
    first, second = sorted((item.subject, item.object))
    order = "s>o" if item.subject == first else "o>s"
    others = [o for o in item.others if not (o[0] < first[1] and first[0] < o[1])
              and not (o[0] < second[1] and second[0] < o[1])]
    between = _words(sentence[first[1]:second[0]], others, first[1])
    before = _words(sentence[:first[0]], others, 0)[-CONTEXT:]
    after = _words(sentence[second[1]:], others, second[1])[:CONTEXT]
    features: dict[str, float] = {f"order={order}": 1.0, f"target={item.target}": 1.0}
    if len(between) > FAR:
        features["far"] = 1.0
        between = between[:FAR // 2] + between[-FAR // 2:]
    for word in between:
        features[f"between={word}"] = 1.0
        features[f"{order}:between={word}"] = 1.0
        features[f"{item.target}:between={word}"] = 1.0
    for pair in zip(between, between[1:]):
        features[f"between={' '.join(pair)}"] = 1.0
    if between:  # the words next to each name say most: "X-induced Y", "X attenuated the Z-induced Y"
        features[f"{order}:after_first={between[0]}"] = 1.0
        features[f"{order}:before_second={between[-1]}"] = 1.0
    for word in before:
        features[f"before={word}"] = 1.0
    for word in after:
        features[f"after={word}"] = 1.0
    if not between:
        features["adjacent"] = 1.0
    triggers = _triggers(sentence, first[1], second[0])
    if triggers:
        features[f"first_trigger={triggers[0]}"] = 1.0
        features[f"last_trigger={triggers[-1]}"] = 1.0
    for relation in _triggers(sentence, second[1], min(len(sentence), second[1] + 40))[:1]:
        features[f"trigger_after={relation}"] = 1.0
    signs = [s for _, s in directions(sentence[first[1]:second[0]])]
    if signs:
        features[f"first_direction={signs[0]:+d}"] = 1.0
        features["direction_sum"] = float(max(-2, min(2, sum(signs))))
    if NEGATION_CUES.search(sentence[first[1]:second[0]]):
        features["negated_between"] = 1.0
    if HEDGE_CUES.search(sentence):
        features["hedged"] = 1.0
    if "<name>" in between:
        features["name_between"] = 1.0
    if item.title:
        features["title"] = 1.0
    return features


def record_features(items: list[CoMention]) -> dict[str, float]:
    """One record's co-mentions of a pair as one row: each feature that any of them has (a title's
    under its own name too), and how many there are."""
    features: dict[str, float] = {}
    for item in items:
        for name, value in comention_features(item).items():
            features[name] = max(features.get(name, 0.0), value)
            if item.title:
                features[f"title:{name}"] = max(features.get(f"title:{name}", 0.0), value)
    features["comentions"] = float(np.log1p(len(items)))
    return features


def _context(named: Named) -> tuple[list[str], list[str]]:
    """The CONTEXT words before and after a side's name in its sentence, other names masked."""
    others = [o for o in named.others if not (o[0] < named.span[1] and named.span[0] < o[1])]
    return (_words(named.sentence[:named.span[0]], others, 0)[-CONTEXT:],
            _words(named.sentence[named.span[1]:], others, named.span[1])[:CONTEXT])


def apart_features(item: Apart) -> dict[str, float]:
    """The words and cues of a record naming both sides apart, as sparse features for the apart
    classifier: per side, the words next to its names and the triggers and directions of its
    sentences; every word of the effect's sentences ("Minor side effects included nausea", "Grade 3-4
    neutropenia occurred in 40%"); the title's words where it names a side; how far apart the two are."""
    features: dict[str, float] = {f"target={item.target}": 1.0}
    for side, named in (("s", item.subject), ("o", item.object)):
        for one in named[:APART_SENTENCES]:
            before, after = _context(one)
            for word in before:
                features[f"{side}_before={word}"] = 1.0
            for word in after:
                features[f"{side}_after={word}"] = 1.0
            for relation in _triggers(one.sentence, 0, len(one.sentence)):
                features[f"{side}_trigger={relation}"] = 1.0
            for _, sign in directions(one.sentence):
                features[f"{side}_direction={sign:+d}"] = 1.0
            if NEGATION_CUES.search(one.sentence):
                features[f"{side}_negated"] = 1.0
            if one.index == 0:
                features[f"{side}_title"] = 1.0
            if side == "o":
                for word in _words(one.sentence, list(one.others), 0):
                    features[f"o_word={word}"] = 1.0
        features[f"{side}_sentences"] = float(np.log1p(len(named)))
    title = next((one for one in item.subject + item.object if one.index == 0), None)
    for word in _words(title.sentence, list(title.others), 0) if title else []:
        features[f"title_word={word}"] = 1.0
    gap = min(abs(s.index - o.index) for s in item.subject for o in item.object)
    features[f"gap={min(gap, 4)}"] = 1.0
    features["subject_first"] = float(item.subject[0].index < item.object[0].index)
    return features


@dataclass
class LinkModel:
    """The trained link classifier and the thresholds above which a record takes a side, chosen by
    cross-validation over the training links (`pipeline.training.comentions`)."""

    classifier: Pipeline
    direction_threshold: float  # P(the likelier direction | a link) above which a record takes a side
    cited_link_threshold: float  # P(a link) above which a cited record may take one
    search_link_threshold: float  # the same for a record found by search
    key: str = ""
    cross_validation: dict[str, float] = field(default_factory=dict)
    # the classifier of a cited record naming the two sides only apart (`Apart`), and the same thresholds
    # for it; None (and above 1, never), a model trained before it read such records
    apart_classifier: Pipeline | None = None
    apart_direction_threshold: float = 1.01
    apart_link_threshold: float = 1.01

    def probabilities(self, rows: list[dict[str, float]], apart: bool = False) -> list[dict[int, float]]:
        """P(down), P(none), P(up) of each row of features (`record_features`, or `apart_features` for
        the apart classifier), in one call of the model."""
        classifier = self.apart_classifier if apart else self.classifier
        predicted = classifier.predict_proba(rows)
        return [{int(sign): float(p) for sign, p in zip(classifier.classes_, row)} for row in predicted]


@dataclass(frozen=True)
class Link:
    """Which way a record links a claim's two sides, how sure the model is, and the sentence that says most."""

    sign: int  # the likelier direction, +1 or -1
    direction: float  # P(that direction | the record links them)
    linked: float  # P(the record links them)
    sentence: str
    sentence_index: int
    apart: bool = False  # read from sentences naming one side each (`Apart`)
    comention: CoMention | None = None  # the sentence's co-mention (None when read apart)


def comentions(claimed: Relation, sentences: list[tuple[str, list[Mention]]],
               sides: SideFinder) -> list[tuple[int, CoMention]]:
    """(sentence index, co-mention) for each sentence of a record naming both of the claim's sides
    (`sides(side, sentence, mentions)` finds a side's spans) and nowhere of less of one ("low folate
    intake ... than with a folate intake >/=400", `pipeline.verdicts.reconcile.lessened`); the first
    sentence is the title."""
    found = []
    for index, (sentence, mentions) in enumerate(sentences):
        subjects = sides(claimed.subject, sentence, mentions)
        objects = sides(claimed.object, sentence, mentions) if subjects else []
        pairs = [(s, o) for s in subjects for o in objects if not (s.start < o.end and o.start < s.end)]
        if not pairs or any(lessened(sentence, m.start, m.end) for m in subjects + objects):
            continue
        s, o = min(pairs, key=lambda p: abs(p[0].start - p[1].start))
        others = tuple((m.start, m.end) for m in mentions)
        found.append((index, CoMention(sentence, (s.start, s.end), (o.start, o.end), others, index == 0,
                                       claimed.object.type)))
    return found


def apart(claimed: Relation, sentences: list[tuple[str, list[Mention]]], sides: SideFinder) -> Apart | None:
    """The sentences naming each of the claim's sides, where the record names both but never in one
    sentence, the drug before the effect (None otherwise: `comentions` reads a record naming them
    together). An effect named first is as often what the drug was given for as what it caused: of
    the directed pairs the train documents of BioRED and BC5CDR name apart, those whose effect comes
    first go down (the drug treats it) 12 times in 52, those whose drug comes first 16 in 202."""
    named: dict[str, list[Named]] = {"subject": [], "object": []}
    for index, (sentence, mentions) in enumerate(sentences):
        others = tuple((m.start, m.end) for m in mentions)
        found = {side: sides(mention, sentence, mentions) for side, mention in
                 (("subject", claimed.subject), ("object", claimed.object))}
        if found["subject"] and found["object"]:
            return None
        for side, spans in found.items():
            if spans:
                named[side].append(Named(sentence, index, (spans[0].start, spans[0].end), others))
    if not named["subject"] or not named["object"] or _body_first(named["object"]) < _body_first(named["subject"]):
        return None
    return Apart(tuple(named["subject"]), tuple(named["object"]), claimed.object.type)


def _body_first(named: list[Named]) -> int:
    """Where the record's body (after its title) first names a side; 0 when only its title does."""
    return min((one.index for one in named if one.index > 0), default=0)


def _direction(p: dict[int, float]) -> tuple[int, float]:
    """The likelier direction and its probability given a link."""
    up, down = p.get(1, 0.0), p.get(-1, 0.0)
    total = max(up + down, 1e-12)
    return (1, up / total) if up >= down else (-1, down / total)


def read_link(model: LinkModel, found: list[tuple[int, CoMention]], named: Apart | None = None) -> Link | None:
    """The record's link between the two sides, or None when it names them together nowhere (and
    `named` apart does not name them either)."""
    if not found:
        return _read_apart(model, named) if named is not None and model.apart_classifier is not None else None
    # the record's co-mentions together, then each alone (the sentence that says most)
    p, *alone = model.probabilities([record_features([c for _, c in found]),
                                     *(record_features([c]) for _, c in found)])
    sign, direction = _direction(p)
    best = found[max(range(len(found)), key=lambda i: alone[i].get(sign, 0.0))]
    return Link(sign, direction, 1.0 - p.get(0, 0.0), best[1].sentence, best[0], comention=best[1])


def _read_apart(model: LinkModel, named: Apart) -> Link:
    """The link of a record naming the two sides apart; its sentence, the two nearest naming each."""
    (p,) = model.probabilities([apart_features(named)], apart=True)
    sign, direction = _direction(p)
    s, o = min(((s, o) for s in named.subject for o in named.object),
               key=lambda pair: abs(pair[0].index - pair[1].index))
    first, second = sorted((s, o), key=lambda n: n.index)
    return Link(sign, direction, 1.0 - p.get(0, 0.0), f"{first.sentence} [...] {second.sentence}", o.index, True)


def link_side(claimed: Relation, link: Link, model: LinkModel, cited: bool) -> tuple[int, float]:
    """(+1 the link says what the claim says, -1 the opposite, 0 neither; with its weight). A record
    found by search must show the link more surely than a cited one, whose citing sentence says it is
    there; one that names the two only apart takes no side, a cited one only above its own thresholds.
    No side for a claim without a direction or a link the model is unsure of."""
    polarity = RELATION_POLARITY.get(claimed.relation, 0)
    if link.apart and not cited:
        return 0, 0.0
    if link.apart:
        needed, direction = model.apart_link_threshold, model.apart_direction_threshold
    else:
        needed = model.cited_link_threshold if cited else model.search_link_threshold
        direction = model.direction_threshold
    if polarity == 0 or link.direction < direction or link.linked < needed:
        return 0, 0.0
    agrees = 1 if link.sign == polarity else -1
    weight = link.direction * link.linked
    return (-agrees if claimed.negated else agrees), weight
