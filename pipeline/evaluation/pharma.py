"""Cited pharmacology claims written from gold relations, to measure verdicts as users get them.

Each sampled gold relation of an annotated corpus (a chemical that increases or decreases a
gene or disease in BioRED, induces a disease in BC5CDR, inhibits, activates, up- or
down-regulates a gene in DrugProt) becomes three one-sentence claims, each citing the
abstract the relation is annotated in:

- true: "Cisplatin causes nephrotoxicity [1]." - the cited paper supports it;
- flipped: the opposite verb, "Cisplatin treats nephrotoxicity [2]." - the paper contradicts it;
- unrelated: the chemical with another document's entity, "Cisplatin causes hepatitis [3]." -
  the paper says nothing of it (no evidence).

The claims are written as one document with a reference list of PMIDs, and the product checks
it as it checks any document (the CLI runs the flow); `verdicts_given` reads its claims
table and `score` compares. The
worst error, telling users that the paper they cite says the opposite of what it says,
is counted apart: `opposite_rate` over the true and flipped claims.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from pipeline.datatypes import GoldDocument, GoldEntity
from pipeline.evaluation.entities import prf
from pipeline.records.store import Store

CORPORA = ("biored", "bc5cdr", "drugprot")
# (corpus, relation type) -> (the claim's verb, its opposite)
VERBS = {
    ("biored", "Positive_Correlation"): ("increases", "decreases"),
    ("biored", "Negative_Correlation"): ("decreases", "increases"),
    ("bc5cdr", "CID"): ("causes", "treats"),
    ("drugprot", "INHIBITOR"): ("inhibits", "activates"),
    ("drugprot", "ACTIVATOR"): ("activates", "inhibits"),
    ("drugprot", "INDIRECT-UPREGULATOR"): ("increases", "decreases"),
    ("drugprot", "INDIRECT-DOWNREGULATOR"): ("decreases", "increases"),
}
CHEMICAL_TYPES = {"ChemicalEntity", "Chemical", "CHEMICAL"}
TARGET_TYPES = {"GeneOrGeneProduct", "DiseaseOrPhenotypicFeature", "Disease", "GENE-Y", "GENE-N", "GENE"}
EXPECTED = {"true": "supported", "flipped": "contradicted", "unrelated": "no_evidence"}
OPPOSITE = {"supported": "contradicted", "contradicted": "supported"}
LABELS = ("supported", "contradicted", "no_evidence")


@dataclass(frozen=True)
class PharmaClaim:
    """One generated claim: its sentence, the PMID it cites and the verdict it should get."""

    corpus: str
    pmid: str
    kind: str  # true | flipped | unrelated
    subject: str
    verb: str
    object: str

    @property
    def expected(self) -> str:
        return EXPECTED[self.kind]


@dataclass
class VerdictFigures:
    """What `litmine evaluate verdicts --json` prints: fractions 0-1 and counts."""

    corpus: str
    split: str
    claims: int
    claims_extracted: float  # claims that got a claim row
    accuracy: float
    claim_macro_f1: float
    opposite_rate: float  # of the true and flipped claims, those given the opposite verdict
    per_kind: dict[str, dict[str, int]]  # kind -> verdict -> claims

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class PharmaFigures(VerdictFigures):
    """The figures over every source corpus's claims together, and each corpus's own."""

    per_corpus: dict[str, VerdictFigures] = field(default_factory=dict)


def _entity(doc: GoldDocument, arg: str) -> GoldEntity | None:
    """The gold mention an argument names: by annotation id, else the concept's most frequent
    name in the document (its first mention of that name)."""
    named = [e for e in doc.entities if e.ann_id == arg or arg in e.identifiers.replace(",", "|").split("|")]
    if not named:
        return None
    counts = Counter(e.text.lower() for e in named)
    return max(named, key=lambda e: counts[e.text.lower()])


def _pairs(doc: GoldDocument) -> list[tuple[str, GoldEntity, GoldEntity]]:
    """The document's relations that make claims: (type, chemical mention, other mention)."""
    found = []
    for relation in doc.relations:
        if (doc.corpus, relation.type) not in VERBS:
            continue
        a, b = _entity(doc, relation.arg1), _entity(doc, relation.arg2)
        if a is None or b is None:
            continue
        if b.type in CHEMICAL_TYPES:
            a, b = b, a
        nested = a.text.lower() in b.text.lower() or b.text.lower() in a.text.lower()  # "X-induced Y"
        if a.type in CHEMICAL_TYPES and b.type in TARGET_TYPES and not nested:
            found.append((relation.type, a, b))
    return found


