"""Verdicts: does the evidence support, contradict or ignore a claim?

An evidence relation bears on a claim when its subject and object are the
claim's, allowing a drug class to stand for its members and a target family
for its genes (SSRI ↔ sertraline, 5-HT2 receptors ↔ HTR2B). Its stance then
follows from the two relations' polarity and negation. A paper counts once,
whatever number of sentences it has.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipeline.claims import Claim
from pipeline.datatypes import Mention, Record, Relation
from pipeline.evidence import ExtractedRecord, mention_key
from pipeline.kb import KnowledgeBase

SUPPORTS, CONTRADICTS, RELATED = "supports", "contradicts", "related"

SPECIES_TAGS = {
    "human": ("Humans",),
    "animal": ("Animals", "Rats", "Mice", "Rats, Wistar", "Rats, Sprague-Dawley", "Mice, Inbred C57BL"),
    "in vitro": ("In Vitro Techniques", "Cells, Cultured", "Cell Line", "Cell Line, Tumor", "HEK293 Cells"),
}
PUBLICATION_KINDS = (
    ("review", ("Review", "Systematic Review", "Meta-Analysis")),
    ("trial", ("Clinical Trial", "Randomized Controlled Trial", "Controlled Clinical Trial",
               "Clinical Trial, Phase II", "Clinical Trial, Phase III", "Clinical Trial, Phase IV")),
    ("case report", ("Case Reports",)),
)


@dataclass
class EvidenceItem:
    claim_id: str
    record: Record
    stance: str
    relation: Relation


@dataclass
class ClaimResult:
    claim: Claim
    verdict: str
    n_supporting: int  # papers, not sentences
    n_contradicting: int
    n_records_checked: int
    evidence: list[EvidenceItem] = field(default_factory=list)
    note: str = ""

    @property
    def evidence_pmids(self) -> list[str]:
        return list(dict.fromkeys(e.record.pmid or e.record.uid for e in self.evidence if e.stance != RELATED))


def species(record: Record) -> str:
    """Human, animal and/or in vitro, from MeSH check tags."""
    found = [kind for kind, tags in SPECIES_TAGS.items() if any(t in record.mesh_terms for t in tags)]
    return ";".join(found)


def publication_kind(record: Record) -> str:
    for kind, types in PUBLICATION_KINDS:
        if any(t in record.publication_types for t in types):
            return kind
    return "primary study" if record.publication_types else ""


def _same(claim_side: Mention, evidence_side: Mention, kb: KnowledgeBase) -> bool:
    """One side names the other, or a class/family containing it."""
    if not claim_side.id or not evidence_side.id:
        return mention_key(claim_side) == mention_key(evidence_side)
    return evidence_side.id in kb.members(claim_side.id) or claim_side.id in kb.members(evidence_side.id)


def _direction(claimed: Relation, found: Relation) -> int:
    """+1 the relations agree, -1 they oppose, 0 the evidence is less specific."""
    pc, pe = claimed.polarity, found.polarity
    if pc == 0:
        return 1
    if pe == 0:
        return 0
    return 1 if pc == pe else -1


def stance(claimed: Relation, found: Relation, kb: KnowledgeBase) -> str | None:
    """How one evidence relation bears on a claim, or None when it is about other things."""
    if not (_same(claimed.subject, found.subject, kb) and _same(claimed.object, found.object, kb)):
        return None
    sign = _direction(claimed, found)
    if found.negated:  # "did not inhibit" contradicts "inhibits", says nothing of "activates"
        sign = -1 if sign == 1 else 0
    if claimed.negated:
        sign = -sign
    return {1: SUPPORTS, -1: CONTRADICTS, 0: RELATED}[sign]


def _paper_stance(items: list[EvidenceItem]) -> str:
    """One paper's overall stance: the side with more confidence behind it."""
    weight = Counter()
    for item in items:
        weight[item.stance] += item.relation.confidence
    if weight[SUPPORTS] > weight[CONTRADICTS]:
        return SUPPORTS
    if weight[CONTRADICTS] > weight[SUPPORTS]:
        return CONTRADICTS
    return RELATED


def verdict_for(n_supporting: int, n_contradicting: int, n_checked: int, missing_cited: bool) -> str:
    """Never "no evidence" when what the claim cites could not be read."""
    if n_supporting and n_contradicting:
        return "mixed"
    if n_supporting:
        return "supported"
    if n_contradicting:
        return "contradicted"
    if missing_cited or n_checked == 0:
        return "not_checked"
    return "no_evidence"


def reconcile_claim(claim: Claim, records: list[Record], extracted: dict[str, ExtractedRecord],
                    kb: KnowledgeBase, missing_cited: bool = False) -> ClaimResult:
    """The claim's verdict from the relations found in `records`.

    `missing_cited` says that some record the claim cites could not be had; then
    silence from the rest is reported as not checked rather than no evidence.
    """
    evidence: list[EvidenceItem] = []
    papers: Counter[str] = Counter()
    checked = [r for r in records if r.uid in extracted]
    for record in checked:
        items = [EvidenceItem(claim.claim_id, record, s, rel)
                 for rel in extracted[record.uid].relations
                 if (s := stance(claim.relation, rel, kb)) is not None]
        if items:
            papers[_paper_stance(items)] += 1
            evidence.extend(sorted(items, key=lambda i: (i.stance != SUPPORTS, -i.relation.confidence)))
    verdict = verdict_for(papers[SUPPORTS], papers[CONTRADICTS], len(checked), missing_cited)
    note = "cited records unavailable" if missing_cited else ""
    return ClaimResult(claim, verdict, papers[SUPPORTS], papers[CONTRADICTS], len(checked), evidence, note)
