"""The `litmine` command line.

Every command reads its settings from the environment and config file
(`pipeline.config`), and reports bad input as one clear line naming the file
and the problem, with exit status 2.
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from pipeline.config import ConfigError, Settings, load_settings
from pipeline.documents.reading import DocumentError
from pipeline.records.store import Store, StoreError

app = typer.Typer(help="Check what documents claim about drugs against the biomedical literature.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
console = Console(stderr=True)

OfflineOption = Annotated[bool, typer.Option("--offline", help="Use only the local store; never call NCBI.")]


def _settings(offline: bool = False) -> Settings:
    try:
        return load_settings().with_overrides(offline=offline or None)
    except ConfigError as exc:
        _fail(str(exc))


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _store(settings: Settings) -> Store:
    try:
        return Store(settings.store_path)
    except StoreError as exc:
        _fail(str(exc))


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False) -> None:
    """Before any command: logging, and Prefect's settings (no command has imported Prefect yet)."""
    from flows.prefect_settings import apply_prefect_defaults

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    apply_prefect_defaults(_settings())


@app.command("import")
def import_(paths: Annotated[list[Path], typer.Argument(help="Files or folders of records and corpora.")],
            progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True) -> None:
    """Import records and gold corpora (PubMed/PMC XML, BioC, PubTator, DrugProt/ChemProt, SciFact, PubMedQA)."""
    from pipeline.records.importers import import_paths

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        _fail(f"no such file or folder: {', '.join(missing)}")
    store = _store(_settings())
    report = import_paths(paths, store, progress=progress and sys.stderr.isatty())
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
    summary = _store(_settings()).stats()
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
    hits = _store(_settings()).search(query, limit=limit)
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

    settings = _settings(offline)
    result = EntrezClient(settings, _store(settings)).fetch_records(pmids, refresh=refresh)
    console.print(f"{len(result.records)} records ({result.fetched} fetched, {result.from_store} from the store)")
    for pmid, reason in sorted(result.unavailable.items()):
        console.print(f"unavailable {pmid}: {reason}", highlight=False)


@app.command("kb")
def kb_build() -> None:
    """Build the knowledge base from the shared vocabularies (if missing or stale)."""
    from pipeline.entities.kb_build import ensure_kb

    settings = _settings()
    kb = ensure_kb(settings)
    console.print(f"knowledge base {settings.kb_path} (version {kb.version})")


