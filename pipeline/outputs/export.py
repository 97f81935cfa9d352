"""CSV evidence tables: claims, evidence, triples, references and citations.

Column order is part of the contract (README, "Outputs"); rows are sorted so
that two runs over the same inputs write byte-identical files, each whole or not at all and
with no cell a spreadsheet would run as a formula (`pipeline.outputs.files`).
"""
from __future__ import annotations

from pathlib import Path

from pipeline.datatypes import ClaimResult, ExtractedRecord, Record, Relation, ResolvedReference
from pipeline.outputs.files import write_csv
from pipeline.records.reference_check import check_reference
from pipeline.relations.qualifiers import evidence_qualifiers
from pipeline.relations.triples import Triple, assemble_triples
from pipeline.verdicts.calibration import calibrated
from pipeline.verdicts.citations import SentenceCitation, citation_checks, sentence_citations

CLAIM_COLUMNS = ["document", "claim_id", "sentence_index", "sentence", "subject", "subject_id", "relation",
                 "object", "object_id", "negated", "hedged", "citations", "cited_pmids", "verdict",
                 "n_supporting", "n_contradicting", "n_records_checked", "evidence_pmids",
                 "section", "implicit_subject", "confidence", "note", "extractor", "n_papers", "species",
                 "publication_types", "years", "kind", "entities", "verdict_confidence", "citations_say",
                 "verdict_confidence_raw"]
EVIDENCE_COLUMNS = ["claim_id", "pmid", "stance", "relation", "subject", "object", "sentence", "confidence",
                    "species", "publication_type", "year", "negated", "hedged", "signal", "found_by", "record_status",
                    "amounts", "exposure", "system", "study_type", "strength_basis", "weight", "weight_reason"]
# Each triple's concepts and chain, then its two links: drug -> target, and target (or drug) -> effect.
TRIPLE_COLUMNS = ["pmid", "chain", "drug", "drug_id", "target", "target_id", "effect", "effect_id", "polarity",
                  "negated", "hedged", "confidence", "extractor",
                  "target_relation", "target_sentence_index", "target_sentence", "target_confidence",
                  "effect_relation", "effect_sentence_index", "effect_sentence", "effect_confidence"]
CITATION_COLUMNS = ["document", "sentence_index", "marker", "pmid", "citation", "reason", "evidence_sentence",
                    "confidence", "sentence"]
REFERENCE_COLUMNS = ["document", "marker", "raw_reference", "pmid", "pmcid", "doi", "resolved_by", "status",
                     "reason", "check", "reference_check", "reference_check_detail"]


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _counts(counts: dict[str, int]) -> str:
    return ";".join(f"{kind}:{n}" for kind, n in counts.items())


def _years(span: tuple[int, int] | None) -> str:
    if span is None:
        return ""
    return str(span[0]) if span[0] == span[1] else f"{span[0]}-{span[1]}"


def claim_rows(results: list[ClaimResult], cited_pmids: dict[tuple[str, str], str]) -> list[dict[str, object]]:
    """`cited_pmids` maps (document, marker) to the cited record's PMID."""
    rows = []
    for result in results:
        claim, rel = result.claim, result.claim.relation
        rows.append({
            "document": claim.document, "claim_id": claim.claim_id, "sentence_index": claim.sentence.index,
            "sentence": claim.sentence.text, **_triple_columns(rel),
            "citations": ";".join(claim.citations),
            "cited_pmids": ";".join(p for m in claim.citations if (p := cited_pmids.get((claim.document, m)))),
            "verdict": result.verdict, "n_supporting": result.n_supporting,
            "n_contradicting": result.n_contradicting, "n_records_checked": result.n_records_checked,
            "evidence_pmids": ";".join(result.evidence_pmids), "section": claim.sentence.section,
            "implicit_subject": _flag(claim.implicit_subject), "note": result.note,
            "n_papers": result.n_papers, "species": _counts(result.species_counts),
            "publication_types": _counts(result.publication_counts), "years": _years(result.year_range),
            "kind": "triple" if rel else "statement", "entities": ";".join(m.id for m in claim.entities),
            "verdict_confidence": round(calibrated(result), 3) if result.verdict != "not_checked" else "",
            "citations_say": result.citations_say,
            "verdict_confidence_raw": result.confidence if result.verdict != "not_checked" else "",
        })
    return rows


def _triple_columns(rel: Relation | None) -> dict[str, object]:
    """A claim's triple, or blanks for a statement (its sentence is the claim)."""
    if rel is None:
        return dict.fromkeys(("subject", "subject_id", "relation", "object", "object_id", "negated", "hedged",
                              "confidence", "extractor"), "")
    return {"subject": rel.subject.text, "subject_id": rel.subject.id, "relation": rel.relation,
            "object": rel.object.text, "object_id": rel.object.id, "negated": _flag(rel.negated),
            "hedged": _flag(rel.hedged), "confidence": rel.confidence, "extractor": rel.extractor}


