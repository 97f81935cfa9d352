"""The `litmine` command line.

Every command reads its settings from the environment and config file
(`pipeline.config`), and reports bad input as one clear line naming the file
and the problem, with exit status 2.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from flows.commands import check_documents, fail, open_store, settings_or_exit
from flows.evaluate import evaluate_app
from flows.terminal import Verbosity, set_verbosity, verbosity

app = typer.Typer(help="Check what documents claim about drugs against the biomedical literature.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
console = Console(stderr=True)

app.add_typer(evaluate_app, name="evaluate")

OfflineOption = Annotated[bool, typer.Option("--offline", help="Use only the local store; never call NCBI.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Show only errors and the command's output "
                                                                  "(no progress, no warnings).")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Show log lines, Prefect's included.")]


def _verbosity(quiet: bool, verbose: bool) -> Verbosity | None:
    """What --quiet or --verbose asks for; None: neither."""
    if quiet and verbose:
        fail("--quiet and --verbose: choose one")
    return Verbosity.QUIET if quiet else Verbosity.VERBOSE if verbose else None


@app.callback()
def main(quiet: QuietOption = False, verbose: VerboseOption = False) -> None:
    """Before any command: how much to show, and Prefect's settings (no command has imported Prefect yet)."""
    from flows.prefect_settings import apply_prefect_defaults

    set_verbosity(_verbosity(quiet, verbose) or Verbosity.DEFAULT)
    apply_prefect_defaults(settings_or_exit())


@app.command("import")
def import_(paths: Annotated[list[Path], typer.Argument(help="Files or folders of records and corpora.")],
            progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True) -> None:
    """Import records and gold corpora (PubMed/PMC XML, BioC, PubTator, DrugProt/ChemProt, SciFact, PubMedQA)."""
    from pipeline.records.importers import import_paths

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        fail(f"no such file or folder: {', '.join(missing)}")
    settings = settings_or_exit()
    store = open_store(settings)
    shown = progress and sys.stderr.isatty() and verbosity() is not Verbosity.QUIET
    report = import_paths(paths, store, progress=shown, max_bytes=settings.max_import_bytes)
    table = Table("source", "added", "updated", "unchanged", title="records")
    for source, counts in sorted(report.per_source.items()):
        table.add_row(source, str(counts.added), str(counts.updated), str(counts.unchanged))
    for key, counts in sorted(report.gold.items()):
        table.add_row(f"gold {key}", str(counts.added), str(counts.updated), str(counts.unchanged))
    Console().print(table)
    console.print(f"{len(report.skipped)} files skipped (no records in them); store: {store.path}")
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for error in report.errors:
        typer.echo(f"error: {error}", err=True)
    if report.errors:
        raise typer.Exit(2)


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Count what the store holds: records per source and gold annotations per corpus."""
    summary = open_store(settings_or_exit()).stats()
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    Console().print(f"store {summary['path']} (schema {summary['schema_version']}): "
                    f"{summary['records']} records, {summary['with_full_text']} with full text")
    table = Table("source", "records")
    for source, n in summary["sources"].items():
        table.add_row(source, str(n))
    Console().print(table)
    gold = Table("corpus/split", "documents", "entities", "relations", "claims")
    for key, counts in summary["gold"].items():
        gold.add_row(key, *(str(counts.get(k, 0)) for k in ("documents", "entities", "relations", "claims")))
    Console().print(gold)


@app.command()
def search(query: Annotated[str, typer.Argument(help="Words to look for.")],
           limit: Annotated[int, typer.Option(help="How many records.")] = 10,
           as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Search the local store (BM25 over titles, abstracts and full texts)."""
    hits = open_store(settings_or_exit()).search(query, limit=limit)
    if as_json:
        print(json.dumps([{"uid": h.record.uid, "pmid": h.record.pmid, "title": h.record.title,
                           "year": h.record.year, "score": round(h.score, 4)} for h in hits], indent=2))
        return
    table = Table("score", "id", "year", "title")
    for hit in hits:
        table.add_row(f"{hit.score:.2f}", hit.record.pmid or hit.record.uid, str(hit.record.year or ""),
                      hit.record.title[:100])
    Console().print(table)
    if not hits:
        console.print("no matching records in the store")


@app.command()
def fetch(pmids: Annotated[list[str], typer.Argument(help="PubMed ids.")],
          refresh: Annotated[bool, typer.Option(help="Fetch again even if the store has them.")] = False,
          offline: OfflineOption = False) -> None:
    """Fetch PubMed records into the store (cache-first)."""
    from pipeline.records.entrez import EntrezClient

    settings = settings_or_exit(offline)
    result = EntrezClient(settings, open_store(settings)).fetch_records(pmids, refresh=refresh)
    console.print(f"{len(result.records)} records ({result.fetched} fetched, {result.from_store} from the store)")
    for pmid, reason in sorted(result.unavailable.items()):
        console.print(f"unavailable {pmid}: {reason}", highlight=False)


