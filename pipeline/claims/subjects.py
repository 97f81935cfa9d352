"""Who a claim is about when its sentence does not say, and the claims that follow from it.

A document's title names its topic ("SSRI-Induced Blunted Affect"): the drug that sentences
naming no subject are about, under headings that name no drug of their own. The clause reader
is given the drug the sentence before was about, for "It also inhibits …". Two kinds of claim
rest on such subjects alone:

- "- REM sleep suppression: …" under an SSRI title: a bullet's head is what the document's
  topic (or its section's drug) does, with the head as object;
- "with Fluoxetine and Fluvoxamine sharing its Kir4.1 inhibition": ellipsis, resolved to the
  earlier claim's relation and object.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from pipeline.claims.clauses import CLAUSE_CONFIDENCE, IMPLICIT_FACTOR, TEXT_OBJECT_FACTOR, Found, Unit, anchored
from pipeline.claims.vocabulary import (DESCRIPTOR_HEADS, DIRECTIONAL, GENETIC_CUES, HEAD_FILLERS, REGION_WORDS,
                                        object_text, relation_on, same_entity, trigger_at, trigger_in)
from pipeline.datatypes import DocSentence, Document, Mention, Relation
from pipeline.entities.dictionary import EntityTagger
from pipeline.entities.kb import KnowledgeBase

# How each kind of claim read here was found (Relation.extractor).
ELLIPSIS, BULLET_HEAD, TOPIC_EFFECT = "ellipsis", "bullet-head", "topic-effect"


# --- the document's subjects -------------------------------------------------------

@dataclass(frozen=True)
class Topic:
    """What a document is about: the subject of sentences that name none."""

    agent: Mention | None  # the drug or drug class ("SSRI" in "SSRI-Induced Blunted Affect")
    effect: Mention | None = None  # what the title says it does ("Blunted Affect")


def is_drug(mention: Mention, kb: KnowledgeBase) -> bool:
    """A drug class or a member of one; serotonin or glutamate in a heading are not what it is about."""
    if mention.type != "Chemical" or not mention.id:
        return False
    return mention.id.startswith("CLASS:") or bool(kb.parents(mention.id))


def document_topic(document: Document, tagger: EntityTagger, kb: KnowledgeBase) -> Topic:
    """The drug a document's title is about and, after it, the effect the title names."""
    mentions = tagger.tag(document.title)
    agent = next((m for m in mentions if is_drug(m, kb)), None)
    if agent is None:
        return Topic(None)
    effect = next((m for m in mentions if m.type == "Disease" and m.start > agent.start), None)
    return Topic(anchored(agent), anchored(effect) if effect else None)


def section_subjects(document: Document, tagger: EntityTagger, kb: KnowledgeBase, topic: Topic) -> dict[str, Mention]:
    """The implicit subject under each heading: the drug the heading names, else the title's."""
    subjects: dict[str, Mention] = {}
    for sentence in document.sentences:
        if sentence.section in subjects:
            continue
        drug = next((m for m in tagger.tag(sentence.section) if is_drug(m, kb)), None)
        subject = anchored(drug) if drug else topic.agent
        if subject is not None:
            subjects[sentence.section] = subject
    return subjects


# --- bullets -------------------------------------------------------------------

def bullet_head(text: str) -> int | None:
    """Where a bullet's "head: " ends, when it has a short one."""
    colon = text.find(": ")
    if colon <= 0 or len(text[:colon].split()) > 8:
        return None
    return colon


