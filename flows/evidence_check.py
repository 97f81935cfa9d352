"""The evidence check as a Prefect flow: documents in, CSV evidence tables out.

Each task is a thin wrapper around `pipeline` functions; the flow only decides
what runs on what. Extraction and verdicts are cached by content (record
content hashes + model/KB version), not by flow run, so a re-run over
unchanged inputs recomputes nothing and a new model version recomputes
everything it affects. Results persist under `LITMINE_DATA/cache`. A fetch that could
not get everything (NCBI errors, an outage) is not cached: the next run asks again.
NCBI retries live in the Entrez client (a time budget, `pipeline.records.retries`), so
the tasks that call it are not retried by Prefect on top.

A served deployment (`serve`) checks only what it was deployed with: anyone who can reach
the Prefect API can start its runs, with parameters of their choosing, so the serving process
pins them (`PINNED_ENV`, which its flow-run processes inherit) and a run asking for other
documents, another output folder or other settings fails before it reads anything.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from prefect import flow, task, unmapped
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.runtime import flow_run
from prefect.states import Failed
from prefect.transactions import get_transaction
from prefect.utilities.annotations import quote

from flows.terminal import counted, progress
from pipeline.claims.statements import document_claims
from pipeline.codehash import closure_hash
from pipeline.config import Settings, load_settings
from pipeline.datatypes import Claim, ClaimResult, Document, ExtractedRecord, Record, ResolvedReference
from pipeline.documents.reading import DocumentError, read_documents
from pipeline.outputs import runs
from pipeline.outputs.export import write_tables
from pipeline.outputs.report import write_report
from pipeline.outputs.run_records import write_run_records
from pipeline.records.references import resolve_references
from pipeline.toolkit import FETCH_ROOTS, open_toolkit
from pipeline.verdicts.evidence import Candidates, gather, needs_search, search_pools
from pipeline.verdicts.pool import POOL_MIN_RECORDS
from pipeline.verdicts.rationales import rank_records
from pipeline.verdicts.recheck import Recheck, added_since, esearch_day, read_again
from pipeline.verdicts.verifier import verify_claim

EXTRACT_BATCH = 50
# the stages a run shows its progress in (flows.terminal), each counted where its work is done
REFERENCES, FETCHED, READ, CHECKED = "references resolved", "records fetched", "records read", "claims checked"
PINNED_ENV = "LITMINE_DEPLOYMENT_PARAMETERS"  # JSON: the parameters a served deployment runs with
Gathered = dict[str, Candidates]  # claim_id -> the records to read for it


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:40]


def _gathered_keys(gathered: Gathered) -> dict[str, str]:
    """Each record's key once, however many claims read it."""
    return {r.uid: key for c in gathered.values() for r, key in zip(c.records, map(_record_key, c.records))}


def _record_key(record: Record) -> str:
    return f"{record.uid}:{record.content_hash()}"


def fetch_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Searches see the store (or, online, PubMed as of today): same claims, same store
    generation, same day -> same records."""
    settings: Settings = parameters["settings"]
    kit = open_toolkit(settings)
    day = "offline" if kit.client.offline else datetime.now(timezone.utc).date().isoformat()
    parts: list[object] = [closure_hash(*FETCH_ROOTS), kit.store.generation, day, parameters["top_k"],
                           kit.verifier_path.parent.name]
    parts += [(c.claim_id, repr(c.relation), c.text, c.citations) for c in parameters["claims"]]
    parts += [(r.marker, r.status, _record_key(r.record) if r.record else "") for r in parameters["references"]]
    recheck: Recheck | None = parameters.get("recheck")
    if recheck is not None:
        parts += [recheck.since, sorted(recheck.read_before.items())]
    return "fetch-" + _digest(*parts)


def extraction_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Same record texts, same models and KB: same extraction, whichever run asks. Keyed by the
    text alone (`Record.text_hash`): a record PubMed has since retracted is not read again."""
    kit = open_toolkit(parameters["settings"])
    texts = sorted(f"{r.uid}:{r.text_hash()}" for r in parameters["records"])
    return "extract-" + _digest(kit.extraction_version, *texts)