@app.command("kb")
def kb_build() -> None:
    """Build the knowledge base from the shared vocabularies (if missing or stale)."""
    from pipeline.entities.kb_build import ensure_kb

    settings = settings_or_exit()
    kb = ensure_kb(settings)
    console.print(f"knowledge base {settings.kb_path} (version {kb.version})")


models_app = typer.Typer(help="litmine's trained spaCy pipelines.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("build")
def models_build(reduced: Annotated[bool, typer.Option(
        help="The quick CI recipe: 100 documents and 300 steps a spaCy model, "
             "200 documents a split for relations, 300 claims for the verifier, "
             "150 documents a corpus for the link model.")] = False) -> None:
    """Train the tagger/parser, NER and relation models, the sentence-level verifier and the
    co-mention link model from ../shared (those not built yet), index the KB for linking, teach the linker the train
    corpora's names and save the entity pipeline as one spaCy folder."""
    from pipeline.entities.kb_build import ensure_kb
    from pipeline.entities.alias_index import build_index
    from pipeline.entities.ner import pipeline_folder
    from pipeline.entities.versions import ner_order
    from pipeline.models import ModelsMissing, linker_dir
    from pipeline.training.comentions import REDUCED_LINK_DOCUMENTS, build_links
    from pipeline.training.spacy_models import build_models

    settings = settings_or_exit()
    kb = ensure_kb(settings)
    try:
        store = open_store(settings)
        built = build_models(settings, store, kb, reduced=reduced)
        built["links"] = build_links(settings, store, limit=REDUCED_LINK_DOCUMENTS if reduced else None)
        built["linker"] = build_index(kb, linker_dir(settings, kb), progress=True)
        # the pipeline with its linker, taught the train corpora's names (into the linker's folder first)
        built["pipeline"] = pipeline_folder(settings, kb, ner_order(settings))
    except (ValueError, ModelsMissing) as exc:
        fail(str(exc))
    table = Table("model", "path", "build s", "MB", title="models")
    for name, path in built.items():
        built_by = path / "build.json"  # relation models trained before litmine wrote one lack it
        record = json.loads(built_by.read_text()) if built_by.is_file() else {}
        table.add_row(name, str(path), f"{record['seconds']:.0f}" if record else "-",
                      f"{record['bytes'] / 1e6:.1f}" if record else "-")
    Console().print(table)


@models_app.command("export")
def models_export(folder: Annotated[Path, typer.Argument(metavar="FOLDER", help="A folder that does not exist yet.")]
                  ) -> None:
    """Write the entity pipeline `litmine run` uses to FOLDER, whole: `spacy.load(FOLDER)` loads it
    wherever litmine is installed, without its settings, store, models or shared data."""
    from pipeline.entities.kb_build import ensure_kb
    from pipeline.entities.ner import pipeline_folder
    from pipeline.entities.versions import ner_order
    from pipeline.models import ModelsMissing

    settings = settings_or_exit()
    if folder.exists():
        fail(f"{folder}: already exists")
    try:
        source = pipeline_folder(settings, ensure_kb(settings), ner_order(settings))
    except ModelsMissing as exc:
        fail(str(exc))
    shutil.copytree(source, folder)
    console.print(f"entity pipeline {source.name} written to {folder}")


RunnerOption = Annotated[str, typer.Option(help="Task runner for extraction: 'default' (threads) or 'dask'.")]
TopKOption = Annotated[int | None, typer.Option(
    help="Records to search per uncited claim (default: as many as the verifier learned to judge).")]


@app.command()
def run(documents: Annotated[list[str], typer.Argument(help="Document files (.txt, .md, .html, .tex, .pdf, .docx) "
                                                             "or URLs.")],
        out: Annotated[Path | None, typer.Option(help="Output folder (default data/processed/runs/<time>).")] = None,
        offline: OfflineOption = False,
        refresh: Annotated[bool, typer.Option(help="Refetch cited records even if stored.")] = False,
        fresh: Annotated[bool, typer.Option(
            help="Ignore the search, extraction and verdict caches; a re-check searches anew for every "
                 "claim.")] = False,
        top_k: TopKOption = None,
        runner: RunnerOption = "default",
        dask_address: Annotated[str | None, typer.Option(help="Scheduler of an existing Dask cluster.")] = None,
        workers: Annotated[int, typer.Option(help="Workers of the local Dask cluster.")] = 2,
        bibliography: Annotated[Path | None, typer.Option(
            help="Bibliography (.bib, .ris, CSL-JSON) resolving citation keys: @key, \\cite{key}.")] = None,
        server: Annotated[bool, typer.Option(
            help="Use litmine's Prefect server, started in the background if none runs and stopped after "
                 "LITMINE_SERVER_IDLE_MINUTES (default 30) unused; --no-server: a temporary API for this run "
                 "(10-25 s to start).")] = True,
        quiet: QuietOption = False, verbose: VerboseOption = False) -> None:
    """Check every claim in the documents; write claims/evidence/triples/references/citations CSVs and report.html.

    Standard output gets the output files' paths, one a line. Standard error gets a progress display
    per stage (bars on a terminal, else a line as each stage ends) and a one-line summary; --quiet:
    errors only; --verbose: log lines too, Prefect's included."""
    chosen = _verbosity(quiet, verbose)
    if chosen:
        set_verbosity(chosen)
    paths = check_documents(documents, out, offline=offline, refresh=refresh, fresh=fresh, top_k=top_k, runner=runner,
                            dask_address=dask_address, workers=workers,
                            bibliography=str(bibliography) if bibliography else None, no_server=not server)
    print("\n".join(paths))


@app.command("export")
def export_(run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR",
                                                    help="A run's output folder (`litmine status` lists them).")],
            format_: Annotated[str, typer.Option("--format", metavar="bioc|pubtator",
                                                 help="BioC JSON or PubTator.")],
            out: Annotated[Path | None, typer.Option(metavar="FILE",
                                                     help="File to write (default: standard output).")] = None) -> None:
    """Write the records a run read, with their mentions and relations, as BioC JSON or PubTator."""
    from pipeline.outputs.files import write_text
    from pipeline.outputs.run_records import export_run

    try:
        exported = export_run(run_dir, format_)
    except ValueError as exc:
        fail(str(exc))
    for uid in exported.skipped:
        typer.echo(f"warning: {uid}: left out, PubTator needs a numeric PMID", err=True)
    if out is None:
        sys.stdout.write(exported.text)
        return
    write_text(out, exported.text)
    console.print(f"{exported.written} records written to {out}", highlight=False)


