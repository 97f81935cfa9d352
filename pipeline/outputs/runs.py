"""What changed between two runs over the same documents.

A scheduled re-check is only useful if it says what moved: a claim whose
verdict changed, new or withdrawn evidence, a cited record that became
unavailable (or available again) or that PubMed has since marked retracted,
under an expression of concern or corrected, claims that appeared or disappeared.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.datatypes import (CONCERN, ERRATUM, RETRACTED, RETRACTION_NOTICE, Claim, ClaimResult,
                                ResolvedReference, RunClaim)
from pipeline.outputs.files import write_csv
from pipeline.records.references import RESOLVED

CHANGES = ("new_claim", "claim_removed", "verdict_changed", "new_evidence", "evidence_removed", "newly_unavailable",
           "now_available", "newly_retracted", "newly_under_concern", "newly_corrected")
# A cited record's standing in PubMed as a change when it first appears (pipeline.datatypes statuses)
_NEWLY = {RETRACTED: "newly_retracted", RETRACTION_NOTICE: "newly_retracted", CONCERN: "newly_under_concern",
          ERRATUM: "newly_corrected"}
CHANGE_COLUMNS = ["document", "claim_id", "sentence", "change", "previous_verdict", "verdict", "detail"]


@dataclass
class Change:
    document: str
    claim_id: str
    sentence: str
    change: str  # one of CHANGES
    previous_verdict: str
    verdict: str
    detail: str


def documents_key(documents: list[str]) -> str:
    """Runs over the same set of documents share this key, whatever their order."""
    return hashlib.sha256("\n".join(sorted(documents)).encode()).hexdigest()[:16]


def claim_key(claim: Claim) -> str:
    """A claim's identity across runs: its document, what it says and its sentence's text."""
    rel = claim.relation
    what = (rel.subject.key, rel.relation, rel.object.key, "negated" if rel.negated else "") if rel else ("statement",)
    return "|".join((claim.document, *what, hashlib.sha1(claim.sentence.text.encode()).hexdigest()[:8]))


def snapshot(results: list[ClaimResult], references: list[ResolvedReference],
             read: dict[str, list[str]] | None = None) -> list[RunClaim]:
    """The part of each claim's outcome that a later run is compared on (`read`: claim id -> the
    uids of the records gathered for it, which a re-check reads again)."""
    missing = {(r.document, r.marker) for r in references if r.status != RESOLVED}
    standing = {(r.document, r.marker): r.record.status for r in references if r.record and r.record.status}
    claims: dict[str, RunClaim] = {}
    for result in results:
        claim = result.claim
        key = claim_key(claim)
        claims[key] = RunClaim(key, claim.claim_id, claim.document, claim.sentence.text, result.verdict,
                               sorted(result.evidence_pmids),
                               sorted(m for m in claim.citations if (claim.document, m) in missing),
                               sorted(f"{m}:{standing[(claim.document, m)]}" for m in claim.citations
                                      if (claim.document, m) in standing),
                               (read or {}).get(claim.claim_id, []))
    return list(claims.values())


def summary(results: list[ClaimResult]) -> dict[str, int]:
    return dict(sorted(Counter(r.verdict for r in results).items()))


def _listed(items: list[str]) -> str:
    return ";".join(items)


def diff(previous: list[RunClaim], current: list[RunClaim]) -> list[Change]:
    """Every change between two runs' claims, one row per claim and kind of change."""
    before = {c.claim_key: c for c in previous}
    after = {c.claim_key: c for c in current}
    changes: list[Change] = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old is None:
            changes.append(Change(new.document, new.claim_id, new.sentence, "new_claim", "", new.verdict, ""))
            continue
        if new is None:
            changes.append(Change(old.document, old.claim_id, old.sentence, "claim_removed", old.verdict, "", ""))
            continue

        def change(kind: str, detail: list[str]) -> None:
            changes.append(Change(new.document, new.claim_id, new.sentence, kind, old.verdict, new.verdict,
                                  _listed(detail)))

        if old.verdict != new.verdict:
            change("verdict_changed", [])
        for kind, items in (("new_evidence", sorted(set(new.evidence) - set(old.evidence))),
                            ("evidence_removed", sorted(set(old.evidence) - set(new.evidence))),
                            ("newly_unavailable", sorted(set(new.unavailable) - set(old.unavailable))),
                            ("now_available", sorted(set(old.unavailable) - set(new.unavailable)))):
            if items:
                change(kind, items)
        newly = [entry.rsplit(":", 1) for entry in set(new.standing) - set(old.standing)]  # marker:status
        for kind in dict.fromkeys(_NEWLY.values()):
            items = sorted(marker for marker, status in newly if _NEWLY.get(status) == kind)
            if items:
                change(kind, items)
    return changes


def write_changes(path: Path, changes: list[Change] | None) -> Path | None:
    """changes.csv; with None (no earlier run to compare with) none, and none left from an earlier
    run into the same folder."""
    if changes is None:
        path.unlink(missing_ok=True)
        return None
    return write_csv(path, CHANGE_COLUMNS, (asdict(c) for c in changes))


def changes_markdown(run_summary: dict[str, int], changes: list[Change], limit: int = 50) -> str:
    """A short Markdown account of a run, for the Prefect UI."""
    lines = ["# Evidence check", "", "| verdict | claims |", "|---|---|"]
    lines += [f"| {verdict} | {n} |" for verdict, n in run_summary.items()]
    if not changes:
        lines += ["", "No changes since the previous run of these documents."]
        return "\n".join(lines)
    lines += ["", f"## {len(changes)} changes since the previous run", "",
              "| claim | change | verdict | detail |", "|---|---|---|---|"]
    for c in changes[:limit]:
        verdict = f"{c.previous_verdict} → {c.verdict}" if c.previous_verdict != c.verdict else c.verdict
        lines.append(f"| {c.claim_id} | {c.change} | {verdict} | {c.detail} |")
    return "\n".join(lines)