def verdict_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Same claims read against the same records by the same code: same verdicts."""
    kit = open_toolkit(parameters["settings"])
    gathered: Gathered = parameters["gathered"]
    record_keys = _gathered_keys(gathered)
    parts = [kit.verdict_version]
    for claim in parameters["claims"]:
        candidates = gathered[claim.claim_id]
        parts += [claim.claim_id, repr(claim.relation), claim.text, claim.citations, candidates.missing_cited,
                  candidates.search_failure, sorted(candidates.cited),
                  *(record_keys[r.uid] for r in candidates.records)]
    return "verdicts-" + _digest(*parts)


@task(name="resolve_references", cache_policy=NO_CACHE)
def resolve(documents: list[Document], settings: Settings, refresh: bool) -> list[ResolvedReference]:
    """Cited records, fetched or read from the store (Entrez pacing stays inside the client)."""
    client = open_toolkit(settings).client
    settled = progress().advance
    return [ref for doc in documents
            for ref in resolve_references(doc, client, refresh, lambda done: settled(REFERENCES, done))]


def claims_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Same documents read by the same models and claim rules: same claims."""
    kit = open_toolkit(parameters["settings"])
    documents: list[Document] = parameters["documents"]
    return "claims-" + _digest(kit.claims_version, *((d.name, d.text) for d in documents))


@task(cache_key_fn=claims_cache_key, persist_result=True, cache_expiration=None)
def find_claims(documents: list[Document], settings: Settings) -> list[Claim]:
    """Triple claims and statements; sentences that assert nothing are counted in the log."""
    kit = open_toolkit(settings)
    claims = []
    for doc in documents:
        found, skipped = document_claims(doc, kit.tagger, kit.claim_extractor, kit.kb)
        claims += found
        if skipped:
            print(f"{doc.name}: {len(found)} claims; sentences skipped: "
                  + ", ".join(f"{n} {reason}" for reason, n in sorted(skipped.items())))
    return claims


def _not_cached() -> None:
    """Keep this task run's result out of the result cache: Prefect writes it under the key
    computed before the run only when the task's transaction commits."""
    transaction = get_transaction()
    if transaction is not None:
        transaction.write_on_commit = False


@task(cache_key_fn=fetch_cache_key, persist_result=True, cache_expiration=None)
def fetch_records(claims: list[Claim], references: list[ResolvedReference], settings: Settings,
                  top_k: int | None, recheck: Recheck | None = None) -> Gathered:
    """Per claim: its cited records, plus a search where it cites nothing or what it cites is missing.
    The claims searched for are searched together (`search_pools`: an esearch each, one fetch for
    all their candidates). A re-check (`recheck`: the last run's day and what each claim read then)
    asks PubMed only what it added since, for all the claims at once; a claim new since then is searched.
    A search that failed leaves the result uncached (its key says nothing of the failure)."""
    kit = open_toolkit(settings)
    by_marker = {(ref.document, ref.marker): ref for ref in references}
    cited = {c.claim_id: [by_marker[(c.document, m)] for m in c.citations if (c.document, m) in by_marker]
             for c in claims}
    # a re-check's claims that are searched for and were read last time: claim id -> uids read then
    read_before = {c.claim_id: uids for c in claims if recheck and needs_search(c, cited[c.claim_id])
                   and (uids := recheck.read_before.get(runs.claim_key(c))) is not None}
    added = added_since([c for c in claims if c.claim_id in read_before], kit.client, kit.kb,
                        recheck.since) if recheck else None
    pools = {c.claim_id: read_again(c, [r for uid in read_before[c.claim_id] if (r := kit.store.get(uid))], added,
                                    kit.kb) for c in claims if added is not None and c.claim_id in read_before}
    pools |= search_pools([c for c in claims if c.claim_id not in pools and needs_search(c, cited[c.claim_id])],
                          kit.client, kit.kb)
    gathered: Gathered = {}
    for claim in claims:
        gathered[claim.claim_id] = gather(claim, cited[claim.claim_id], kit.client, kit.kb,
                                          top_k or kit.verifier.top_k,
                                          lambda text, pool: rank_records(kit.verifier, text, pool),
                                          pools.get(claim.claim_id))
        progress().advance(FETCHED)
    if any(c.search_failure for c in gathered.values()):
        _not_cached()
    return gathered


@task(cache_key_fn=extraction_cache_key, persist_result=True, cache_expiration=None)
def extract(records: list[Record], settings: Settings, pooled: bool = False) -> dict[str, ExtractedRecord]:
    """Entities and relations of a batch of records, read by the worker processes when `pooled`
    (a run with many records: the batches' tasks run at once, so every worker has work)."""
    extracted = open_toolkit(settings).extract(records, pooled)
    progress().advance(READ, len(records))
    return {record.uid: found for record, found in zip(records, extracted)}


@task(cache_key_fn=verdict_cache_key, persist_result=True, cache_expiration=None)
def check_claims(claims: list[Claim], gathered: Gathered, extracted: dict[str, ExtractedRecord],
                 settings: Settings) -> list[ClaimResult]:
    kit, results = open_toolkit(settings), []
    for claim in claims:
        results.append(verify_claim(claim, gathered[claim.claim_id], extracted, kit.kb, kit.verifier,
                                    kit.dictionary_tagger, kit.links))
        progress().advance(CHECKED)
    return results


