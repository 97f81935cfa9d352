"""Co-mentions: which way a record's sentences naming both sides of a triple claim take them.

Why: the relation models read a link in one sentence when its wording is one they learned, and a
cited paper often links a drug and its effect in words they miss ("Succinylcholine-induced masseter
muscle rigidity", "the selective 5-HT6 receptor antagonist Ro4368554 restores memory"). Which way
such a link goes is said by a few words between and around the two names. A linear model over those
words (`LinkModel`), trained on the relation corpora's gold links (`pipeline.training.comentions`),
reads every sentence of a record that names both sides and says which way the record links them:
up (+1: increases, causes, activates), down (-1: decreases, treats, inhibits) or not at all (0).
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
from pipeline.verdicts.stance import directions

if TYPE_CHECKING:  # scikit-learn takes 2 s to import: only where a model is fitted or loaded
    from sklearn.pipeline import Pipeline

SIGNS = (-1, 0, 1)  # the classes a LinkModel predicts, in the order of its probabilities
CONTEXT = 3  # words read before the first name and after the second
FAR = 12  # of more words between two names, only the FAR nearest one or the other are read
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

    def probabilities(self, groups: list[list[CoMention]]) -> list[dict[int, float]]:
        """P(down), P(none), P(up) of each group of co-mentions of a pair, in one call of the model."""
        rows = self.classifier.predict_proba([record_features(items) for items in groups])
        return [{int(sign): float(p) for sign, p in zip(self.classifier.classes_, row)} for row in rows]


@dataclass(frozen=True)
class Link:
    """Which way a record links a claim's two sides, how sure the model is, and the sentence that says most."""

    sign: int  # the likelier direction, +1 or -1
    direction: float  # P(that direction | the record links them)
    linked: float  # P(the record links them)
    sentence: str
    sentence_index: int


def comentions(claimed: Relation, sentences: list[tuple[str, list[Mention]]],
               sides: SideFinder) -> list[tuple[int, CoMention]]:
    """(sentence index, co-mention) for each sentence of a record naming both of the claim's sides
    (`sides(side, sentence, mentions)` finds a side's spans); the first sentence is the title."""
    found = []
    for index, (sentence, mentions) in enumerate(sentences):
        subjects = sides(claimed.subject, sentence, mentions)
        objects = sides(claimed.object, sentence, mentions) if subjects else []
        pairs = [(s, o) for s in subjects for o in objects if not (s.start < o.end and o.start < s.end)]
        if not pairs:
            continue
        s, o = min(pairs, key=lambda p: abs(p[0].start - p[1].start))
        others = tuple((m.start, m.end) for m in mentions)
        found.append((index, CoMention(sentence, (s.start, s.end), (o.start, o.end), others, index == 0,
                                       claimed.object.type)))
    return found


def _direction(p: dict[int, float]) -> tuple[int, float]:
    """The likelier direction and its probability given a link."""
    up, down = p.get(1, 0.0), p.get(-1, 0.0)
    total = max(up + down, 1e-12)
    return (1, up / total) if up >= down else (-1, down / total)


def read_link(model: LinkModel, found: list[tuple[int, CoMention]]) -> Link | None:
    """The record's link between the two sides, or None when it names them together nowhere."""
    if not found:
        return None
    # the record's co-mentions together, then each alone (the sentence that says most)
    p, *alone = model.probabilities([[c for _, c in found], *([c] for _, c in found)])
    sign, direction = _direction(p)
    best = found[max(range(len(found)), key=lambda i: alone[i].get(sign, 0.0))]
    return Link(sign, direction, 1.0 - p.get(0, 0.0), best[1].sentence, best[0])


def link_side(claimed: Relation, link: Link, model: LinkModel, cited: bool) -> tuple[int, float]:
    """(+1 the link says what the claim says, -1 the opposite, 0 neither; with its weight). A record
    found by search must show the link more surely than a cited one, whose citing sentence says it is
    there. No side for a claim without a direction or a link the model is unsure of."""
    polarity = RELATION_POLARITY.get(claimed.relation, 0)
    needed = model.cited_link_threshold if cited else model.search_link_threshold
    if polarity == 0 or link.direction < model.direction_threshold or link.linked < needed:
        return 0, 0.0
    agrees = 1 if link.sign == polarity else -1
    weight = link.direction * link.linked
    return (-agrees if claimed.negated else agrees), weight
