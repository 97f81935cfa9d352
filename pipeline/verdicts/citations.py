"""Per-citation check: does each cited record back the sentence that cites it?

A verdict answers "is this claim true?"; a citation check answers "does this
reference say what the author cites it for?", which is what a reader of a blog
post wants to know about its "[4]". It is read off the claims' evidence, so it
needs no second pass over the records.
"""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.datatypes import (CONCERN, CONTRADICTS, NOT_COUNTED, RETRACTED, SUPPORTS, ClaimResult, EvidenceItem,
                                ExtractedRecord, ResolvedReference)
from pipeline.records.references import RESOLVED
from pipeline.verdicts.reconcile import MIXED, paper_stance

# supports: it supports some claim of a sentence citing it and contradicts none;
# contradicts: the reverse; mixed: both; does_not_mention: it was read, but names neither side
# of any citing claim or relates them in no way that bears on the claim; retracted /
# retraction_notice: what it says does not count (its evidence is shown, see the verifier);
# unavailable: the record is not in hand (unavailable or unresolved reference); "": no claim cites it.
CHECKS = ("supports", "contradicts", "mixed", "does_not_mention", *NOT_COUNTED, "unavailable", "")


def citation_check(reference: ResolvedReference, results: list[ClaimResult],
                   extracted: dict[str, ExtractedRecord]) -> str:
    """The check of one reference against the claims (of its document) whose sentences cite it."""
    citing = [r for r in results if r.claim.document == reference.document and reference.marker in r.claim.citations]
    if reference.status != RESOLVED or reference.record is None or reference.record.uid not in extracted:
        return "unavailable"
    if not citing:
        return ""
    if reference.record.status in NOT_COUNTED:
        return reference.record.status
    uid = reference.record.uid
    stances = {paper_stance(items) for r in citing if (items := [e for e in r.evidence if e.record.uid == uid])}
    if MIXED in stances or {SUPPORTS, CONTRADICTS} <= stances:
        return "mixed"
    if SUPPORTS in stances:
        return "supports"
    if CONTRADICTS in stances:
        return "contradicts"
    return "does_not_mention"


def citation_checks(references: list[ResolvedReference], results: list[ClaimResult],
                    extracted: dict[str, ExtractedRecord]) -> dict[tuple[str, str], str]:
    """(document, marker) -> check, for every reference."""
    return {(ref.document, ref.marker): citation_check(ref, results, extracted) for ref in references}


# Each (citing sentence, reference) pair in the terms of the Citation-Integrity scheme (Sarol et al.
# 2024): the paper says what the sentence cites it for, says otherwise, is about something else, or
# could not be read (or what it says does not count).
ACCURATE, NOT_ACCURATE, IRRELEVANT, UNVERIFIABLE = "accurate", "not_accurate", "irrelevant", "unverifiable"


@dataclass(frozen=True)
class SentenceCitation:
    """Does one reference back one sentence that cites it, and which of its sentences decided."""

    document: str
    sentence_index: int
    sentence: str
    marker: str
    pmid: str
    check: str  # ACCURATE | NOT_ACCURATE | IRRELEVANT | UNVERIFIABLE
    reason: str
    evidence: str = ""  # the paper's sentence that decided
    confidence: float | None = None  # that sentence's confidence


def _pair(citing: list[ClaimResult], ref: ResolvedReference | None,
          extracted: dict[str, ExtractedRecord]) -> tuple[str, str, EvidenceItem | None]:
    """(check, reason, deciding evidence) for one citing sentence's claims and one reference."""
    if ref is None or ref.status != RESOLVED or ref.record is None or ref.record.uid not in extracted:
        return UNVERIFIABLE, (ref.reason or ref.status) if ref else "no reference with this marker", None
    record = ref.record
    if record.status in NOT_COUNTED:
        return UNVERIFIABLE, "retracted" if record.status == RETRACTED else "a retraction notice", None
    items = [e for r in citing for e in r.evidence if e.record.uid == record.uid]
    sided = [e for e in items if e.stance in (SUPPORTS, CONTRADICTS)]
    concern = "; under an expression of concern" if record.status == CONCERN else ""
    if not items:
        return IRRELEVANT, "names nothing the sentence claims" + concern, None
    if not sided:
        return UNVERIFIABLE, "discusses it without taking a side (in what was read)" + concern, items[0]
    stance = paper_stance(sided)
    if stance == MIXED:
        return NOT_ACCURATE, "the paper takes both sides" + concern, max(sided, key=lambda e: e.confidence)
    best = max((e for e in sided if e.stance == stance), key=lambda e: e.confidence)
    if stance == SUPPORTS:
        return ACCURATE, "the paper says so" + concern, best
    return NOT_ACCURATE, "the paper says otherwise" + concern, best


def sentence_citations(references: list[ResolvedReference], results: list[ClaimResult],
                       extracted: dict[str, ExtractedRecord]) -> list[SentenceCitation]:
    """One check per citing sentence and reference it cites, in document and sentence order."""
    by_marker = {(ref.document, ref.marker): ref for ref in references}
    sentences: dict[tuple[str, int], list[ClaimResult]] = {}
    for result in results:
        if result.claim.citations:
            sentences.setdefault((result.claim.document, result.claim.sentence.index), []).append(result)
    checks = []
    for (document, index), citing in sentences.items():
        claim = citing[0].claim
        for marker in claim.citations:
            ref = by_marker.get((document, marker))
            check, reason, item = _pair(citing, ref, extracted)
            checks.append(SentenceCitation(document, index, claim.sentence.text, marker, ref.pmid or "" if ref else "",
                                           check, reason, item.sentence if item else "",
                                           item.confidence if item and check != UNVERIFIABLE else None))
    return checks