def evidence_rows(results: list[ClaimResult]) -> list[dict[str, object]]:
    """One row per evidence sentence; `signal` says what read it (a relation, the sentence-level
    verifier, or both agreeing), `found_by` whether the record was cited or found by search,
    `record_status` the paper's standing (a retracted paper's rows are kept, not counted);
    `amounts`, `exposure` and `system` what the sentence says of how the finding was obtained; the
    paper's study type, what said so, and the weight it counts at for the claim, and why."""
    rows = []
    for item in (item for result in results for item in result.evidence):
        rel = item.relation
        said = evidence_qualifiers(item.sentence, rel)
        rows.append({
            "claim_id": item.claim_id, "pmid": item.record.pmid or item.record.uid, "stance": item.stance,
            "relation": rel.relation if rel else "", "subject": rel.subject.text if rel else "",
            "object": rel.object.text if rel else "", "sentence": item.sentence, "confidence": item.confidence,
            "species": ";".join(item.strength.species), "publication_type": item.strength.publication_kind,
            "year": item.record.year or "", "negated": _flag(rel.negated) if rel else "",
            "hedged": _flag(rel.hedged) if rel else "", "signal": item.signal, "found_by": item.found_by,
            "record_status": item.record.status, "amounts": "; ".join(said.amounts),
            "exposure": ";".join(said.exposure), "system": ";".join(said.system),
            "study_type": item.strength.study_type, "strength_basis": item.strength.basis,
            "weight": item.strength.weight, "weight_reason": item.strength.weighed})
    return rows


def triple_row(triple: Triple) -> dict[str, object]:
    """A triple as a row: its concepts, then each link's relation, sentence and confidence
    (empty for the part a lone relation lacks)."""
    row: dict[str, object] = {"pmid": triple.pmid, "chain": triple.chain}
    for name, mention in (("drug", triple.drug), ("target", triple.target), ("effect", triple.effect)):
        row[name] = mention.text if mention else ""
        row[f"{name}_id"] = mention.id if mention else ""
    row.update({"polarity": triple.polarity, "negated": _flag(triple.negated), "hedged": _flag(triple.hedged),
                "confidence": triple.confidence, "extractor": triple.extractor})
    return row | _link_cells("target", triple.target_link) | _link_cells("effect", triple.effect_link)


def _link_cells(name: str, link: Relation | None) -> dict[str, object]:
    values = ("", "", "", "") if link is None else (link.relation, link.sentence_index, link.sentence, link.confidence)
    return dict(zip((f"{name}_relation", f"{name}_sentence_index", f"{name}_sentence", f"{name}_confidence"), values))


def triple_rows(records: dict[str, Record], extracted: dict[str, ExtractedRecord]) -> list[dict[str, object]]:
    """Every record's assembled triples, records in PMID order (uid where there is none), so
    that the same extraction always gives the same file."""
    ids = {uid: records[uid].pmid or uid for uid in extracted}
    return [triple_row(t) for uid in sorted(extracted, key=lambda u: (ids[u], u))
            for t in assemble_triples(extracted[uid].relations, ids[uid])]


def reference_rows(references: list[ResolvedReference], checks: dict[tuple[str, str], str]) -> list[dict[str, object]]:
    """`checks` maps (document, marker) to the citation check (pipeline.verdicts.citations); the
    reference check (pipeline.records.reference_check) is the reference's own."""
    rows = []
    for r in references:
        reference_check, detail = check_reference(r)
        rows.append({"document": r.document, "marker": r.marker, "raw_reference": r.raw, "pmid": r.pmid or "",
                     "pmcid": r.pmcid or "", "doi": r.doi or "", "resolved_by": r.resolved_by, "status": r.status,
                     "reason": r.reason, "check": checks.get((r.document, r.marker), ""),
                     "reference_check": reference_check, "reference_check_detail": detail})
    return rows


def citation_rows(checks: list[SentenceCitation]) -> list[dict[str, object]]:
    """One row per citing sentence and reference: does the paper back the sentence, and why."""
    return [{"document": c.document, "sentence_index": c.sentence_index, "marker": c.marker, "pmid": c.pmid,
             "citation": c.check, "reason": c.reason, "evidence_sentence": c.evidence,
             "confidence": "" if c.confidence is None else c.confidence, "sentence": c.sentence} for c in checks]


def write_tables(out: Path, results: list[ClaimResult], references: list[ResolvedReference],
                 records: dict[str, Record], extracted: dict[str, ExtractedRecord]) -> list[Path]:
    """Write the five CSVs into `out` and return their paths."""
    cited = {(r.document, r.marker): r.pmid for r in references if r.pmid}
    return [
        write_csv(out / "claims.csv", CLAIM_COLUMNS, claim_rows(results, cited)),
        write_csv(out / "evidence.csv", EVIDENCE_COLUMNS, evidence_rows(results)),
        write_csv(out / "triples.csv", TRIPLE_COLUMNS, triple_rows(records, extracted)),
        write_csv(out / "references.csv", REFERENCE_COLUMNS,
                  reference_rows(references, citation_checks(references, results, extracted))),
        write_csv(out / "citations.csv", CITATION_COLUMNS,
                  citation_rows(sentence_citations(references, results, extracted))),
    ]
