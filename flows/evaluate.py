"""`litmine evaluate`: benchmarks on the gold corpora, through the code users run.

Models are trained on train splits and selected on dev; every figure here is printed by a
command, as a table or, with `--json`, as the evaluation's `as_dict()` alone on stdout
(progress goes to stderr), so that it can be piped.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Protocol

import typer
from rich.console import Console
from rich.table import Table

from flows.commands import check_documents, fail, open_store, settings_or_exit
from pipeline.config import Settings

if TYPE_CHECKING:  # the evaluations are imported by the commands that run them, not at startup
    from pipeline.evaluation.calibration import Outcome, Reliability
    from pipeline.evaluation.entities import Scores
    from pipeline.evaluation.pharma import PharmaFigures, VerdictFigures
    from pipeline.evaluation.scifact import ClaimFigures

RUN_FILE = "evaluation.json"  # in an `evaluate verdicts --out` folder: the run's corpus, split, limit and start
evaluate_app = typer.Typer(help="Benchmarks on the gold corpora (train on train, report on dev/test).",
                            no_args_is_help=True)


class Figures(Protocol):
    """What every evaluation returns: a dataclass whose `as_dict()` is its JSON."""

    def as_dict(self) -> dict[str, object]: ...


def _print_json(figures: Figures, **more: Figures) -> None:
    """`--json`: the figures (and `more`, each under its name) and nothing else on stdout."""
    print(json.dumps({**figures.as_dict(), **{name: f.as_dict() for name, f in more.items()}}, indent=2))


def _print_table(rows: dict[str, dict[str, object]], title: str) -> None:
    """One row per setting, a column for each figure any row has (fractions to 3 places)."""
    columns = list(dict.fromkeys(column for row in rows.values() for column in row))
    table = Table("setting", *columns, title=title)
    for name, row in rows.items():
        table.add_row(name, *(f"{row[c]:.3f}" if isinstance(row.get(c), float) else str(row.get(c, ""))
                              for c in columns))
    Console().print(table)


def _score_rows(name: str, overall: Scores, per_type: dict[str, Scores]) -> dict[str, dict[str, object]]:
    return {name: overall.as_dict(), **{type_: scores.as_dict() for type_, scores in per_type.items()}}


@evaluate_app.command("relations")
def evaluate_relations(corpus: Annotated[str, typer.Option(help="drugprot, chemprot, bc5cdr or biored.")],
                       split: Annotated[str, typer.Option(help="dev or test.")] = "dev",
                       entities: Annotated[str, typer.Option(help="gold, or predicted by litmine's tagger.")] = "gold",
                       as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Relation extraction P/R/F1 with each benchmark's official counting (trains the model if missing)."""
    from pipeline.evaluation.relations import evaluate_relations_in_store
    from pipeline.models import ModelsMissing

    try:
        figures = evaluate_relations_in_store(corpus, split, entities, settings=settings_or_exit(), progress=True)
    except (ValueError, FileNotFoundError, ModelsMissing) as exc:
        fail(str(exc))
    if as_json:
        _print_json(figures)
        return
    _print_table(_score_rows("micro", figures.micro, figures.per_type), f"{corpus} {split}, {entities} entities")