@task(cache_policy=NO_CACHE)
def compare_runs(run_id: str, documents: list[str], out: Path, results: list[ClaimResult],
                 references: list[ResolvedReference], settings: Settings) -> list[runs.Change] | None:
    """What changed since the previous run of the same documents (None when there was none); a run
    into the folder of an earlier one repeats it, and compares with the run before that."""
    store = open_toolkit(settings).store
    previous = store.previous_run(runs.documents_key(documents), before=run_id, out_dir=str(out))
    return runs.diff(store.run_claims(previous), runs.snapshot(results, references)) if previous else None


@task(cache_policy=NO_CACHE)
def export(out: Path, documents: list[Document], results: list[ClaimResult], references: list[ResolvedReference],
           records: dict[str, Record], extracted: dict[str, ExtractedRecord],
           changes: list[runs.Change] | None) -> list[Path]:
    """The CSV tables (changes.csv where an earlier run compares), the HTML report, and the records
    read with their extraction (for `litmine export`)."""
    tables = write_tables(out, results, references, records, extracted)
    if (changed := runs.write_changes(out / "changes.csv", changes)) is not None:
        tables.append(changed)
    return [*tables, write_report(out, documents, results, references, changes),
            write_run_records(out, records, extracted)]


@task(cache_policy=NO_CACHE)
def record_run(run_id: str, documents: list[str], out: Path, results: list[ClaimResult],
               references: list[ResolvedReference], gathered: Gathered, settings: Settings) -> dict[str, int]:
    """Keep this run's verdicts and what each claim read, for the next run of the same documents."""
    counts = runs.summary(results)
    read = {claim_id: [r.uid for r in candidates.records] for claim_id, candidates in gathered.items()}
    open_toolkit(settings).store.add_run(run_id, runs.documents_key(documents), sorted(documents), str(out), counts,
                                         runs.snapshot(results, references, read))
    return counts


def last_check(run_id: str, documents: list[str], out: Path, settings: Settings) -> Recheck | None:
    """An online run over documents checked before (in another folder: see `compare_runs`) is a
    re-check (`fetch_records`): since that check's day, and with what each claim read then."""
    kit = open_toolkit(settings)
    previous = None if kit.client.offline else kit.store.previous_run(runs.documents_key(documents), before=run_id,
                                                                       out_dir=str(out))
    if previous is None:
        return None
    read = {c.claim_key: c.read for c in kit.store.run_claims(previous) if c.read}
    return Recheck(esearch_day(kit.store.run_started(previous)), read)


def default_out_dir(settings: Settings) -> Path:
    return settings.runs_dir / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def _tally(labels: Iterable[str]) -> str:
    """"2 resolved, 1 unavailable": how many of each label, for the progress display."""
    return ", ".join(f"{n} {label}" for label, n in sorted(Counter(labels).items()))


def _batches(records: list[Record]) -> list[list[Record]]:
    ordered = sorted(records, key=lambda r: r.uid)
    return [ordered[i:i + EXTRACT_BATCH] for i in range(0, len(ordered), EXTRACT_BATCH)]


