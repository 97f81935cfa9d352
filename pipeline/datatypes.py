"""Plain dataclasses passed between litmine's stages.

Every stage (documents, store, entities, relations, claims, reconcile, export)
speaks in these types, so a trained model can replace a baseline stage without
touching its neighbours.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

# litmine's entity types (corpus types are mapped onto these).
ENTITY_TYPES = ("Chemical", "Gene", "Disease", "Variant", "Species")

# litmine's relation vocabulary with its polarity (+1 up, -1 down, 0 neutral).
RELATION_POLARITY: dict[str, int] = {
    "inhibits": -1,
    "activates": 1,
    "binds": 0,
    "agonist_of": 1,
    "antagonist_of": -1,
    "substrate_of": 0,
    "increases": 1,
    "decreases": -1,
    "causes": 1,
    "treats": -1,
    "associated_with": 0,
    "modulates": 0,
}

VERDICTS = ("supported", "contradicted", "mixed", "no_evidence", "not_checked")


@dataclass
class Section:
    """A titled block of full text (PMC body sections)."""

    title: str
    text: str


@dataclass
class Record:
    """One bibliographic record: a PubMed abstract, a PMC article or a corpus document.

    `uid` is the store key: ``pmid:<n>`` when a PMID is known, otherwise
    ``pmc:<PMCID>``, ``doi:<doi>`` or ``<source>:<local id>``.
    """

    uid: str
    title: str = ""
    abstract: str = ""
    pmid: str | None = None
    pmcid: str | None = None
    doi: str | None = None
    journal: str = ""
    year: int | None = None
    publication_types: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    source: str = ""
    fetched_at: str | None = None

    @property
    def text(self) -> str:
        """Title and abstract joined by one space: the text corpus offsets run over."""
        return f"{self.title} {self.abstract}" if self.abstract else self.title

    @property
    def full_text(self) -> str:
        """Title, abstract and body sections, for search and extraction."""
        parts = [self.text] + [f"{s.title}\n{s.text}" if s.title else s.text for s in self.sections]
        return "\n\n".join(p for p in parts if p)

    def content_hash(self) -> str:
        """Hash of what the record says (not where or when it was fetched)."""
        payload = json.dumps(
            {
                "title": self.title,
                "abstract": self.abstract,
                "sections": [asdict(s) for s in self.sections],
                "pmid": self.pmid,
                "pmcid": self.pmcid,
                "doi": self.doi,
                "journal": self.journal,
                "year": self.year,
                "publication_types": self.publication_types,
                "mesh_terms": self.mesh_terms,
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()


def record_uid(pmid: str | None = None, pmcid: str | None = None, doi: str | None = None,
               source: str = "", local_id: str | None = None) -> str:
    """The store key for a record, preferring the most stable identifier."""
    if pmid:
        return f"pmid:{pmid}"
    if pmcid:
        return f"pmc:{pmcid.upper()}"
    if doi:
        return f"doi:{doi.lower()}"
    if source and local_id:
        return f"{source}:{local_id}"
    raise ValueError("a record needs a pmid, pmcid, doi or a source-local id")


@dataclass
class GoldDocument:
    """A corpus document with its gold annotations, kept apart from the records
    so that evaluation offsets always run over the corpus's own text."""

    corpus: str
    split: str
    doc_id: str
    text: str
    entities: list[GoldEntity] = field(default_factory=list)
    relations: list[GoldRelation] = field(default_factory=list)


@dataclass
class GoldEntity:
    ann_id: str
    start: int
    end: int
    text: str
    type: str  # the corpus's own type; litmine's mapping happens at evaluation
    identifiers: str = ""  # the corpus's id string, e.g. "D008094" or "3162|3163"


@dataclass
class GoldRelation:
    type: str
    arg1: str  # an ann_id or, for document-level relations (BC5CDR CID), an identifier
    arg2: str
    rel_id: str = ""
    novelty: str = ""


@dataclass
class GoldClaim:
    """A claim with its gold label against one document (SciFact, Check-COVID, PubMedQA)."""

    corpus: str
    split: str
    claim_id: str
    claim: str
    doc_id: str = ""
    label: str = ""  # SUPPORT / CONTRADICT / NOINFO / yes / no / maybe ...
    sentences: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Mention:
    """An entity mention with its normalized identifier ("" when the KB lacks it).

    A gene's `id` is its human concept, whatever the organism, so that claims and evidence
    meet on one id; `species` and `species_gene_id` say which organism the text is about and
    that organism's NCBI Gene id for it (pipeline.entities.species), where the linker decided them.
    """

    start: int
    end: int
    text: str
    type: str
    id: str = ""
    name: str = ""
    species: str = ""  # "NCBITaxon:10090"
    species_gene_id: str = ""

    @property
    def key(self) -> str:
        """The concept a mention stands for: its id, or its lower-cased text when it has none."""
        return self.id or self.text.lower()


@dataclass
class Relation:
    """A subject–relation–object statement found in one sentence.

    Used both for evidence (from records) and for claims (from documents).
    """

    subject: Mention
    relation: str
    object: Mention
    sentence: str
    sentence_index: int
    negated: bool = False
    hedged: bool = False
    confidence: float = 1.0
    extractor: str = ""

    @property
    def polarity(self) -> int:
        return RELATION_POLARITY.get(self.relation, 0)


@dataclass
class RunClaim:
    """A claim's outcome in one run, kept so the next run can say what changed."""

    claim_key: str  # stable across runs: document, subject, relation, object, negation
    claim_id: str
    document: str
    sentence: str
    verdict: str
    evidence: list[str] = field(default_factory=list)  # PMIDs/uids of supporting or contradicting records
    unavailable: list[str] = field(default_factory=list)  # cited markers whose records could not be had