def head_claim(sentence: DocSentence, head_end: int, units: list[Unit], subject: Mention,
               topic: Topic, body_found: list[Found]) -> list[Found]:
    """The claim a mechanism bullet's head makes about the bullet's subject: "REM sleep
    suppression: …" → subject decreases "REM sleep". The relation comes from the head's trigger,
    else the trigger the body opens with ("Amygdala reactivity: Diminished response …"), else its
    first directional trigger, else "modulates". A head that describes the phenomenon ("Onset
    pattern") stands for the topic's effect; under a genetic one, the genes are associated with it."""
    text = sentence.text
    head = text[:head_end]
    body_start = head_end + 2
    words = list(re.finditer(r"[\w+][\w+\-/.']*(?<![\-/.'])", head))
    if not words:
        return []
    if words[-1].group().lower() in DESCRIPTOR_HEADS and topic.effect is not None:
        if body_found:
            return []
        genes = [u.mention for u in units if u.mention and u.mention.type == "Gene" and u.start >= body_start]
        if genes and GENETIC_CUES.search(text):
            return [Found(Relation(g, "associated_with", topic.effect, text, sentence.index,
                                   confidence=round(CLAUSE_CONFIDENCE * IMPLICIT_FACTOR, 3), extractor=TOPIC_EFFECT))
                    for g in dict.fromkeys(genes)]
        return [Found(Relation(subject, "causes", topic.effect, text, sentence.index,
                               confidence=round(CLAUSE_CONFIDENCE * IMPLICIT_FACTOR, 3), extractor=TOPIC_EFFECT))]
    relation = None
    kept = []
    for w in words:
        hit = trigger_at(head, w.start(), w.end())
        if hit and (w is words[0] or w is words[-1]):
            relation = relation or hit[0]
        elif w.group().lower() not in HEAD_FILLERS:
            kept.append(w)
    if not kept:
        return []
    body = text[body_start:]
    if relation is None:
        leading = " ".join(body.split()[:2])
        relation = trigger_in(leading)
    if relation is None:
        directional = [rel for w in re.finditer(r"[\w-]+", body)
                       if (hit := trigger_at(body, w.start(), w.end())) and (rel := hit[0]) in DIRECTIONAL]
        relation = directional[0] if directional else "modulates"
    start, end = kept[0].start(), kept[-1].end()
    mentions = [u.mention for u in units if u.mention and u.start >= start and u.end <= end]
    phrase = head[start:end]
    core = [w for w in kept if not any(m.start <= w.start() < m.end for m in mentions)]
    if len(mentions) == 1 and same_entity(mentions[0], [(w.group(), w.start()) for w in core]):
        obj = replace(mentions[0], start=start, end=end, text=object_text(phrase) if core else mentions[0].text)
    else:
        if kept[-1].group().lower() in REGION_WORDS:
            phrase += " activity"
        obj = Mention(start, end, object_text(phrase), "", "", "")
    if any(f.relation.object.key == obj.key for f in body_found) or \
            obj.key == subject.key:
        return []
    confidence = CLAUSE_CONFIDENCE * IMPLICIT_FACTOR * (1 if obj.id else TEXT_OBJECT_FACTOR)
    return [Found(Relation(subject, relation_on(relation, obj), obj, text, sentence.index,
                           confidence=round(confidence, 3), extractor=BULLET_HEAD))]


# --- ellipsis --------------------------------------------------------------------

ELLIPSIS_REACH = 40  # how far after a drug its cue of shared action may stand ("… and Fluvoxamine sharing")
_ELLIPSIS = re.compile(r"\b(?:shar(?:e|es|ed|ing)|likewise|similarly|as well|too)\b", re.I)
_ELLIPSIS_BEFORE = re.compile(r"\b(?:as (?:do|does|did)|like|and so (?:do|does|did))\s+$", re.I)


def ellipses(text: str, index: int, units: list[Unit], found: list[Found]) -> list[Found]:
    """"Sertraline inhibits Kir4.1 …, with Fluoxetine and Fluvoxamine sharing its Kir4.1 inhibition":
    a drug that is the subject of nothing, next to a cue of shared action, does what an earlier
    drug of the sentence does, to the objects the cue's phrase names (all of them if it names none)."""
    subjects = {f.relation.subject.start for f in found}
    added: list[Found] = []
    for n, u in enumerate(units):
        m = u.mention
        if not m or m.type != "Chemical" or m.start in subjects:
            continue
        clause_end = next((v.start for v in units[n:] if v.word in (";", ".")), len(text))
        cue = _ELLIPSIS.search(text, u.end, min(clause_end, u.end + ELLIPSIS_REACH))
        if cue and not re.search(r"[,;:]", text[u.end:cue.start()]):
            named = {v.mention.key for v in units if v.mention and cue.end() <= v.start < clause_end}
        elif _ELLIPSIS_BEFORE.search(text, 0, u.start):
            named = set()
        else:
            continue
        earlier = [f for f in found if f.relation.subject.start < m.start and f.relation.subject.type == "Chemical"]
        if not earlier:
            continue
        first = earlier[0].relation.subject.start
        for f in earlier:
            rel = f.relation
            if rel.subject.start == first and (not named or rel.object.key in named):
                copy = replace(rel, subject=m, sentence_index=index, confidence=round(rel.confidence * 0.9, 3),
                               extractor=ELLIPSIS)
                added.append(Found(copy))
    return added