@evaluate_app.command("ner")
def evaluate_ner(corpus: Annotated[str, typer.Option(help="bc5cdr, biored or nlm_gene.")],
                 split: Annotated[str, typer.Option(help="dev or test (nlm_gene: train-dev or test).")] = "dev",
                 as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Entity recognition P/R/F1 per type, strict: character offsets and type must equal a gold mention's."""
    from pipeline.evaluation.entities import evaluate_ner as evaluate
    from pipeline.training.spacy_models import gold_split

    if corpus not in ("bc5cdr", "biored", "nlm_gene"):
        fail(f"unknown NER corpus {corpus!r}: choose bc5cdr, biored or nlm_gene")
    settings = settings_or_exit()
    tagger = _pipeline_tagger(settings, corpus)
    try:
        figures = evaluate(tagger, gold_split(open_store(settings), corpus, split), corpus, split)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        _print_json(figures)
        return
    _print_table(_score_rows("overall", figures.overall, figures.per_type), f"{corpus} {split} NER (strict)")


@evaluate_app.command("linking")
def evaluate_linking(corpus: Annotated[str, typer.Option(help="bc5cdr or biored.")],
                     split: Annotated[str, typer.Option(help="dev or test.")] = "dev",
                     as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Identifier accuracy on gold mentions: BC5CDR chemicals/diseases to MeSH, BioRED genes to NCBI Gene."""
    from pipeline.entities.kb_build import ensure_kb
    from pipeline.entities.linking import Linker
    from pipeline.evaluation.linking import evaluate_linking as evaluate

    if corpus not in ("bc5cdr", "biored"):
        fail(f"unknown linking corpus {corpus!r}: choose bc5cdr or biored")
    settings = settings_or_exit()
    kb = ensure_kb(settings)
    figures = evaluate(open_store(settings), kb, Linker.load(settings, kb), corpus, split)
    if as_json:
        _print_json(figures)
        return
    _print_table({"overall": {"accuracy": figures.accuracy, "n": figures.n},
                  **{type_: accuracy.as_dict() for type_, accuracy in figures.per_type.items()}},
                 f"{corpus} {split} linking (gold mentions)")


@evaluate_app.command("verdicts")
def evaluate_verdicts(corpus: Annotated[str, typer.Option(
                          help="pharma (cited claims from gold relations), scifact or check_covid.")] = "pharma",
                      split: Annotated[str, typer.Option(help="dev or test (SciFact's test has no labels).")] = "dev",
                      limit: Annotated[int | None, typer.Option(
                          help="pharma: documents per source corpus (default 100); scifact/check_covid: "
                               "the first N claims (default all).")] = None,
                      start: Annotated[int, typer.Option(
                          help="pharma: skip the first N documents of each source corpus (--start 100: a second "
                               "sample of the split, documents 101-200).", min=0)] = 0,
                      out: Annotated[Path | None, typer.Option(help="Where the run's tables go.")] = None,
                      fold: Annotated[str | None, typer.Option(
                          help="scifact/check_covid: only the claims of fold K/N (e.g. 1/5), a fixed split by "
                               "claim id, as benchmarks/held_out_verifier.py holds out.")] = None,
                      as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Verdicts as `litmine run` gives them, on claims whose answer is known: the claims are
    written as documents and checked offline by the evidence-check flow. `pharma` writes true,
    flipped and unrelated claims from BioRED, BC5CDR and DrugProt gold relations, each citing the
    abstract it comes from; `scifact` and `check_covid` write the split's claims uncited, so
    the flow searches the store for their evidence. evaluation.json notes the models used and,
    with --fold, the fold and the fold the verifier was held out from (the calibration's fit checks them)."""
    import tempfile

    settings = settings_or_exit(offline=True)
    folder = out or Path(tempfile.mkdtemp(prefix="litmine-verdicts-"))
    folder.mkdir(parents=True, exist_ok=True)
    if corpus not in ("pharma", "scifact", "check_covid"):
        fail(f"unknown verdict corpus {corpus!r}: use pharma, scifact or check_covid")
    from pipeline.evaluation.calibration import reliability

    if fold is not None and corpus == "pharma":
        fail("--fold splits scifact and check_covid claims; pharma claims have no folds")
    if start and corpus != "pharma":
        fail("--start skips pharma documents; use --fold to take part of scifact or check_covid")
    title = f"verdicts, {corpus} {split} (tables in {folder / 'run'})"
    run: dict[str, object] = {"corpus": corpus, "split": split, "limit": limit, "models": _verdict_models(settings)}
    if start:
        run["start"] = start
    if fold is not None:
        run.update(fold=fold, verifier_held_out=_verifier_held_out(settings))
    (folder / RUN_FILE).write_text(json.dumps(run), encoding="utf-8")
    if corpus == "pharma":
        figures = _pharma_verdicts(settings, split, limit or 100, start, folder)
        calibration = reliability(_run_outcomes(settings, folder)[1])
        if as_json:
            _print_json(figures, calibration=calibration)
            return
        _print_table({name: _verdict_row(f, opposite_rate=f.opposite_rate)
                      for name, f in {**figures.per_corpus, corpus: figures}.items()}, title)
        _print_reliability(calibration, f"{corpus} {split}")
        return
    figures = _claim_corpus_verdicts(settings, corpus, split, limit, fold, folder)
    calibration = reliability(_run_outcomes(settings, folder)[1])
    if as_json:
        _print_json(figures, calibration=calibration)
        return
    _print_table({corpus: _verdict_row(figures, label_only_f1=figures.label_only_f1)}, title)
    _print_reliability(calibration, f"{corpus} {split}")
    _print_table({"search": figures.retrieval}, "recall of the gold evidence among searched records")
    gold = figures.gold_evidence
    _print_table({"gold evidence": {"pairs": gold.pairs, "macro_f1": gold.macro_f1, **gold.per_label_f1}},
                 "the verifier on each claim's own abstracts")


def _verdict_row(figures: VerdictFigures | ClaimFigures, **more: float) -> dict[str, object]:
    """The figures both verdict evaluations give, then `more` of the one at hand."""
    return {"claims": figures.claims, "claims_extracted": figures.claims_extracted, "accuracy": figures.accuracy,
            "claim_macro_f1": figures.claim_macro_f1, **more}


def _print_reliability(figures: Reliability, name: str) -> None:
    """Accuracy per confidence band, raw and calibrated, then ECE and Brier score."""
    def rows(bands: list, kind: str) -> dict[str, dict[str, object]]:
        return {f"{kind} {b.low:.1f}-{b.high:.1f}": {"claims": b.claims, "accuracy": b.accuracy} for b in bands}

    _print_table({**rows(figures.raw_bands, "raw"), **rows(figures.bands, "calibrated")},
                 f"{name}: accuracy per verdict_confidence band ({figures.claims} claims with a confidence)")
    _print_table({"raw": {"ECE": figures.raw_calibration_error, "Brier": figures.raw_brier},
                  "calibrated": {"ECE": figures.calibration_error, "Brier": figures.brier}},
                 f"{name}: calibration (accuracy {figures.accuracy:.3f})")


def _read_table(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _pharma_verdicts(settings: Settings, split: str, limit: int, start: int, folder: Path) -> PharmaFigures:
    from pipeline.evaluation import pharma

    claims = {}
    with open_store(settings) as store:
        for source in pharma.CORPORA:
            try:
                claims[source] = pharma.pharma_claims(store, source, split, limit, start)
            except ValueError as exc:
                fail(str(exc))
    for source in claims:
        (folder / f"pharma-{source}.txt").write_text(pharma.claims_document(claims[source]), encoding="utf-8")
    check_documents([str(folder / f"pharma-{source}.txt") for source in claims], folder / "run", offline=True)
    rows = _read_table(folder / "run" / "claims.csv")
    given = {source: pharma.verdicts_given(items, [r for r in rows if r["document"] == f"pharma-{source}"])
             for source, items in claims.items()}
    return pharma.score_corpora(claims, given, split)


def _claim_corpus_verdicts(settings: Settings, corpus: str, split: str, limit: int | None, fold: str | None,
                           folder: Path) -> ClaimFigures:
    from pipeline.evaluation import scifact
    from pipeline.toolkit import open_toolkit
    from pipeline.verdicts.evidence import search_records
    from pipeline.verdicts.rationales import rank_records

    with open_store(settings) as store:
        claims = _fold_claims(scifact.load_claims(store, split, corpus), fold)[:limit]
    if not claims:
        fail(f"{corpus}/{split} has no claims in {settings.store_path}: import ../shared/corpora/{corpus}")
    if not any(c.labels for c in claims):
        fail(f"{corpus}/{split} has no labels to score against (SciFact's test labels are not public): use --split dev")
    document = folder / f"{corpus}-{split}.txt"
    document.write_text(scifact.claims_document(claims, corpus), encoding="utf-8")
    check_documents([str(document)], folder / "run", offline=True)
    figures = scifact.score(claims, _read_table(folder / "run" / "claims.csv"),
                            _read_table(folder / "run" / "evidence.csv"), corpus, split)
    kit = open_toolkit(settings)

    def search(text: str) -> list[str]:  # the flow's search for an uncited claim of this text
        return [r.uid for r in search_records(scifact.statement(text), kit.client, kit.kb, 10,
                                              lambda t, pool: rank_records(kit.verifier, t, pool)).records]

    figures.retrieval = scifact.retrieval_recall(claims, search)
    figures.gold_evidence = scifact.with_gold_evidence(claims, kit.store, kit.kb, kit.verifier, kit.dictionary_tagger)
    return figures


def _verdict_models(settings: Settings) -> dict[str, str]:
    """The keys of the current sentence verifier and link model: what a verdict evaluation ran with."""
    from pipeline.models import LINKS, VERIFIER

    return {name: (settings.models / name / "current").read_text().strip()
            for name in (VERIFIER, LINKS) if (settings.models / name / "current").is_file()}


def _verifier_held_out(settings: Settings) -> str | None:
    """The fold of SciFact train the current verifier was trained without (its build.json), if any."""
    from pipeline.models import VERIFIER

    current = settings.models / VERIFIER / "current"
    built = settings.models / VERIFIER / current.read_text().strip() / "build.json" if current.is_file() else None
    return json.loads(built.read_text()).get("held_out_fold") if built and built.is_file() else None


def _fold_claims(claims: list, fold: str | None) -> list:
    """The claims of `fold` (all without one); a fold that is not K/N fails with one line."""
    from pipeline.evaluation.scifact import in_fold

    try:
        return claims if fold is None else [c for c in claims if in_fold(c.claim_id, fold)]
    except ValueError as exc:
        fail(f"--fold: {exc}")


def _run_outcomes(settings: Settings, folder: Path) -> tuple[dict[str, object], list[Outcome]]:
    """A `litmine evaluate verdicts --out` folder's run (corpus, split, limit, start) and its claims'
    outcomes, against the claims the evaluation wrote (made again from the store)."""
    from pipeline.evaluation import calibration, pharma, scifact

    try:
        run = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
        rows = _read_table(folder / "run" / "claims.csv")
    except (OSError, ValueError) as exc:
        fail(f"{folder}: not a finished `litmine evaluate verdicts --out` folder ({exc})")
    if rows and "verdict_confidence_raw" not in rows[0]:
        fail(f"{folder / 'run' / 'claims.csv'}: no verdict_confidence_raw column (an older run): run it again")
    with open_store(settings) as store:
        if run["corpus"] == "pharma":
            claims = {source: pharma.pharma_claims(store, source, run["split"], run["limit"] or 100,
                                                   run.get("start", 0)) for source in pharma.CORPORA}
            return run, calibration.pharma_outcomes(claims, rows)
        claims = _fold_claims(scifact.load_claims(store, run["split"], run["corpus"]), run.get("fold"))[:run["limit"]]
    return run, calibration.claim_corpus_outcomes(claims, rows)


@evaluate_app.command("calibration")
def evaluate_calibration(runs: Annotated[list[Path], typer.Argument(
                             help="Folders of `litmine evaluate verdicts --out` runs.")],
                         fit: Annotated[bool, typer.Option(
                             "--fit", help="Fit the calibration on these runs first and write it.")] = False,
                         calibration_file: Annotated[Path | None, typer.Option(
                             "--calibration", help="The calibration to write (--fit) or read.")] = None,
                         as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """How often verdicts are right per confidence band, with the expected calibration error and Brier
    score, raw and calibrated, on finished verdict evaluations. With --fit, the calibration is first
    fitted on them (pharma train, Check-COVID dev or train, SciFact train folds run with a verifier
    held out from them: never a reported split) and written where claims.csv's verdict_confidence reads it."""
    from datetime import datetime, timezone

    from pipeline.evaluation.calibration import reliability
    from pipeline.training.calibration import fit_calibration, fitting_run, write_calibration
    from pipeline.verdicts.calibration import CALIBRATION_PATH, read_calibration

    settings = settings_or_exit(offline=True)
    path = calibration_file or CALIBRATION_PATH
    found = [(folder, *_run_outcomes(settings, folder)) for folder in runs]
    if fit:
        try:
            for folder, run, _ in found:
                fitting_run(run, folder)
        except ValueError as exc:
            fail(str(exc))
        fitted_on = {"date": datetime.now(timezone.utc).date().isoformat(),
                     "runs": [{**run, "claims": len(outcomes)} for _, run, outcomes in found]}
        write_calibration(fit_calibration([o for *_, outcomes in found for o in outcomes], fitted_on), path)
    try:
        calibration = read_calibration(path)
    except ValueError as exc:
        fail(str(exc))
    figures = {f"{run['corpus']} {run['split']} ({folder.name})": reliability(outcomes, calibration)
               for folder, run, outcomes in found}
    if as_json:
        print(json.dumps({name: f.as_dict() for name, f in figures.items()}, indent=2))
        return
    for name, f in figures.items():
        _print_reliability(f, name)


def _pipeline_tagger(settings: Settings, corpus: str | None = None):
    """The trained entity pipeline; for a corpus, the NER trained on its guidelines goes first."""
    from pipeline.entities.kb_build import ensure_kb
    from pipeline.models import ModelsMissing
    from pipeline.entities.ner import PipelineTagger

    try:
        return PipelineTagger.load(settings, ensure_kb(settings), corpus)
    except ModelsMissing as exc:
        fail(str(exc))


@evaluate_app.command("claims")
def evaluate_claims(corpus: Annotated[str, typer.Option(help="scifact or check_covid.")] = "scifact",
                    split: Annotated[str, typer.Option(help="dev or test (SciFact's test has no labels).")] = "dev",
                    limit: Annotated[int | None, typer.Option(help="The first N claims (default all).")] = None,
                    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The same as `litmine evaluate verdicts` on a claim corpus (SciFact by default)."""
    evaluate_verdicts(corpus=corpus, split=split, limit=limit, out=None, as_json=as_json)
