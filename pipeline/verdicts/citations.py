"""Per-citation check: does each cited record back the sentence that cites it?

A verdict answers "is this claim true?"; a citation check answers "does this
reference say what the author cites it for?", which is what a reader of a blog
post wants to know about its "[4]". It is read off the claims' evidence, so it
needs no second pass over the records.
"""
from __future__ import annotations

from pipeline.datatypes import CONTRADICTS, NOT_COUNTED, SUPPORTS, ClaimResult, ExtractedRecord, ResolvedReference
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
