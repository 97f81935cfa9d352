"""Relations between entity mentions: who does what to whom, in one sentence.

The baseline extractor pairs a drug with a gene/protein or disease (and a gene
with a disease) in the same sentence when a trigger word links them, and marks
the pair negated or hedged from cue words. Its trigger words are litmine's one
table of them (`TRIGGER_TABLE`), which the claim rules read too. Claims are read with it,
by their author's verb; evidence is read by the trained relation models
(pipeline.relations.model). Both satisfy `RelationExtractor` and share the negation
and hedging cues here. `pipeline.relations.triples` chains one record's relations into
drug–target–effect triples.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pipeline.datatypes import Mention, Relation


@dataclass(frozen=True)
class Trigger:
    """One relation of litmine's vocabulary (its polarity is `RELATION_POLARITY`'s), the words
    that name it and how it turns.

    `words` are what papers and claims alike say; `prose_words` what claim prose says where papers
    rarely do ("deficits", "involved in"), read by the claim rules alone; `particles` the words a
    claim's verb takes before its object ("associated with", "binds to"). `opposite` is the
    relation that says the reverse ("inhibition of X" that increases Y: X decreases Y);
    `on_process` what the relation becomes on a process rather than an entity ("REM sleep
    suppression" decreases REM sleep; none: it stays itself); `directional` whether it says
    which way its object goes.
    """

    relation: str
    words: str
    prose_words: str = ""
    particles: tuple[str, ...] = ()
    opposite: str = ""
    on_process: str = ""
    directional: bool = False


# The one table of trigger words, most specific first: the first relation whose trigger links a
# pair wins. The trigger baseline and the relation models' features read `words` (TRIGGERS); the
# claim rules (pipeline.claims) read the rest too. SciFact's stance features keep direction words of
# their own (pipeline.verdicts.stance): which way any quantity goes ("improved" is up there), not
# which relation a verb names ("improves" treats, here).
TRIGGER_TABLE: tuple[Trigger, ...] = (
    Trigger("antagonist_of", r"antagoni[sz]\w*|blocker\w*", opposite="agonist_of", on_process="decreases"),
    Trigger("agonist_of", r"agonis\w*", opposite="antagonist_of", on_process="increases"),
    Trigger("substrate_of", r"substrates?|metaboli[sz]ed by"),
    Trigger("inhibits", r"inhibit\w*|block\w*|suppress\w*|abolish\w*",
            opposite="activates", on_process="decreases", directional=True),
    Trigger("activates", r"activat\w*|stimulat\w*|potentiat\w*",
            opposite="inhibits", on_process="increases", directional=True),
    Trigger("binds", r"bind\w*|bound|affinity", particles=("to",)),
    Trigger("decreases", r"decreas\w*|reduc\w*|downregulat\w*|down-regulat\w*|desensiti[sz]\w*|"
                         r"attenuat\w*|diminish\w*|lower\w*|dampen\w*|impair\w*|blunt\w*|disrupt\w*",
            prose_words=r"deficits?|deficienc\w*|loss", opposite="increases", directional=True),
    Trigger("increases", r"increas\w*|elevat\w*|upregulat\w*|up-regulat\w*|enhanc\w*|augment\w*|"
                         r"raise[sd]?|boost\w*",
            opposite="decreases", directional=True),
    Trigger("causes", r"caus\w*|induc(?!ible)\w*|produc\w*|provok\w*|lead[s]? to|led to|result\w* in|trigger\w*|"
                      r"side[- ]effects?|adverse"),
    # "patients treated with X" is exposure to X, not X treating what came before
    Trigger("treats", r"treat\w*\b(?! with)|therap\w*|alleviat\w*|relie\w*|ameliorat\w*|improv\w*|"
                      r"effective (?:in|against|for)|prevent\w*|protect\w* against"),
    Trigger("associated_with", r"associat\w*|correlat\w*|linked|link|related to|implicated",
            prose_words=r"involved in|implicated in|contribut\w* to|depend\w* (?:on|upon)|"
                        r"(?:crucial|essential|required|necessary|important) (?:for|to)",
            particles=("with", "to")),
    Trigger("modulates", r"modulat\w*|regulat\w*|interfer\w*|affect\w*|alter\w*|chang\w*|influenc\w*",
            prose_words=r"normali[sz]\w*", particles=("with", "on", "upon")),
)
# (relation, words) in the table's order: what papers say.
TRIGGERS: list[tuple[str, str]] = [(t.relation, t.words) for t in TRIGGER_TABLE]
_TRIGGER_RES = [(relation, re.compile(rf"\b(?:{pattern})", re.I)) for relation, pattern in TRIGGERS]

# A coordinated verb in the past tense, which negation before it does not reach: "and increased",
# "but significantly reduced".
_NEW_PREDICATE = re.compile(rf"\b(?:and|but)\s+(?:\w+ly\s+)?(?:{'|'.join(w for _, w in TRIGGERS)})(?<=ed)\b", re.I)

# "no" only in lower or title case: "NO" is nitric oxide.
NEGATION_CUES = re.compile(
    r"\b(?:not|never|neither|nor|without|failed to|fails to|fail to|unable to|lack of|lacked|"
    r"absence of|did not|does not|do not|cannot|could not|was not|were not|is not|are not)\b|\b(?-i:[Nn]o)\b", re.I)
# A negated passive right after a pair: "..., while AP-1 was not", "(MAO-A was not affected)".
NEGATED_AFTER = re.compile(r"^\W{0,3}(?:was|were|is|are)\s+not\b", re.I)
HEDGE_CUES = re.compile(
    r"\b(?:may|might|could|possibl\w*|perhaps|maybe|suggest\w*|hypothes\w*|speculat\w*|"
    r"potential\w*|putative\w*|likely|unlikely|appear\w*|seem\w*|whether|presumabl\w*)\b", re.I)

# Which mention types may stand in a relation, as (subject, object).
PAIR_TYPES = {("Chemical", "Gene"), ("Chemical", "Disease"), ("Gene", "Disease")}

# How far past a pair a nominal trigger may sit ("Kir4.1 inhibition", "HTR1A desensitization").
NOMINAL_WINDOW = 24
# Mentions further apart than this are not paired: long spans mostly join unrelated clauses.
MAX_GAP = 160


class RelationExtractor(Protocol):
    name: str
    version: str

    def extract(self, sentence: str, sentence_index: int, mentions: list[Mention]) -> list[Relation]: ...

    def extract_many(self, sentences: Sequence[tuple[str, int, list[Mention]]]) -> list[list[Relation]]:
        """`extract` of each (sentence, index, mentions), in order: what a batch of records reads."""
        ...


def _mask(sentence: str, mentions: list[Mention]) -> str:
    """The sentence with mention texts blanked, so that "reuptake inhibitor" inside
    a drug-class name is not read as a trigger."""
    chars = list(sentence)
    for m in mentions:
        chars[m.start:m.end] = " " * (m.end - m.start)
    return "".join(chars)


def first_trigger(text: str, offset: int) -> tuple[str, int] | None:
    """The earliest trigger in `text` as (relation, its offset + `offset`)."""
    best: tuple[str, int] | None = None
    for relation, pattern in _TRIGGER_RES:
        match = pattern.search(text)
        if match and (best is None or offset + match.start() < best[1]):
            best = (relation, offset + match.start())
    return best


def _trigger_between(masked: str, subject: Mention, obj: Mention) -> tuple[str, int] | None:
    """The relation linking a pair and the trigger's offset, or None.

    A trigger counts between the two mentions ("sertraline inhibits Kir4.1"),
    or right after the later one as a nominalization ("sertraline-induced
    Kir4.1 inhibition", "its Kir4.1 inhibition"), or as "X-induced"/"X-mediated".
    """
    first, second = sorted((subject, obj), key=lambda m: m.start)
    if second.start - first.end > MAX_GAP:
        return None
    found = first_trigger(masked[first.end:second.start], first.end)
    if found:
        return found
    tail = masked[second.end:second.end + NOMINAL_WINDOW]
    found = first_trigger(tail, second.end)
    if found and not re.search(r"[,;:]", tail[:found[1] - second.end]):
        return found
    return None


def _clause_start(sentence: str, start: int) -> int:
    """Where the clause holding `start` begins: after the last ;/:/but/while/although before it ("has not
    been estimated, although smoking has been positively associated with hearing loss")."""
    return max(sentence.rfind(sep, 0, start)
               for sep in (";", ":", " but ", ", while", ", whereas", ", although", ", though")) + 1


# "but not ouabain," / ", not veins,": a negated aside between a pair's two names, closed by a
# comma before the second, is about what it names, not about the pair.
_ASIDE_OPENING = re.compile(r"(?:,|\bbut)\s*$", re.I)
_ASIDE_REST = re.compile(r"(?:[^,;:()]|\([^()]*\))*,")  # a bracket inside it too: "but not in TLR4 (TLR4)-mutant mice,"


def _aside(sentence: str, cue: re.Match[str], start: int, end: int) -> bool:
    """Whether a negation cue opens an aside lying between a pair's names: "Digoxin or digitoxin,
    but not ouabain, decreased P450scc" is said of digoxin and P450scc."""
    return (cue.group().lower() == "not" and cue.start() > start
            and bool(_ASIDE_OPENING.search(sentence, max(start, cue.start() - 6), cue.start()))
            and (rest := _ASIDE_REST.match(sentence, cue.end(), end)) is not None and rest.end() < end)


# A negated predicate whose object holds both names ("in contrast to no effect on rilmenidine hypotension",
# "did not alter cocaine-induced hyperactivity") denies that something else acts on the pair, not the pair.
# With "although" as a clause's start, on the two held-out samples of pharma train claims: 1 opposite
# verdict right (rilmenidine and hypotension), no other changed; the cue sample's figures unchanged.
_ACTS_ON = re.compile(r"\s+(?:\w+\s+){0,2}?(?:(?:effects?|influence|impact|changes?)\s+(?:on|in)|"
                      r"(?:affect|alter|change|modif|influenc|modulat)\w*)\s+(?:the\s+)?", re.I)


# "not only an activator of CA but also ...": what follows is affirmed, not denied.
_ONLY = re.compile(r"\s+(?:only|just|merely|simply)\b", re.I)
# "CAA but not acrolein inhibited the cysteine proteases": a "but not" right after the first name names
# an alternative to it, and what it says of the second name is said of the first.
_BUT_NOT = re.compile(r"\s*,?\s*but\s+$", re.I)


def _alternative(sentence: str, cue: re.Match[str], first_end: int, end: int) -> bool:
    """Whether a "not" opens an alternative to the first name, right after it, with words of its own
    (a name and a predicate) before the second: "CAA but not acrolein inhibited caspase-3"."""
    return (cue.group().lower() == "not" and bool(_BUT_NOT.fullmatch(sentence, first_end, cue.start()))
            and len(re.findall(r"[\w()-]+", sentence[cue.end():end])) >= 3)


def _acts_on_pair(sentence: str, cue: re.Match[str], start: int) -> bool:
    """Whether a negation cue's predicate takes the pair, first name onwards, as its object."""
    reach = _ACTS_ON.match(sentence, cue.end(), start)
    return reach is not None and reach.end() == start


def is_negated(sentence: str, start: int, end: int, first_end: int) -> bool:
    """A negation cue in the clause that holds a pair (and its trigger), from the clause's start
    to `end`: "did not inhibit", "no association between", "PC3, but not PC2"; or a negated
    passive right after it ("while AP-1 was not"). A verb of its own after the cue ends its
    reach: "had no sparing effect and increased bradycardia" increased bradycardia; a negated
    aside between the two names is about something else (`_aside`; right after the first name, which
    ends at `first_end`, also one without a comma: `_alternative`), and so is a negated predicate
    taking the pair as its object (`_acts_on_pair`: "no effect on rilmenidine hypotension").
    "Not only" affirms."""
    cues = [cue for cue in NEGATION_CUES.finditer(sentence, _clause_start(sentence, start), end)
            if not _aside(sentence, cue, start, end) and not _acts_on_pair(sentence, cue, start)
            and not _ONLY.match(sentence, cue.end())
            and not _alternative(sentence, cue, first_end, end)]
    verb = _NEW_PREDICATE.search(sentence, cues[-1].end()) if cues else None
    return bool(cues and not (verb and verb.start() < end) or NEGATED_AFTER.search(sentence[end:end + 20]))


def is_hedged(sentence: str) -> bool:
    """A speculation cue anywhere in the sentence: "may", "suggest", "hypothesize", "whether"."""
    return bool(HEDGE_CUES.search(sentence))


def _oriented(a: Mention, b: Mention) -> tuple[Mention, Mention] | None:
    if (a.type, b.type) in PAIR_TYPES:
        return a, b
    if (b.type, a.type) in PAIR_TYPES:
        return b, a
    return None


class TriggerExtractor:
    """Same-sentence pairs linked by a trigger word, with negation and hedging cues."""

    name = "trigger-baseline"
    version = "2"

    def extract(self, sentence: str, sentence_index: int, mentions: list[Mention]) -> list[Relation]:
        relations: dict[tuple[str, str, str], Relation] = {}
        masked = _mask(sentence, mentions)
        for i, a in enumerate(mentions):
            for b in mentions[i + 1:]:
                pair = _oriented(a, b)
                if pair is None or _same_concept(a, b):
                    continue
                subject, obj = pair
                linked = _trigger_between(masked, subject, obj)
                if linked is None or _beyond_compound(sentence, mentions, subject, obj, linked[1]):
                    continue
                relation, at = linked
                lo = min(subject.start, obj.start)
                gap = abs(obj.start - subject.start)
                found = Relation(
                    subject=subject, relation=relation, object=obj, sentence=sentence,
                    sentence_index=sentence_index,
                    negated=is_negated(sentence, lo, at + 1, min(subject, obj, key=lambda m: m.start).end),
                    hedged=is_hedged(sentence),
                    confidence=round(max(0.3, 0.9 - gap / 400), 3),
                    extractor=self.name,
                )
                key = (subject.key, relation, obj.key)
                if key not in relations or relations[key].confidence < found.confidence:
                    relations[key] = found
        return list(relations.values())

    def extract_many(self, sentences: Sequence[tuple[str, int, list[Mention]]]) -> list[list[Relation]]:
        return [self.extract(*sentence) for sentence in sentences]


def _beyond_compound(sentence: str, mentions: list[Mention], a: Mention, b: Mention, at: int) -> bool:
    """A trigger glued to the first mention ("SSRI-induced") modifies the noun phrase right
    after it: "SSRI-induced emotional blunting ... despite core depressive symptoms" says
    nothing of SSRIs causing depression."""
    first, second = sorted((a, b), key=lambda m: m.start)
    glued = at > first.end and sentence[first.end:at] in ("-", "–")
    return glued and any(first.end < m.start and m.end <= second.start for m in mentions)


def _same_concept(a: Mention, b: Mention) -> bool:
    return bool(a.id) and a.id == b.id
