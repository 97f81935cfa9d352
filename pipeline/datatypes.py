"""Plain dataclasses passed between litmine's stages.

Every stage (documents, records, entities, relations, claims, verdicts, outputs)
speaks in these types, so a trained model can replace a baseline stage without
touching its neighbours, and a stage reads what an earlier one made without
importing that stage's code.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
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


# PubMed's CommentsCorrections links that bear on a record's standing or that a reader should see
# (RefType values: the record is retracted in, corrected in, ... the linked notice).
NOTICE_TYPES = ("RetractionIn", "ExpressionOfConcernIn", "ErratumIn", "CommentIn", "UpdateIn")
# A record's standing, worst first, with what says so: a publication type, or a notice's RefType.
RETRACTED, RETRACTION_NOTICE, CONCERN, ERRATUM = "retracted", "retraction_notice", "expression_of_concern", "erratum"
STANDING = ((RETRACTED, "Retracted Publication", "RetractionIn"),
            (RETRACTION_NOTICE, "Retraction of Publication", ""),
            (CONCERN, "", "ExpressionOfConcernIn"),
            (ERRATUM, "", "ErratumIn"))
# What a retracted paper or a retraction notice says is kept and shown, but never counted.
NOT_COUNTED = (RETRACTED, RETRACTION_NOTICE)


@dataclass
class Notice:
    """A PubMed link from a record to a notice about it: its retraction, an erratum, a comment..."""

    kind: str  # the CommentsCorrections RefType: RetractionIn, ErratumIn, ...
    pmid: str  # the notice's PMID ("" when PubMed gives only its citation)
    source: str = ""  # the notice's citation as PubMed writes it: "Gut. 2017 Jun;66(6):1"


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
    authors: list[str] = field(default_factory=list)  # "Bao Y": surname and initials, in order
    volume: str = ""
    pages: str = ""  # as the journal gives them: "1116-1122", "e0117575"
    notices: list[Notice] = field(default_factory=list)  # retractions, errata, comments... (NOTICE_TYPES)

    @property
    def status(self) -> str:
        """The record's standing as PubMed tells it: retracted, retraction_notice,
        expression_of_concern, erratum, or "" when nothing is known against it."""
        kinds = {n.kind for n in self.notices}
        return next((status for status, publication_type, kind in STANDING
                     if (publication_type and publication_type in self.publication_types) or kind in kinds), "")

    @property
    def status_notice(self) -> str:
        """The PMID of the notice behind `status` ("" when PubMed names none)."""
        kind = next((kind for status, _, kind in STANDING if status == self.status), "")
        return next((n.pmid for n in self.notices if n.kind == kind and n.pmid), "")

    @property
    def text(self) -> str:
        """Title and abstract joined by one space: the text corpus offsets run over."""
        return f"{self.title} {self.abstract}" if self.abstract else self.title

    @property
    def full_text(self) -> str:
        """Title, abstract and body sections, for search and extraction."""
        parts = [self.text] + [f"{s.title}\n{s.text}" if s.title else s.text for s in self.sections]
        return "\n\n".join(p for p in parts if p)

    def text_hash(self) -> str:
        """Hash of the text extraction reads: its key, so that a record that gains a retraction
        notice or a MeSH term is not read again."""
        payload = json.dumps({"title": self.title, "abstract": self.abstract,
                              "sections": [asdict(s) for s in self.sections]}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()

    def content_hash(self) -> str:
        """Hash of what the record says and of its standing (not where or when it was fetched)."""
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
                "authors": self.authors,
                "volume": self.volume,
                "pages": self.pages,
                "notices": [asdict(n) for n in self.notices],
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
    standing: list[str] = field(default_factory=list)  # "marker:status" of cited records PubMed has notices on
    read: list[str] = field(default_factory=list)  # uids of the records gathered for it, best first


# ---------------------------------------------------------------- documents and their references

@dataclass
class Reference:
    marker: str  # "4" for [4], "Smith2019" for (Smith et al., 2019), the id itself for inline ids
    raw: str  # the reference as written ("" when the document gives none)
    pmid: str | None = None
    pmcid: str | None = None  # upper case, "PMC4335176"
    doi: str | None = None  # lower case, without "https://doi.org/"
    resolved_by: str = ""  # pmid | pmcid | doi | url | citation (free text, for ECitMatch and title search) | ""
    # free-text references, for ECitMatch and title search: first_author, authors, title, journal, year, volume,
    # first_page
    citation: dict[str, str] = field(default_factory=dict)


@dataclass
class DocSentence:
    index: int
    text: str
    start: int  # offsets into Document.text
    end: int
    section: str  # nearest heading above ("" if none)
    markers: list[str]  # citation markers in order, ranges expanded, inline ids included
    kind: str = "prose"  # prose | heading | bullet (glyph excluded from the span) | boilerplate
    bare: str = ""  # the text without its citation markers, as the documents stage reads them


@dataclass
class Document:
    path: str
    name: str
    title: str
    text: str
    sentences: list[DocSentence]
    references: dict[str, Reference]  # every cited marker, reference-list entry and inline id
    topic: str  # what the document is about: its title, the subject of sentences that name none


@dataclass
class ResolvedReference:
    document: str
    marker: str
    raw: str
    pmid: str | None
    pmcid: str | None
    doi: str | None
    resolved_by: str  # the reference's, or title_search when its title search found the record
    status: str
    reason: str = ""
    record: Record | None = field(default=None, repr=False)
    not_found: bool = False  # NCBI answered that the id does not exist (not: could not be asked)


# ---------------------------------------------------------------- claims, evidence and verdicts

@dataclass
class Claim:
    """A pharmacological triple a sentence states (`relation`), or, where it states none, the
    sentence itself (a statement: `relation` is None, `entities` its mentions)."""

    document: str
    claim_id: str
    sentence: DocSentence
    relation: Relation | None
    implicit_subject: bool = False  # the sentence does not name the subject: a title, heading or antecedent does
    entities: list[Mention] = field(default_factory=list)

    @property
    def citations(self) -> list[str]:
        return self.sentence.markers

    @property
    def text(self) -> str:
        """The sentence without its citation markers: what the sentence-level verifier reads."""
        return (self.sentence.bare or self.sentence.text).strip()


@dataclass
class ExtractedRecord:
    """What one record says: its relations and the concepts it mentions, sentence by sentence."""

    uid: str
    relations: list[Relation] = field(default_factory=list)
    concepts: set[str] = field(default_factory=set)  # ids (or lower-cased texts) of every mention
    # every sentence with its mentions, so that an effect the KB lacks ("REM sleep") can be found by its words
    sentences: list[tuple[str, list[Mention]]] = field(default_factory=list)


SUPPORTS, CONTRADICTS, RELATED = "supports", "contradicts", "related"


STRONGEST = 3  # evidence sentences a report shows per claim


# Study types (`pipeline.verdicts.strength`), strongest design first, each with the coarser kind
# evidence.csv's `publication_type` and claims.csv's `publication_types` show.
STUDY_KINDS = {"meta-analysis": "review", "randomized controlled trial": "trial", "clinical trial": "trial",
               "observational": "primary study", "case report": "case report", "review": "review",
               "animal study": "primary study", "in vitro": "primary study", "other": "primary study"}


@dataclass(frozen=True)
class Strength:
    """What kind of evidence a paper is for one claim (`pipeline.verdicts.strength`): its study
    type and who or what it studied, what said so, and the share of its weight it counts at."""

    study_type: str = ""  # a STUDY_KINDS key, "" when nothing says
    species: tuple[str, ...] = ()  # "human", "animal (rat)" or "animal" when it says not which, "in vitro"
    basis: str = ""  # what said so: 'PublicationType "Review"; MeSH "Rats"', 'title "in rats"'
    weight: float = 1.0  # the share of its confidence the paper counts at for the claim (0-1)
    weighed: str = ""  # why below 1: "animal study, for a claim about people"

    @property
    def kinds(self) -> list[str]:
        """Human, animal and/or in vitro, without which animal."""
        return list(dict.fromkeys(s.partition(" (")[0] for s in self.species))

    @property
    def publication_kind(self) -> str:
        """Review, trial, case report or primary study; "" when nothing says."""
        return STUDY_KINDS.get(self.study_type, "")


TRIPLE, SENTENCE, BOTH = "triple", "sentence", "both"  # which signal decided a paper's stance


@dataclass
class EvidenceItem:
    """One sentence of a record that bears on a claim: a relation the models read in it
    (`relation`), or a rationale the sentence-level verifier chose (`relation` None)."""

    claim_id: str
    record: Record
    stance: str
    relation: Relation | None
    sentence: str = ""
    confidence: float = 0.0
    signal: str = TRIPLE
    found_by: str = "cited"  # cited | search
    strength: Strength = Strength()  # the paper's, for this claim (the verifier sets it)

    def __post_init__(self) -> None:
        if self.relation is not None and not self.sentence:
            self.sentence, self.confidence = self.relation.sentence, self.relation.confidence

    @property
    def counted(self) -> bool:
        """False for a retracted paper's (or a retraction notice's) evidence: shown, never counted."""
        return self.record.status not in NOT_COUNTED


@dataclass
class ClaimResult:
    claim: Claim
    verdict: str
    n_supporting: int  # papers, not sentences
    n_contradicting: int
    n_records_checked: int
    evidence: list[EvidenceItem] = field(default_factory=list)  # each paper's items best first
    note: str = ""
    confidence: float = 0.0  # the verifier's raw confidence, 0-1: a ranking (claims.csv calibrates it)
    citations_say: str = ""  # what the cited records say of the claim, apart from the verdict

    @property
    def evidence_pmids(self) -> list[str]:
        """The papers that count on a side (retracted ones are in `evidence`, not here)."""
        return list(dict.fromkeys(e.record.pmid or e.record.uid for e in self.evidence
                                  if e.stance != RELATED and e.counted))

    @property
    def papers(self) -> list[Record]:
        """The papers with any evidence bearing on the claim (supporting, contradicting or related), once each."""
        return list({e.record.uid: e.record for e in self.evidence}.values())

    @property
    def n_papers(self) -> int:
        return len(self.papers)

    @property
    def strengths(self) -> list[Strength]:
        """Each paper's strength, once (a paper's items share it)."""
        return list({e.record.uid: e.strength for e in self.evidence}.values())

    @property
    def species_counts(self) -> dict[str, int]:
        """Papers per kind of study subject; a paper on rats and cultured cells counts for both."""
        return dict(sorted(Counter(kind for s in self.strengths for kind in s.kinds).items()))

    @property
    def publication_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(kind for s in self.strengths if (kind := s.publication_kind)).items()))

    @property
    def year_range(self) -> tuple[int, int] | None:
        years = sorted(r.year for r in self.papers if r.year)
        return (years[0], years[-1]) if years else None

    @property
    def strongest(self) -> list[EvidenceItem]:
        """The best sentence of each paper, papers taking a side (and counted) first, most confident first."""
        best: dict[str, EvidenceItem] = {}
        for item in self.evidence:
            best.setdefault(item.record.uid, item)
        ranked = sorted(best.values(), key=lambda i: (i.stance == RELATED or not i.counted, -i.confidence))
        return ranked[:STRONGEST]