@flow(name="evidence-check", log_prints=True)
def evidence_check(documents: list[str], out: str | None = None, offline: bool = False,
                   refresh: bool = False, fresh: bool = False, top_k: int | None = None,
                   bibliography: str | None = None) -> list[str]:
    """Check every claim of `documents` against the literature; return the output paths.

    `refresh` refetches cited records; `fresh` ignores the search, extraction and verdict caches;
    `top_k` records are searched per claim that needs a search (default: the verifier's `top_k`, the
    depth it was trained to judge, chosen by cross-validation on SciFact train); `bibliography`
    (.bib, .ris, CSL-JSON) resolves the documents' citation keys.
    """
    refused = unpinned({"documents": documents, "out": out, "offline": offline, "top_k": top_k,
                        "bibliography": bibliography})
    if refused:
        return _failed(ValueError(refused))
    settings = load_settings().with_overrides(offline=offline or None)
    out_dir = (Path(out) if out else default_out_dir(settings)).resolve()  # the run history's name for it
    docs, unreadable = read_documents(documents, bibliography, settings)
    for error in unreadable:
        print(f"skipped: {error}")
    if not docs:
        return _failed(DocumentError("\n".join(["no document could be read:", *unreadable])))
    run_id, paths_checked = str(flow_run.id or out_dir.name), [d.path for d in docs]
    recheck = None if fresh else last_check(run_id, paths_checked, out_dir, settings)
    if recheck:
        print(f"re-check: asking PubMed only for what it added since {recheck.since}; cited records fetched again")
    shown = progress()  # each stage ends here too, for the tasks a cache answered or another process ran
    shown.begin(REFERENCES, sum(len(d.references) for d in docs), "references")
    references = resolve(docs, settings, refresh or recheck is not None)
    shown.end(REFERENCES, _tally(r.status for r in references))
    claims = find_claims.with_options(refresh_cache=fresh or None)(quote(docs), settings)
    shown.begin(FETCHED, len(claims), "claims")
    gathered = fetch_records.with_options(refresh_cache=fresh or refresh or None)(claims, references, settings, top_k,
                                                                                  recheck)
    records = {r.uid: r for candidates in gathered.values() for r in candidates.records}
    shown.end(FETCHED, counted(len(records), "records"))
    shown.begin(READ, len(records), "records")
    extracted: dict[str, ExtractedRecord] = {}
    extraction = extract.with_options(refresh_cache=fresh or None)
    pooled = len(records) >= POOL_MIN_RECORDS
    for future in extraction.map(_batches(list(records.values())), settings=unmapped(settings),
                                 pooled=unmapped(pooled)):
        extracted.update(future.result())
    shown.end(READ)
    shown.begin(CHECKED, len(claims), "claims")
    # quote(): large inputs Prefect need not walk looking for futures
    results = check_claims.with_options(refresh_cache=fresh or None)(claims, quote(gathered), quote(extracted),
                                                                     settings)
    shown.end(CHECKED)
    changes = compare_runs(run_id, paths_checked, out_dir, quote(results), quote(references), settings)
    paths = export(out_dir, quote(docs), quote(results), quote(references), quote(records), quote(extracted),
                   quote(changes))
    counts = record_run(run_id, paths_checked, out_dir, quote(results), quote(references), quote(gathered), settings)
    create_markdown_artifact(runs.changes_markdown(counts, changes or []), key="evidence-check-summary",
                             description=f"Verdicts for {len(docs)} documents")
    if changes:
        create_table_artifact([vars(c) for c in changes], key="evidence-check-changes",
                              description="What changed since the previous run of these documents")
    summary = (f"{counted(len(claims), 'claims')} from {counted(len(docs), 'documents')}, "
               f"{counted(len(records), 'records')} read; verdicts: "
               + (_tally(r.verdict for r in results) or "none") + f"; tables in {out_dir}")
    print(summary)  # the flow's log: a server's UI, --verbose
    shown.finish(summary)
    if unreadable:  # the run fails, as a whole, only after the readable documents are checked and written
        return _failed(DocumentError("\n".join([f"{len(unreadable)} of {len(documents)} documents could not be "
                                                f"read (the others are checked, tables in {out_dir}):",
                                                *unreadable])))
    return [str(p) for p in paths]


def _failed(error: ValueError) -> Any:
    """The run's end as a Failed state holding `error`, which the caller of the flow gets raised:
    bad input is the user's to fix, not a crash, so Prefect logs no traceback for it."""
    return Failed(message=str(error).split("\n", 1)[0], data=error)


def with_runner(runner: str = "default", address: str | None = None, workers: int = 2) -> Any:
    """The flow with the task runner asked for: the default in-process threads, or Dask
    (a local cluster of `workers` processes, or the existing scheduler at `address`)."""
    if runner == "default":
        return evidence_check
    if runner != "dask":
        raise ValueError(f"unknown runner {runner!r}: use 'default' or 'dask'")
    from prefect_dask import DaskTaskRunner

    if address:
        return evidence_check.with_options(task_runner=DaskTaskRunner(address=address))
    cluster = {"n_workers": workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None}
    return evidence_check.with_options(task_runner=DaskTaskRunner(cluster_kwargs=cluster))


def unpinned(given: dict[str, Any]) -> str:
    """In a served deployment's process, why a run whose parameters differ from the deployment's is
    refused ("" when they do not; `refresh` and `fresh` may differ: they only fetch and compute anew)."""
    pinned = os.environ.get(PINNED_ENV)
    changed = sorted(name for name, value in json.loads(pinned).items() if given.get(name) != value) if pinned else []
    return (f"this deployment checks only the documents it was deployed with; refused a run that changes "
            f"{', '.join(changed)}") if changed else ""


def serve(documents: list[str], name: str, cron: str, timezone: str = "UTC", offline: bool = False,
          top_k: int | None = None) -> None:
    """Register a cron-scheduled deployment of the evidence check and serve it until stopped; its
    runs check only these documents, with these settings, into the default runs folder."""
    from prefect.schedules import Cron

    parameters = {"documents": [d if "://" in d else str(Path(d).resolve()) for d in documents], "out": None,
                  "offline": offline,
                  "top_k": top_k, "bibliography": None}
    os.environ[PINNED_ENV] = json.dumps(parameters)
    evidence_check.serve(name=name, schedules=[Cron(cron, timezone=timezone)], parameters=parameters)
