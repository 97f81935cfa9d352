"""The verdict calibration: the committed map (monotone, in 0-1, with its fallbacks), its fitting,
the reliability figures, and, end to end on the reduced models, a verdict evaluation's claims.csv
carrying it and `litmine evaluate calibration --fit` fitting one on the run."""
import csv
import json
import logging
import math
import sys

import pytest
from typer.testing import CliRunner

from pipeline.evaluation.calibration import Outcome, bands, brier, calibration_error, outcome, reliability
from pipeline.training.calibration import MIN_CURVE, fit_calibration, fit_curve, fitting_run
from pipeline.verdicts.calibration import (CALIBRATION_PATH, Calibration, Curve, load_calibration, read_calibration,
                                           read_cited)
from pipeline.verdicts.calibration import calibrated as calibrated_confidence
from pipeline.datatypes import Claim, ClaimResult, DocSentence

RAWS = [i / 100 for i in range(101)]


def test_the_committed_map_is_monotone_and_a_probability_for_every_verdict_and_route():
    calibration = read_calibration(CALIBRATION_PATH)
    assert calibration.curves and calibration.fitted_on["runs"]
    for verdict in ("supported", "contradicted", "mixed", "no_evidence"):
        for cited in (True, False):
            mapped = [calibration.probability(raw, verdict, cited) for raw in RAWS]
            assert all(0 < p < 1 for p in mapped)
            assert mapped == sorted(mapped), (verdict, cited)
    assert calibration.probability(0.9, "not_checked", True) == 0.0  # no guess, nothing to be right about


def test_a_group_without_claims_falls_back_to_its_route_then_to_all():
    routes = Calibration({"supported/cited": Curve(1.0, 0.0, 60), "search": Curve(0.0, 0.0, 60),
                          "all": Curve(0.0, math.log(3), 120)})
    assert routes.probability(0.8, "supported", True) == pytest.approx(0.8)  # slope 1, intercept 0: itself
    assert routes.probability(0.8, "contradicted", False) == pytest.approx(0.5)  # the search route's constant
    assert routes.probability(0.8, "contradicted", True) == pytest.approx(0.75)  # all claims'
    assert Calibration().probability(0.42, "supported", True) == 0.42  # no calibration: the raw confidence


def test_a_bad_calibration_file_is_one_error_naming_it(tmp_path):
    broken = tmp_path / "calibration.json"
    broken.write_text('{"curves": {"all": {"slope": 1}}}')
    with pytest.raises(ValueError, match=f"{broken}: not a verdict calibration"):
        read_calibration(broken)
    broken.write_text('{"curves": {"all": {"slope": -1, "intercept": 0, "claims": 9}}}')
    with pytest.raises(ValueError, match="negative slope"):
        read_calibration(broken)
    assert load_calibration(tmp_path / "absent.json").curves == {}


def test_a_result_is_calibrated_by_its_verdict_and_whether_its_citations_were_read():
    sentence = DocSentence(0, "Aspirin lowers fever [1].", 0, 25, "", ["1"])
    result = ClaimResult(Claim("d", "d:0:0", sentence, None), "supported", 1, 0, 1, confidence=0.7,
                         citations_say="supports")
    calibration = Calibration({"supported/cited": Curve(0.0, 0.0, 60), "supported/search": Curve(0.0, 2.0, 60)})
    assert calibrated_confidence(result, calibration) == pytest.approx(0.5)
    assert read_cited("supports") and read_cited("silent")
    assert not read_cited("") and not read_cited("unavailable")  # cites nothing / nothing it cites was read


def test_a_curve_follows_how_often_each_confidence_is_right():
    # right with probability equal to the raw confidence halved: the curve must find about that
    outcomes = [Outcome("supported", True, raw, i < round(raw * 50))
                for raw in (0.2, 0.4, 0.6, 0.8, 1.0) for i in range(100)]
    curve = fit_curve(outcomes)
    assert curve.slope > 0 and curve.claims == 500
    for raw in (0.2, 0.6, 1.0):
        assert curve(raw) == pytest.approx(raw / 2, abs=0.08)


