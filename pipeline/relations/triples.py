"""Drug–target–effect triples: one record's pairwise relations chained into mechanisms.

The extractors state each relation subject first (pipeline.corpora.SUBJECT_FIRST): a drug
acts on a target (a gene or a variant), a target or a drug bears on an effect (a disease).
A record that says "sertraline inhibits Kir4.1" and "Kir4.1 loss causes X" holds the chain
sertraline → Kir4.1 → X, which no single sentence states. `assemble_triples` builds those
chains, and keeps every relation that chains with nothing as a triple with the missing part
empty, so that a table of triples holds everything a table of relations would.
"""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.datatypes import RELATION_POLARITY, Mention, Relation

DRUG_TYPES = ("Chemical",)
TARGET_TYPES = ("Gene", "Variant")
EFFECT_TYPES = ("Disease",)

# The shapes a triple can have: which parts it holds and what the effect link starts from.
CHAIN = "drug>target>effect"  # drug → target, and that target → effect
BESIDE = "drug>target+drug>effect"  # drug → target, and the same drug → effect
DRUG_TARGET, DRUG_EFFECT, TARGET_EFFECT = "drug>target", "drug>effect", "target>effect"


@dataclass(frozen=True)
class Triple:
    """A drug–target–effect statement assembled from one record's relations.

    `target_link` is what the drug does to the target; `effect_link` how the target (or, in a
    `drug>target+drug>effect` or `drug>effect` triple, the drug) bears on the effect. Either may
    be None, never both. A triple is negated or hedged when any of its parts is.
    """

    pmid: str
    target_link: Relation | None
    effect_link: Relation | None

    @property
    def parts(self) -> list[Relation]:
        return [r for r in (self.target_link, self.effect_link) if r is not None]

    @property
    def chain(self) -> str:
        if self.target_link and self.effect_link:
            return CHAIN if self.effect_link.subject.type in TARGET_TYPES else BESIDE
        if self.target_link:
            return DRUG_TARGET
        return DRUG_EFFECT if self.effect_link.subject.type in DRUG_TYPES else TARGET_EFFECT

    @property
    def drug(self) -> Mention | None:
        first = self.parts[0].subject
        return first if first.type in DRUG_TYPES else None

    @property
    def target(self) -> Mention | None:
        if self.target_link:
            return self.target_link.object
        return self.effect_link.subject if self.chain == TARGET_EFFECT else None

    @property
    def effect(self) -> Mention | None:
        return self.effect_link.object if self.effect_link else None

    @property
    def polarity(self) -> int:
        """What the triple does to its last part (+1 raises, -1 lowers, 0 neither or unknown): through
        a target, the product of the two links' polarities (inhibiting a target that causes an
        effect lowers the effect); beside a target, the drug's own link to the effect."""
        if self.chain == CHAIN:
            return RELATION_POLARITY.get(self.target_link.relation, 0) * RELATION_POLARITY.get(
                self.effect_link.relation, 0)
        return RELATION_POLARITY.get(self.parts[-1].relation, 0)

    @property
    def negated(self) -> bool:
        return any(r.negated for r in self.parts)

    @property
    def hedged(self) -> bool:
        return any(r.hedged for r in self.parts)

    @property
    def confidence(self) -> float:
        """The least of the parts' confidences: a chain is no surer than its weakest link."""
        return min(r.confidence for r in self.parts)

    @property
    def extractor(self) -> str:
        return "+".join(dict.fromkeys(r.extractor for r in self.parts))

    def sort_key(self) -> tuple[object, ...]:
        """A total order over one record's triples, independent of the order relations came in."""
        def part(r: Relation | None) -> tuple[object, ...]:
            return (-1, "", "", "", False) if r is None else (
                r.sentence_index, r.subject.key, r.relation, r.object.key, r.negated)
        first = min(r.sentence_index for r in self.parts)
        return (self.pmid, first, part(self.target_link), part(self.effect_link))


def _role(mention: Mention) -> str:
    for role, types in (("drug", DRUG_TYPES), ("target", TARGET_TYPES), ("effect", EFFECT_TYPES)):
        if mention.type in types:
            return role
    return ""


def _best_instances(relations: list[Relation]) -> list[Relation]:
    """One relation per statement (subject, relation, object, negated): its most confident
    sentence, the earliest on a tie, so a statement repeated in a record is one part."""
    best: dict[tuple[str, str, str, bool], Relation] = {}
    for r in sorted(relations, key=lambda r: (-r.confidence, r.sentence_index, r.subject.start, r.object.start)):
        best.setdefault((r.subject.key, r.relation, r.object.key, r.negated), r)
    return sorted(best.values(), key=lambda r: (r.sentence_index, r.subject.start, r.object.start, r.relation))


def assemble_triples(relations: list[Relation], pmid: str = "") -> list[Triple]:
    """Chain one record's relations into drug–target–effect triples, in a stable order.

    A drug → target relation joins every target → effect relation of the same target
    (`drug>target>effect`) and every drug → effect relation of the same drug
    (`drug>target+drug>effect`); one that joins nothing stays a `drug>target` triple. A
    target → effect or drug → effect relation that no drug → target relation joined stays a
    `target>effect` or `drug>effect` triple. Only affirmed relations chain: "X did not inhibit
    T" is no step towards T's effects, so a negated relation is a triple of its own. Concepts
    meet on `Mention.key` (the KB id, else the lower-cased text). Relations between other
    types (none is extracted today) are no triple.
    """
    kinds: dict[tuple[str, str], list[Relation]] = {}
    for r in _best_instances(relations):
        kinds.setdefault((_role(r.subject), _role(r.object)), []).append(r)
    drug_target = kinds.get(("drug", "target"), [])
    target_effect = kinds.get(("target", "effect"), [])
    drug_effect = kinds.get(("drug", "effect"), [])
    triples, joined = [], set()
    for dt in drug_target:
        joins = [] if dt.negated else (
            [te for te in target_effect if te.subject.key == dt.object.key and not te.negated]
            + [de for de in drug_effect if de.subject.key == dt.subject.key and not de.negated])
        triples += [Triple(pmid, dt, other) for other in joins] or [Triple(pmid, dt, None)]
        joined.update(map(id, joins))
    triples += [Triple(pmid, None, r) for r in target_effect + drug_effect if id(r) not in joined]
    return sorted(triples, key=Triple.sort_key)