def pharma_claims(store: Store, corpus: str, split: str, limit: int = 100, start: int = 0) -> list[PharmaClaim]:
    """Three claims (true, flipped, unrelated) for each of `limit` documents (by id) of the split
    that have a relation making a claim, from the `start`-th on; its first such relation. A second
    sample of the same split (`start=100`) measures rules chosen on the first as they would fare
    on papers they were not chosen on."""
    if corpus not in CORPORA:
        raise ValueError(f"unknown corpus {corpus!r} for pharma claims: use one of {', '.join(CORPORA)}")
    found = [(d, pairs) for d in store.gold_documents(corpus, split) if (pairs := _pairs(d))][start:start + limit]
    if not found:
        why = f"it has {start} documents or fewer with one" if start else "import the corpus first"
        raise ValueError(f"no {corpus} {split} relations to write claims from: {why}")
    claims = []
    for i, (doc, pairs) in enumerate(found):
        type_, chemical, other = pairs[0]
        verb, opposite = VERBS[(corpus, type_)]
        claims.append(PharmaClaim(corpus, doc.doc_id, "true", chemical.text, verb, other.text))
        claims.append(PharmaClaim(corpus, doc.doc_id, "flipped", chemical.text, opposite, other.text))
        stranger = next((o for _, others in found[i + 1:] + found[:i] for _, _, o in others
                         if o.text.lower() not in doc.text.lower()), None)
        if stranger is not None:
            claims.append(PharmaClaim(corpus, doc.doc_id, "unrelated", chemical.text, verb, stranger.text))
    return claims


def claims_document(claims: list[PharmaClaim]) -> str:
    """The claims as a document a user could have written: one cited sentence a paragraph,
    then the reference list. Claim i is the document's sentence i + 1 (after the heading)."""
    lines = ["Pharmacology claims", ""]
    lines += [f"{c.subject} {c.verb} {c.object} [{n}].\n" for n, c in enumerate(claims, 1)]
    lines += ["References", *(f"{n}. PMID: {c.pmid}" for n, c in enumerate(claims, 1))]
    return "\n".join(lines) + "\n"


def rows_given(claims: list[PharmaClaim], rows: list[dict[str, str]]) -> list[dict[str, str] | None]:
    """Each generated claim's row in the run's claims table (the rows of its document): the claim
    row its sentence gave about its object, else its sentence's first row; None when it gave none."""
    by_sentence: dict[int, list[dict[str, str]]] = {}
    for row in rows:
        by_sentence.setdefault(int(row["sentence_index"]), []).append(row)
    given = []
    for index, claim in enumerate(claims, 1):
        found = by_sentence.get(index, [])
        about = [r for r in found if claim.object.lower() in r["object"].lower()
                 or r["object"].lower() in claim.object.lower()]
        given.append((about or found or [None])[0])
    return given


def verdicts_given(claims: list[PharmaClaim], rows: list[dict[str, str]]) -> list[str]:
    """Each generated claim's verdict (`rows_given`); "" when its sentence gave no claim."""
    return [row["verdict"] if row else "" for row in rows_given(claims, rows)]


def score(claims: list[PharmaClaim], given: list[str], corpus: str, split: str) -> VerdictFigures:
    """Accuracy, claim-level macro-F1 over supported / contradicted / no_evidence, the
    opposite-verdict rate, and verdicts per kind of claim."""
    expected = [c.expected for c in claims]
    polar = [(e, p) for e, p in zip(expected, given) if e in OPPOSITE]
    per_kind: dict[str, Counter[str]] = {}
    for claim, verdict in zip(claims, given):
        per_kind.setdefault(claim.kind, Counter())[verdict or "no claim"] += 1
    f1 = [prf(sum(e == p == label for e, p in zip(expected, given)), given.count(label),
              expected.count(label)).f1 for label in LABELS]
    return VerdictFigures(
        corpus, split, len(claims),
        claims_extracted=round(sum(bool(p) for p in given) / len(claims), 4),
        accuracy=round(sum(e == p for e, p in zip(expected, given)) / len(claims), 4),
        claim_macro_f1=round(sum(f1) / len(f1), 4),
        opposite_rate=round(sum(p == OPPOSITE[e] for e, p in polar) / len(polar), 4) if polar else 0.0,
        per_kind={kind: dict(sorted(counts.items())) for kind, counts in per_kind.items()})


def score_corpora(claims: dict[str, list[PharmaClaim]], given: dict[str, list[str]], split: str) -> PharmaFigures:
    """`score` over all the source corpora's claims (`given`: each corpus's verdicts, in order), and per corpus."""
    overall = score([c for items in claims.values() for c in items], [v for source in claims for v in given[source]],
                    "pharma", split)
    per_corpus = {source: score(items, given[source], source, split) for source, items in claims.items()}
    return PharmaFigures(**vars(overall), per_corpus=per_corpus)
