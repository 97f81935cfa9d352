"""Fitting the verdict calibration (`pipeline.verdicts.calibration`) on claims no reported figure uses.

The claims are the outcomes (`pipeline.evaluation.calibration.Outcome`) of `litmine evaluate
verdicts` runs on splits that are neither reported nor in the verifier's own training: Check-COVID
dev and train (uncited news claims, every verdict by search; the sentence verifier never saw
Check-COVID) and the pharma claims of the relation corpora's train splits (cited triples; run with a
link model that never saw the papers they cite, `benchmarks/held_out_models.py`), and SciFact train
out of fold: the sentence verifier is trained on SciFact train, so its confidences there would teach
the map to trust it too much; a SciFact train run is taken only for one fold of its claims, run with a
verifier trained without them (`benchmarks/held_out_verifier.py`). The reported splits (`REPORTED`)
are refused.

Each group (`pipeline.verdicts.calibration.group`: a verdict kind and its route), each route and
all claims together get a curve: a logistic regression of rightness on the raw confidence's
log-odds where it holds at least MIN_CURVE claims of both outcomes and the slope it finds is
positive (more confidence, more often right), else a constant: its accuracy with one right and one
wrong claim added, so that few claims stay away from 0 and 1.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from pipeline.evaluation.calibration import Outcome
from pipeline.verdicts.calibration import ALL, Calibration, Curve, group, log_odds, route

MIN_CURVE = 50  # claims a group needs for a curve rather than a constant
C = 1.0  # the logistic regression's inverse regularization (on the slope only)
# The splits whose figures the README reports, and SciFact train, on which the product's sentence verifier is trained.
REPORTED = {("scifact", "dev"), ("pharma", "dev"), ("check_covid", "test")}
IN_SAMPLE = {("scifact", "train")}


def fitting_run(run: dict[str, object], folder: Path) -> None:
    """Raise ValueError, naming `folder`, for a verdict evaluation (its evaluation.json, `run`) the calibration
    must not be fitted on: a `REPORTED` split, or an `IN_SAMPLE` one unless the run holds one fold of it
    (`fold`) and its verifier was trained without that fold (`verifier_held_out`)."""
    corpus, split = run["corpus"], run["split"]
    if (corpus, split) in REPORTED:
        raise ValueError(f"{folder}: {corpus} {split} is a reported split: fit the calibration on pharma train or "
                         "check_covid dev, and read it on the reported splits only")
    if (corpus, split) in IN_SAMPLE and (run.get("fold") is None or run.get("fold") != run.get("verifier_held_out")):
        raise ValueError(f"{folder}: {corpus} {split} trains the sentence verifier: its confidences there are "
                         "in-sample unless a fold is run with a verifier held out from it "
                         "(benchmarks/held_out_verifier.py, evaluate verdicts --fold)")


def fit_curve(outcomes: Sequence[Outcome]) -> Curve:
    """A curve for the outcomes of one group (see the module's docstring)."""
    n, right = len(outcomes), sum(o.correct for o in outcomes)
    constant = Curve(0.0, round(math.log((right + 1) / (n - right + 1)), 4), n)
    if n < MIN_CURVE or right in (0, n):
        return constant
    x = np.array([[log_odds(o.raw)] for o in outcomes])
    model = LogisticRegression(C=C).fit(x, np.array([o.correct for o in outcomes]))
    slope = float(model.coef_[0][0])
    return Curve(round(slope, 4), round(float(model.intercept_[0]), 4), n) if slope > 0 else constant


def fit_calibration(outcomes: Sequence[Outcome], fitted_on: dict[str, object]) -> Calibration:
    """A curve for every group, route and ALL that holds claims."""
    members: dict[str, list[Outcome]] = {}
    for o in outcomes:
        for name in (group(o.verdict, o.cited), route(o.cited), ALL):
            members.setdefault(name, []).append(o)
    return Calibration({name: fit_curve(found) for name, found in members.items()}, fitted_on)


def write_calibration(calibration: Calibration, path: Path) -> None:
    """The calibration as the JSON `pipeline.verdicts.calibration.read_calibration` reads."""
    path.write_text(json.dumps(calibration.as_dict(), indent=2) + "\n", encoding="utf-8")