server_app = typer.Typer(help="A local Prefect server, needed for schedules to fire.", no_args_is_help=True)
app.add_typer(server_app, name="server")


def _prefect_home() -> Path:
    import os

    return Path(os.environ["PREFECT_HOME"])


@server_app.command("start")
def server_start(port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 4200) -> None:
    """Start a Prefect server on 127.0.0.1 (database under LITMINE_DATA/prefect) in the background,
    running until `litmine server stop` (one `litmine run` started is kept from now on too)."""
    from flows.server import ServerError, start_server

    try:
        info, started = start_server(_prefect_home(), port)
    except ServerError as exc:
        fail(str(exc))
    console.print(f"Prefect server {'started' if started else 'already running'} (pid {info.pid}), "
                  f"until `litmine server stop`; API {info.url}; log {info.log}")


@server_app.command("stop")
def server_stop() -> None:
    """Stop the Prefect server started by `litmine server start` or in the background by `litmine run`."""
    from flows.server import stop_server

    console.print("Prefect server stopped" if stop_server(_prefect_home()) else "no Prefect server was running")


def _require_api() -> None:
    """A Prefect server is set, and litmine's, if it is the one, stays up while this command runs."""
    import os

    from flows.server import keep_alive, running_server

    if "PREFECT_API_URL" not in os.environ:
        fail("no Prefect server: run `litmine server start` first (or set PREFECT_API_URL)")
    if running_server(_prefect_home()):
        keep_alive(_prefect_home())


@app.command()
def deploy(documents: Annotated[list[str], typer.Argument(help="Documents to re-check on the schedule.")],
           cron: Annotated[str, typer.Option(help="Cron schedule, e.g. '0 3 * * *'.")],
           name: Annotated[str, typer.Option(help="Deployment name.")] = "nightly",
           timezone: Annotated[str, typer.Option(help="IANA time zone of the schedule.")] = "UTC",
           offline: OfflineOption = False,
           top_k: TopKOption = None) -> None:
    """Register a scheduled deployment of the evidence check and serve it (until Ctrl-C)."""
    _require_api()
    for doc in documents:
        if "://" not in doc and not Path(doc).is_file():
            fail(f"{doc}: no such document")
    from flows.evidence_check import serve

    serve(documents, name, cron, timezone, offline, top_k)


@app.command()
def trigger(name: Annotated[str, typer.Argument(help="Deployment name (as given to `litmine deploy`).")],
            wait: Annotated[bool, typer.Option(help="Wait for the run to finish.")] = True) -> None:
    """Start a run of a deployment now."""
    _require_api()
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        flow_run = run_deployment(f"evidence-check/{name}", timeout=None if wait else 0)
    except ObjectNotFound:
        fail(f"no deployment named {name!r} on this Prefect server (`litmine deploy --name {name}` makes one)")
    console.print(f"flow run {flow_run.name} ({flow_run.id}): {flow_run.state.name if flow_run.state else '?'}")
    if wait and not (flow_run.state and flow_run.state.is_completed()):
        raise typer.Exit(1)


@app.command()
def status(limit: Annotated[int, typer.Option(help="How many runs.")] = 10,
           as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Recent runs and their verdict summaries."""
    recent = open_store(settings_or_exit()).recent_runs(limit)
    if as_json:
        print(json.dumps(recent, indent=2))
        return
    table = Table("started", "run", "documents", "verdicts", "outputs")
    for entry in recent:
        verdicts = ", ".join(f"{k} {v}" for k, v in entry["summary"].items())
        table.add_row(entry["started_at"], entry["run_id"][:8], "\n".join(Path(d).name for d in entry["documents"]),
                      verdicts, entry["out_dir"])
    Console().print(table)


if __name__ == "__main__":
    app()
