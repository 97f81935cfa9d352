"""How far verdict confidences are from the chance that the verdicts are right, on claims whose
answers are known: accuracy per confidence band, expected calibration error and Brier score.

Each claim of a `litmine evaluate verdicts` run that got a verdict with a confidence is an
`Outcome` (a claim the flow did not read and a `not_checked` verdict have none): its verdict,
its route (cited records in hand or search), the raw confidence from `claims.csv` and whether
the verdict is the expected one. The row a claim's outcome comes from is the one its verdict
comes from in the evaluation's own scoring. `reliability` sets the confidences, raw and
calibrated, against rightness. Bands and bins are fixed in advance with equal widths, never
chosen on the claims: five bands for the table, ten bins for the expected calibration error
(ECE: over the bins, the claims' share times the gap between their accuracy and their mean
confidence). The Brier score is the mean squared gap between confidence and rightness (1 or 0).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from pipeline.evaluation import pharma, scifact
from pipeline.verdicts.calibration import Calibration, load_calibration, read_cited

BANDS = 5  # equal-width bands of the reliability table
BINS = 10  # equal-width bins of the expected calibration error


@dataclass(frozen=True)
class Outcome:
    """One claim's verdict, its route, its raw confidence and whether it was right."""

    verdict: str
    cited: bool
    raw: float
    correct: bool


def outcome(row: dict[str, str] | None, expected: str) -> Outcome | None:
    """A claims-table row's outcome against the verdict expected (None when it has no confidence)."""
    if row is None or row["verdict"] == "not_checked" or row["verdict_confidence_raw"] == "":
        return None
    return Outcome(row["verdict"], read_cited(row["citations_say"]), float(row["verdict_confidence_raw"]),
                   row["verdict"] == expected)


def pharma_outcomes(claims: dict[str, list[pharma.PharmaClaim]], rows: list[dict[str, str]]) -> list[Outcome]:
    """The outcomes of a pharma run (`claims` by source corpus, each source's claims one document):
    each claim's row is the one its verdict is scored by (`pharma.rows_given`)."""
    found = []
    for source, items in claims.items():
        own = [r for r in rows if r["document"] == f"pharma-{source}"]
        found += [result for claim, row in zip(items, pharma.rows_given(items, own))
                  if (result := outcome(row, claim.expected))]
    return found


def claim_corpus_outcomes(claims: list[scifact.ScifactClaim], rows: list[dict[str, str]]) -> list[Outcome]:
    """The outcomes of a SciFact or Check-COVID run: each claim's row is `scifact.claim_row`'s."""
    per_claim = scifact.rows_per_claim(claims, rows)
    return [result for claim, found in zip(claims, per_claim)
            if (result := outcome(scifact.claim_row(found), claim.verdict))]


@dataclass(frozen=True)
class Band:
    """The claims whose confidence falls in [low, high) (the last band takes 1 too)."""

    low: float
    high: float
    claims: int
    accuracy: float | None  # None for an empty band
    confidence: float | None  # their mean confidence


@dataclass
class Reliability:
    """Raw and calibrated confidences against rightness (`litmine evaluate verdicts --json`'s
    `calibration`); fractions 0-1."""

    claims: int
    accuracy: float
    calibration_error: float  # ECE of the calibrated confidence
    brier: float
    raw_calibration_error: float
    raw_brier: float
    bands: list[Band] = field(default_factory=list)  # calibrated
    raw_bands: list[Band] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def bands(confidences: Sequence[float], correct: Sequence[bool], n: int) -> list[Band]:
    """The claims in `n` equal-width confidence bands over 0-1."""
    members: list[list[int]] = [[] for _ in range(n)]
    for i, p in enumerate(confidences):
        members[min(int(p * n), n - 1)].append(i)
    return [Band(round(b / n, 4), round((b + 1) / n, 4), len(m),
                 round(sum(correct[i] for i in m) / len(m), 4) if m else None,
                 round(sum(confidences[i] for i in m) / len(m), 4) if m else None) for b, m in enumerate(members)]


def calibration_error(confidences: Sequence[float], correct: Sequence[bool]) -> float:
    """Expected calibration error over BINS equal-width bins (0 when there are no claims)."""
    total = len(confidences)
    return round(sum(b.claims / total * abs(b.accuracy - b.confidence)
                     for b in bands(confidences, correct, BINS) if b.claims), 4) if total else 0.0


def brier(confidences: Sequence[float], correct: Sequence[bool]) -> float:
    """Mean squared gap between confidence and rightness (0 when there are no claims)."""
    return round(sum((p - c) ** 2 for p, c in zip(confidences, correct)) / len(confidences), 4) if confidences else 0.0


def reliability(outcomes: Sequence[Outcome], calibration: Calibration | None = None) -> Reliability:
    """How the outcomes' raw confidences and their calibrated ones (by `calibration`, the current one
    by default) match how often the verdicts were right."""
    calibration = calibration or load_calibration()
    correct = [o.correct for o in outcomes]
    raw = [o.raw for o in outcomes]
    mapped = [calibration.probability(o.raw, o.verdict, o.cited) for o in outcomes]
    return Reliability(len(outcomes), round(sum(correct) / len(correct), 4) if correct else 0.0,
                       calibration_error(mapped, correct), brier(mapped, correct), calibration_error(raw, correct),
                       brier(raw, correct), bands(mapped, correct, BANDS), bands(raw, correct, BANDS))