def test_few_claims_or_a_falling_trend_give_a_smoothed_constant():
    few = [Outcome("mixed", True, 0.5, False)] * 8
    assert fit_curve(few) == Curve(0.0, round(math.log(1 / 9), 4), 8)  # 0 right of 8: 1 / 10, not 0
    falling = [Outcome("no_evidence", False, raw, raw < 0.5) for raw in RAWS[:MIN_CURVE * 2]]
    assert fit_curve(falling).slope == 0.0  # never a map that lowers the chance as confidence rises


def test_fitting_gives_every_group_its_route_and_all():
    outcomes = [Outcome("supported", True, 0.9, True), Outcome("no_evidence", False, 0.3, False)]
    calibration = fit_calibration(outcomes, {"runs": []})
    assert set(calibration.curves) == {"supported/cited", "cited", "no_evidence/search", "search", "all"}
    assert calibration.curves["all"].claims == 2


def test_reported_and_in_sample_splits_are_never_fitted_on(tmp_path):
    for corpus, split in (("scifact", "dev"), ("pharma", "dev"), ("check_covid", "test"), ("scifact", "train")):
        with pytest.raises(ValueError, match=f"{tmp_path}: {corpus} {split}"):
            fitting_run({"corpus": corpus, "split": split}, tmp_path)
    fitting_run({"corpus": "pharma", "split": "train"}, tmp_path)
    fitting_run({"corpus": "check_covid", "split": "dev"}, tmp_path)


def test_scifact_train_is_fitted_on_only_out_of_fold(tmp_path):
    fitting_run({"corpus": "scifact", "split": "train", "fold": "2/5", "verifier_held_out": "2/5"}, tmp_path)
    for held_out in (None, "1/5"):  # the product's verifier, or one that saw this fold
        with pytest.raises(ValueError, match="in-sample"):
            fitting_run({"corpus": "scifact", "split": "train", "fold": "2/5", "verifier_held_out": held_out},
                        tmp_path)
    with pytest.raises(ValueError, match="reported"):  # a held-out verifier does not open a reported split
        fitting_run({"corpus": "scifact", "split": "dev", "fold": "2/5", "verifier_held_out": "2/5"}, tmp_path)


def test_the_map_never_shows_certainty():
    assert Curve(5.0, 10.0, 100)(0.99) == 0.99 and Curve(5.0, -10.0, 100)(0.01) == 0.01
    assert Curve(0.0, 20.0, 100)(0.5) == 0.99  # a constant too
    calibration = read_calibration(CALIBRATION_PATH)
    for verdict in ("supported", "contradicted", "mixed", "no_evidence"):
        for cited in (True, False):
            assert all(0.01 <= calibration.probability(raw, verdict, cited) <= 0.99 for raw in (0.0, 1.0))


def test_reliability_counts_bands_the_calibration_error_and_brier():
    confidences, correct = [0.05, 0.15, 0.95, 0.95, 1.0], [False, True, True, True, False]
    assert [(b.claims, b.accuracy) for b in bands(confidences, correct, 5)] == [
        (2, 0.5), (0, None), (0, None), (0, None), (3, 0.6667)]
    # bins of 0.1: {0.05: wrong} gap 0.05, {0.15: right} gap 0.85, {0.95, 0.95, 1.0: 2 of 3} gap 0.9667 - 0.6667
    assert calibration_error(confidences, correct) == pytest.approx((0.05 + 0.85 + 3 * 0.3) / 5, abs=1e-4)
    assert brier(confidences, correct) == pytest.approx((0.05**2 + 0.85**2 + 2 * 0.05**2 + 1) / 5, abs=1e-4)
    outcomes = [Outcome("supported", True, p, c) for p, c in zip(confidences, correct)]
    figures = reliability(outcomes, Calibration({"all": Curve(0.0, 0.0, 5)}))  # every verdict at 0.5
    assert (figures.claims, figures.accuracy, figures.brier) == (5, 0.6, 0.25)
    assert figures.calibration_error == pytest.approx(0.1) and figures.raw_brier == brier(confidences, correct)


def test_a_row_without_a_confidence_has_no_outcome():
    row = {"verdict": "supported", "verdict_confidence_raw": "0.8", "citations_say": ""}
    assert outcome(row, "supported") == Outcome("supported", False, 0.8, True)
    assert outcome({**row, "verdict": "not_checked", "verdict_confidence_raw": ""}, "supported") is None
    assert outcome(None, "supported") is None  # the flow did not read the claim


