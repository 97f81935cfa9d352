"""From the verifier's raw confidence to the chance that its verdict is right.

The raw confidence (`ClaimResult.confidence`, `pipeline.verdicts.verifier._weigh`: a noisy-or of the
deciding signals' probabilities times the winning side's share) orders verdicts by how often they
are right but is no probability: on SciFact dev the verdicts it put at 0.8-1 were right 74% of the
time. The map here is fitted on claims whose answers are known and that no reported figure uses
(`pipeline.training.calibration`, run by `litmine evaluate calibration --fit`) and kept in
`calibration.json` beside this module; `claims.csv` shows every verdict's confidence through it
(`verdict_confidence`) and the raw one beside it (`verdict_confidence_raw`).

A verdict's group is its kind and its route: `cited` when the claim's cited records were in hand,
`search` when the verifier read only what a search found. A group with enough claims has a logistic
curve over the raw confidence's log-odds (Platt scaling: a slope, never negative, so the map is
monotone, and an intercept); a group with few has a constant, its smoothed accuracy; a group with
none falls back to its route's curve, then to every claim's. Without the file the raw confidence
is returned as it is. `not_checked` is not a guess that can be right or wrong: its confidence stays
0 (`claims.csv` leaves it empty).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

from pipeline.datatypes import ClaimResult

CALIBRATION_PATH = Path(__file__).with_name("calibration.json")
ALL = "all"
EPSILON = 0.01  # raw confidences are clipped to [EPSILON, 1 - EPSILON] before their log-odds, as is the map


def log_odds(raw: float) -> float:
    """The raw confidence's log-odds, clipped so that 0 and 1 stay finite."""
    p = min(max(raw, EPSILON), 1.0 - EPSILON)
    return math.log(p / (1.0 - p))


def route(cited: bool) -> str:
    """How the verifier came by what it read: "cited" (the claim's cited records) or "search"."""
    return "cited" if cited else "search"


def group(verdict: str, cited: bool) -> str:
    """A verdict's calibration group: "supported/cited", "no_evidence/search", ..."""
    return f"{verdict}/{route(cited)}"


@dataclass(frozen=True)
class Curve:
    """p = 1 / (1 + exp(-(slope * log_odds(raw) + intercept))), kept within [EPSILON, 1 - EPSILON]: no fitted
    curve knows a verdict to be certainly right or wrong; slope 0 is a constant."""

    slope: float
    intercept: float
    claims: int  # the claims it was fitted on

    def __call__(self, raw: float) -> float:
        p = 1.0 / (1.0 + math.exp(-(self.slope * log_odds(raw) + self.intercept)))
        return min(max(p, EPSILON), 1.0 - EPSILON)


@dataclass
class Calibration:
    """The curves by group (`group`, a route, or ALL) and what they were fitted on."""

    curves: dict[str, Curve] = field(default_factory=dict)
    fitted_on: dict[str, object] = field(default_factory=dict)

    def probability(self, raw: float, verdict: str, cited: bool) -> float:
        """The chance that a verdict given with this raw confidence is right (0 for not_checked)."""
        if verdict == "not_checked":
            return 0.0
        for name in (group(verdict, cited), route(cited), ALL):
            if name in self.curves:
                return self.curves[name](raw)
        return raw

    def as_dict(self) -> dict[str, object]:
        return {"fitted_on": self.fitted_on, "curves": {name: asdict(c) for name, c in sorted(self.curves.items())}}


def read_calibration(path: Path) -> Calibration:
    """The calibration in `path`; a file that is not one is a ValueError naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        curves = {name: Curve(float(c["slope"]), float(c["intercept"]), int(c["claims"]))
                  for name, c in data["curves"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: not a verdict calibration ({exc.__class__.__name__}: {exc})") from exc
    if any(c.slope < 0 for c in curves.values()):
        raise ValueError(f"{path}: a curve with a negative slope would not be monotone")
    return Calibration(curves, dict(data.get("fitted_on", {})))


@cache
def load_calibration(path: Path = CALIBRATION_PATH) -> Calibration:
    """The calibration claims.csv applies (none, the raw confidence, when the file is absent)."""
    return read_calibration(path) if path.is_file() else Calibration()


def read_cited(citations_say: str) -> bool:
    """Whether the verifier had the claim's cited records in hand, from what `citations_say` says of
    them: "" when the claim cites nothing, "unavailable" when none of them could be had."""
    return citations_say not in ("", "unavailable")


def calibrated(result: ClaimResult, calibration: Calibration | None = None) -> float:
    """A claim result's verdict confidence through the calibration (the current one by default)."""
    calibration = calibration or load_calibration()
    return calibration.probability(result.confidence, result.verdict, read_cited(result.citations_say))
