"""How far a long run has come, told through one small protocol.

The stages count their own work (references resolved, claims checked ...); who is told, and
how (progress bars, a line per stage, nothing, a test's tally), is the caller's business, so
the pipeline knows nothing of terminals or of Prefect.
"""
from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Told as a run's stages start, move on and end, and when the run is over."""

    def begin(self, stage: str, total: int, unit: str) -> None:
        """`stage` starts with `total` `unit`s ("claims") to do."""

    def advance(self, stage: str, done: int = 1) -> None:
        """`done` more of the stage's units are done; may be called from several threads."""

    def end(self, stage: str, detail: str = "") -> None:
        """The stage is over, every unit done (those a cache answered too); `detail` says what it gave."""

    def finish(self, summary: str) -> None:
        """The run is over; `summary` says in one line what it found and where its outputs are."""


class Silent:
    """A `Progress` that tells no one: the default wherever no one watches."""

    def begin(self, stage: str, total: int, unit: str) -> None:
        pass

    def advance(self, stage: str, done: int = 1) -> None:
        pass

    def end(self, stage: str, detail: str = "") -> None:
        pass

    def finish(self, summary: str) -> None:
        pass