models_app = typer.Typer(help="litmine's trained spaCy pipelines.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("build")
def models_build(reduced: Annotated[bool, typer.Option(
        help="The quick CI recipe: 100 documents and 300 steps a spaCy model, "
             "200 documents a split for relations.")] = False) -> None:
    """Train the tagger/parser, NER and relation models from ../shared (those not built yet)
    and index the KB for linking."""
    from pipeline.entities.kb_build import ensure_kb
    from pipeline.entities.linking import build_index
    from pipeline.models import linker_dir
    from pipeline.training.spacy_models import build_models

    settings = _settings()
    kb = ensure_kb(settings)
    try:
        built = build_models(settings, _store(settings), kb, reduced=reduced)
    except ValueError as exc:
        _fail(str(exc))
    built["linker"] = build_index(kb, linker_dir(settings, kb), progress=True)
    table = Table("model", "path", "build s", "MB", title="models")
    for name, path in built.items():
        built_by = path / "build.json"  # relation models trained before litmine wrote one lack it
        record = json.loads(built_by.read_text()) if built_by.is_file() else {}
        table.add_row(name, str(path), f"{record['seconds']:.0f}" if record else "-",
                      f"{record['bytes'] / 1e6:.1f}" if record else "-")
    Console().print(table)


evaluate_app = typer.Typer(help="Benchmarks on the gold corpora (train on train, report on dev/test).",
                            no_args_is_help=True)
app.add_typer(evaluate_app, name="evaluate")


def _print_figures(figures: dict[str, dict[str, float]], as_json: bool, title: str) -> None:
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    table = Table("setting", *sorted({k for row in figures.values() if isinstance(row, dict) for k in row}),
                  title=title)
    columns = [c.header for c in table.columns[1:]]
    for name, row in figures.items():
        if isinstance(row, dict):
            table.add_row(name, *(f"{row[c]:.3f}" if isinstance(row.get(c), float) else str(row.get(c, ""))
                                  for c in columns))
    Console().print(table)


@evaluate_app.command("claims")
def evaluate_claims(corpus: Annotated[str, typer.Option(help="Claim corpus: scifact.")] = "scifact",
                    split: Annotated[str, typer.Option(help="dev (test has no labels).")] = "dev",
                    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """SciFact abstract-level label-only P/R/F1 (open retrieval and oracle abstracts) and rationale selection."""
    if corpus != "scifact":
        _fail(f"unknown claim corpus {corpus!r}: litmine evaluates claims on scifact")
    from pipeline.entities.dictionary import DictionaryTagger
    from pipeline.evaluation.scifact import evaluate_scifact
    from pipeline.toolkit import open_toolkit

    settings = _settings()
    kit = open_toolkit(settings)
    try:  # the KB dictionary's ids as features: 5,183 abstracts in seconds, not minutes
        figures = evaluate_scifact(kit.store, split, settings.models, DictionaryTagger(kit.kb))
    except ValueError as exc:
        _fail(str(exc))
    _print_figures(figures, as_json, f"SciFact {split}")


@evaluate_app.command("relations")
def evaluate_relations(corpus: Annotated[str, typer.Option(help="drugprot, chemprot, bc5cdr or biored.")],
                       split: Annotated[str, typer.Option(help="dev or test.")] = "dev",
                       entities: Annotated[str, typer.Option(help="gold, or predicted by litmine's tagger.")] = "gold",
                       as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Relation extraction P/R/F1 with each benchmark's official counting (trains the model if missing)."""
    from pipeline.evaluation.relations import evaluate_relations_in_store
    from pipeline.models import ModelsMissing

    try:
        figures = evaluate_relations_in_store(corpus, split, entities, settings=_settings(), progress=True)
    except (ValueError, FileNotFoundError, ModelsMissing) as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    _print_figures({"micro": figures["micro"], **figures["per_type"]}, False,
                   f"{corpus} {split}, {entities} entities")


@evaluate_app.command("ner")
def evaluate_ner(corpus: Annotated[str, typer.Option(help="bc5cdr, biored or nlm_gene.")],
                 split: Annotated[str, typer.Option(help="dev or test (nlm_gene: train-dev or test).")] = "dev",
                 as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Entity recognition P/R/F1 per type, strict: character offsets and type must equal a gold mention's."""
    from pipeline.evaluation.entities import evaluate_ner as evaluate
    from pipeline.training.spacy_models import gold_split

    if corpus not in ("bc5cdr", "biored", "nlm_gene"):
        _fail(f"unknown NER corpus {corpus!r}: choose bc5cdr, biored or nlm_gene")
    settings = _settings()
    tagger = _pipeline_tagger(settings, corpus)
    try:
        figures = evaluate(tagger, gold_split(_store(settings), corpus, split), corpus, split)
    except ValueError as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    _print_figures({"overall": figures["overall"], **figures["per_type"]}, False, f"{corpus} {split} NER (strict)")


@evaluate_app.command("linking")
def evaluate_linking(corpus: Annotated[str, typer.Option(help="bc5cdr or biored.")],
                     split: Annotated[str, typer.Option(help="dev or test.")] = "dev",
                     as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Identifier accuracy on gold mentions: BC5CDR chemicals/diseases to MeSH, BioRED genes to NCBI Gene."""
    from pipeline.entities.kb_build import ensure_kb
    from pipeline.entities.linking import Linker
    from pipeline.evaluation.linking import evaluate_linking as evaluate

    if corpus not in ("bc5cdr", "biored"):
        _fail(f"unknown linking corpus {corpus!r}: choose bc5cdr or biored")
    settings = _settings()
    kb = ensure_kb(settings)
    figures = evaluate(_store(settings), kb, Linker.load(settings, kb), corpus, split)
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    _print_figures({"overall": {"accuracy": figures["accuracy"]}, **figures["per_type"]}, False,
                   f"{corpus} {split} linking (gold mentions)")


@evaluate_app.command("verdicts")
def evaluate_verdicts(corpus: Annotated[str, typer.Option(help="pharma: cited claims from gold relations.")] = "pharma",
                      split: Annotated[str, typer.Option(help="dev or test.")] = "dev",
                      limit: Annotated[int, typer.Option(help="Documents per source corpus.")] = 100,
                      out: Annotated[Path | None, typer.Option(help="Where the run's tables go.")] = None,
                      as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Verdicts as `litmine run` gives them, on claims whose answer is known: `pharma` writes true,
    flipped and unrelated claims from BioRED, BC5CDR and DrugProt gold relations, each citing the
    abstract it comes from, and checks them offline with the evidence-check flow."""
    import csv
    import tempfile

    from pipeline.evaluation import pharma

    if corpus != "pharma":
        _fail(f"unknown verdict corpus {corpus!r}: litmine evaluates verdicts on pharma")
    settings = _settings(offline=True)
    folder = out or Path(tempfile.mkdtemp(prefix="litmine-verdicts-"))
    folder.mkdir(parents=True, exist_ok=True)
    claims = {}
    with _store(settings) as store:
        for source in pharma.CORPORA:
            try:
                claims[source] = pharma.pharma_claims(store, source, split, limit)
            except ValueError as exc:
                _fail(str(exc))
    for source in claims:
        (folder / f"pharma-{source}.txt").write_text(pharma.claims_document(claims[source]), encoding="utf-8")
    _check([str(folder / f"pharma-{source}.txt") for source in claims], folder / "run", offline=True)
    with (folder / "run" / "claims.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    given = {source: pharma.verdicts_given(items, [r for r in rows if r["document"] == f"pharma-{source}"])
             for source, items in claims.items()}
    figures = {source: pharma.score(items, given[source], source, split).as_dict() for source, items in claims.items()}
    overall = pharma.score([c for items in claims.values() for c in items], [v for vs in given.values() for v in vs],
                           "pharma", split).as_dict()
    if as_json:
        print(json.dumps({**overall, "per_corpus": figures}, indent=2))
        return
    columns = ("claims", "claims_extracted", "accuracy", "claim_macro_f1", "opposite_rate")
    _print_figures({name: {c: row[c] for c in columns} for name, row in {**figures, "pharma": overall}.items()},
                   False, f"verdicts, pharma {split} (tables in {folder / 'run'})")


def _pipeline_tagger(settings: Settings, corpus: str | None = None):
    """The trained entity pipeline; for a corpus, the NER trained on its guidelines goes first."""
    from pipeline.entities.kb_build import ensure_kb
    from pipeline.models import ModelsMissing
    from pipeline.entities.ner import PipelineTagger

    try:
        return PipelineTagger.load(settings, ensure_kb(settings), corpus)
    except ModelsMissing as exc:
        _fail(str(exc))


RunnerOption = Annotated[str, typer.Option(help="Task runner for extraction: 'default' (threads) or 'dask'.")]


@app.command()
def run(documents: Annotated[list[str], typer.Argument(help="Document files (.txt, .md, .html) or URLs.")],
        out: Annotated[Path | None, typer.Option(help="Output folder (default data/processed/runs/<time>).")] = None,
        offline: OfflineOption = False,
        refresh: Annotated[bool, typer.Option(help="Refetch cited records even if stored.")] = False,
        fresh: Annotated[bool, typer.Option(help="Ignore the search, extraction and verdict caches.")] = False,
        top_k: Annotated[int, typer.Option(help="Records to search per uncited claim.")] = 5,
        runner: RunnerOption = "default",
        dask_address: Annotated[str | None, typer.Option(help="Scheduler of an existing Dask cluster.")] = None,
        workers: Annotated[int, typer.Option(help="Workers of the local Dask cluster.")] = 2) -> None:
    """Check every claim in the documents; write claims/evidence/triples/references CSVs and report.html."""
    paths = _check(documents, out, offline=offline, refresh=refresh, fresh=fresh, top_k=top_k, runner=runner,
                   dask_address=dask_address, workers=workers)
    print("\n".join(paths))


def _check(documents: list[str], out: Path | None, runner: str = "default", dask_address: str | None = None,
           workers: int = 2, **flow_options: object) -> list[str]:
    """Run the evidence-check flow on `documents`, as `litmine run` does; returns its output paths."""
    for doc in documents:
        if "://" not in doc and not Path(doc).is_file():
            _fail(f"{doc}: no such document")
    from pipeline.models import ModelsMissing
    from pipeline.toolkit import open_toolkit

    try:
        open_toolkit(_settings())  # models missing: one clear error before the flow starts
    except ModelsMissing as exc:
        _fail(str(exc))
    from flows.server import start_temporary_api

    api = start_temporary_api()
    from flows.evidence_check import with_runner

    try:
        check = with_runner(runner, dask_address, workers)
        if api:
            api.join()
        return check(documents, out=str(out) if out else None, **flow_options)
    except (DocumentError, ValueError) as exc:
        _fail(str(exc))


server_app = typer.Typer(help="A local Prefect server, needed for schedules to fire.", no_args_is_help=True)
app.add_typer(server_app, name="server")


def _prefect_home() -> Path:
    import os

    return Path(os.environ["PREFECT_HOME"])


@server_app.command("start")
def server_start(port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 4200) -> None:
    """Start a Prefect server on 127.0.0.1 (database under LITMINE_DATA/prefect) in the background."""
    from flows.server import ServerError, start_server

    try:
        info = start_server(_prefect_home(), port)
    except ServerError as exc:
        _fail(str(exc))
    console.print(f"Prefect server running (pid {info.pid}); API {info.url}; log {info.log}")


@server_app.command("stop")
def server_stop() -> None:
    """Stop the Prefect server started by `litmine server start`."""
    from flows.server import stop_server

    console.print("Prefect server stopped" if stop_server(_prefect_home()) else "no Prefect server was running")


def _require_api() -> None:
    import os

    if "PREFECT_API_URL" not in os.environ:
        _fail("no Prefect server: run `litmine server start` first (or set PREFECT_API_URL)")


@app.command()
def deploy(documents: Annotated[list[str], typer.Argument(help="Documents to re-check on the schedule.")],
           cron: Annotated[str, typer.Option(help="Cron schedule, e.g. '0 3 * * *'.")],
           name: Annotated[str, typer.Option(help="Deployment name.")] = "nightly",
           timezone: Annotated[str, typer.Option(help="IANA time zone of the schedule.")] = "UTC",
           offline: OfflineOption = False,
           top_k: Annotated[int, typer.Option(help="Records to search per uncited claim.")] = 5) -> None:
    """Register a scheduled deployment of the evidence check and serve it (until Ctrl-C)."""
    _require_api()
    for doc in documents:
        if "://" not in doc and not Path(doc).is_file():
            _fail(f"{doc}: no such document")
    from flows.evidence_check import serve

    serve(documents, name, cron, timezone, offline, top_k)


@app.command()
def trigger(name: Annotated[str, typer.Argument(help="Deployment name (as given to `litmine deploy`).")],
            wait: Annotated[bool, typer.Option(help="Wait for the run to finish.")] = True) -> None:
    """Start a run of a deployment now."""
    _require_api()
    from prefect.deployments import run_deployment

    flow_run = run_deployment(f"evidence-check/{name}", timeout=None if wait else 0)
    console.print(f"flow run {flow_run.name} ({flow_run.id}): {flow_run.state.name if flow_run.state else '?'}")
    if wait and not (flow_run.state and flow_run.state.is_completed()):
        raise typer.Exit(1)


@app.command()
def status(limit: Annotated[int, typer.Option(help="How many runs.")] = 10,
           as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Recent runs and their verdict summaries."""
    recent = _store(_settings()).recent_runs(limit)
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