def _reopen_log_streams() -> None:
    """Log handlers that a `CliRunner.invoke` running a flow left on its stderr, closed since, write to the
    real one again: the next flow run or CLI test in this process otherwise fails logging into it."""
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            if getattr(getattr(handler, "stream", None), "closed", False):
                handler.stream = sys.stderr  # not setStream: it flushes the closed one
                if hasattr(handler, "console"):
                    handler.console.file = sys.stderr


@pytest.fixture
def log_streams():
    _reopen_log_streams()
    yield
    _reopen_log_streams()


@pytest.mark.slow
def test_an_evaluation_carries_the_calibration_and_fits_one(harness, trained, log_streams, monkeypatch, tmp_path):
    from flows.cli import app

    monkeypatch.setenv("LITMINE_DATA", str(trained.data))
    monkeypatch.setenv("LITMINE_MODELS", str(trained.models))
    runner, run = CliRunner(), tmp_path / "train"
    result = runner.invoke(app, ["evaluate", "verdicts", "--split", "train", "--limit", "1", "--out", str(run),
                                 "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)["calibration"]
    assert 0 < figures["claims"] <= 9 and 0 <= figures["calibration_error"] <= 1 and len(figures["bands"]) == 5
    with (run / "run" / "claims.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["verdict"] != "not_checked"]
    assert rows and all(float(r["verdict_confidence"]) == round(load_calibration().probability(
        float(r["verdict_confidence_raw"]), r["verdict"], read_cited(r["citations_say"])), 3) for r in rows)

    fitted = tmp_path / "fitted.json"
    result = runner.invoke(app, ["evaluate", "calibration", str(run), "--fit", "--calibration", str(fitted), "--json"])
    assert result.exit_code == 0, result.output
    calibration = read_calibration(fitted)
    assert calibration.curves["all"].claims == figures["claims"]
    (fitted_run,) = calibration.fitted_on["runs"]
    assert fitted_run == {"corpus": "pharma", "split": "train", "limit": 1, "claims": figures["claims"],
                          "models": {"verifier": trained.models.joinpath("verifier", "current").read_text().strip(),
                                     "links": trained.models.joinpath("links", "current").read_text().strip()}}
    (shown,) = json.loads(result.stdout).values()
    assert shown["claims"] == figures["claims"] and shown["raw_brier"] == figures["raw_brier"]
    refused = runner.invoke(app, ["evaluate", "calibration", str(tmp_path / "nothing-here"), "--fit"])
    assert refused.exit_code == 2 and "not a finished `litmine evaluate verdicts --out` folder" in refused.output


@pytest.mark.slow
def test_a_fold_of_scifact_train_is_run_and_refused_with_an_in_sample_verifier(harness, trained, log_streams,
                                                                               monkeypatch, tmp_path):
    from flows.cli import app
    from pipeline.evaluation.scifact import in_fold, load_claims
    from pipeline.records.store import Store

    monkeypatch.setenv("LITMINE_DATA", str(trained.data))
    monkeypatch.setenv("LITMINE_MODELS", str(trained.models))
    runner, run = CliRunner(), tmp_path / "fold"
    result = runner.invoke(app, ["evaluate", "verdicts", "--corpus", "scifact", "--split", "train", "--fold", "2/5",
                                 "--limit", "1", "--out", str(run), "--json"])
    assert result.exit_code == 0, result.output
    with Store(trained.store_path) as store:
        first = next(c for c in load_claims(store, "train") if in_fold(c.claim_id, "2/5"))
    assert first.text in (run / "scifact-train.txt").read_text(encoding="utf-8")
    recorded = json.loads((run / "evaluation.json").read_text())
    assert recorded["fold"] == "2/5" and recorded["verifier_held_out"] is None  # the reduced build's verifier
    refused = runner.invoke(app, ["evaluate", "calibration", str(run), "--fit", "--calibration",
                                  str(tmp_path / "fitted.json")])
    assert refused.exit_code == 2 and "in-sample" in refused.output and not (tmp_path / "fitted.json").exists()
    assert "not K/N" in runner.invoke(app, ["evaluate", "verdicts", "--corpus", "scifact", "--split", "train",
                                            "--fold", "6/5", "--out", str(tmp_path / "bad")]).output
