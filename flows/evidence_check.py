"""The evidence check as a Prefect flow: documents in, CSV evidence tables out.

Each task is a thin wrapper around one `pipeline` function; the flow only
decides what runs on what.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE

from pipeline.claims import Claim, extract_claims
from pipeline.config import Settings, load_settings
from pipeline.datatypes import Record
from pipeline.documents import Document, load_document
from pipeline.evidence import ExtractedRecord, extract_record, search_records
from pipeline.export import write_tables
from pipeline.reconcile import ClaimResult, reconcile_claim
from pipeline.references import RESOLVED, ResolvedReference, resolve_references
from pipeline.toolkit import open_toolkit

EXTRACT_BATCH = 25


@task(cache_policy=NO_CACHE)
def read_document(path: str) -> Document:
    return load_document(path)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30])
def resolve(document: Document, settings: Settings, refresh: bool) -> list[ResolvedReference]:
    return resolve_references(document, open_toolkit(settings).client, refresh=refresh)


@task(cache_policy=NO_CACHE)
def find_claims(document: Document, settings: Settings) -> list[Claim]:
    kit = open_toolkit(settings)
    return extract_claims(document, kit.tagger, kit.extractor)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30])
def gather_evidence(claims: list[Claim], references: list[ResolvedReference], settings: Settings,
                    top_k: int) -> dict[str, tuple[list[Record], bool]]:
    """claim_id -> (records to read, whether a cited record is missing)."""
    kit = open_toolkit(settings)
    by_marker = {ref.marker: ref for ref in references}
    gathered: dict[str, tuple[list[Record], bool]] = {}
    for claim in claims:
        cited = [by_marker[m] for m in claim.citations if m in by_marker]
        if cited:
            records = [ref.record for ref in cited if ref.status == RESOLVED and ref.record]
            missing = any(ref.status != RESOLVED for ref in cited)
            if missing:  # what it cites is out of reach: look for other evidence too
                records += search_records(claim, kit.client, kit.kb, top_k)[0]
        else:
            records, missing = search_records(claim, kit.client, kit.kb, top_k)[0], False
        gathered[claim.claim_id] = (list({r.uid: r for r in records}.values()), missing)
    return gathered


@task(cache_policy=NO_CACHE)
def extract_batch(records: list[Record], settings: Settings) -> dict[str, ExtractedRecord]:
    kit = open_toolkit(settings)
    return {r.uid: extract_record(r, kit.tagger, kit.extractor) for r in records}


@task(cache_policy=NO_CACHE)
def reconcile(claims: list[Claim], gathered: dict[str, tuple[list[Record], bool]],
              extracted: dict[str, ExtractedRecord], settings: Settings) -> list[ClaimResult]:
    kb = open_toolkit(settings).kb
    return [reconcile_claim(c, gathered[c.claim_id][0], extracted, kb, gathered[c.claim_id][1]) for c in claims]


@task(cache_policy=NO_CACHE)
def export(out: Path, results: list[ClaimResult], references: list[ResolvedReference],
           records: dict[str, Record], extracted: dict[str, ExtractedRecord]) -> list[Path]:
    return write_tables(out, results, references, records, extracted)


def default_out_dir(settings: Settings) -> Path:
    return settings.runs_dir / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


@flow(name="evidence-check", log_prints=True)
def evidence_check(documents: list[str], out: str | None = None, offline: bool = False,
                   refresh: bool = False, top_k: int = 5) -> list[str]:
    """Check every claim of `documents` against the literature; return the CSV paths."""
    settings = load_settings().with_overrides(offline=offline or None)
    out_dir = Path(out) if out else default_out_dir(settings)
    docs = [read_document(path) for path in documents]
    references = [ref for doc in docs for ref in resolve(doc, settings, refresh)]
    claims = [claim for doc in docs for claim in find_claims(doc, settings)]
    by_document: dict[str, list[ResolvedReference]] = {}
    for ref in references:
        by_document.setdefault(ref.document, []).append(ref)
    gathered: dict[str, tuple[list[Record], bool]] = {}
    for doc in docs:
        doc_claims = [c for c in claims if c.document == doc.name]
        gathered.update(gather_evidence(doc_claims, by_document.get(doc.name, []), settings, top_k))
    records = {r.uid: r for recs, _ in gathered.values() for r in recs}
    batches = [list(records.values())[i:i + EXTRACT_BATCH] for i in range(0, len(records), EXTRACT_BATCH)]
    extracted: dict[str, ExtractedRecord] = {}
    for future in extract_batch.map(batches, settings=unmapped(settings)):
        extracted.update(future.result())
    results = reconcile(claims, gathered, extracted, settings)
    paths = export(out_dir, results, references, records, extracted)
    print(f"{len(claims)} claims from {len(docs)} documents, {len(records)} records read; tables in {out_dir}")
    return [str(p) for p in paths]
