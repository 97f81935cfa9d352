"""`litmine models build`: every model litmine trains, the independent ones at once.

Each model trains on one core (spaCy on one BLAS thread, so its weights are the same on every
build), so a serial build left all cores but one idle. The build is a set of steps, each naming
the steps it needs (the relation models read the parser's parses; the entity pipeline assembles
the NER models and the linker); up to `jobs` steps run at once, each in a worker process of its
own, and a step starts when what it needs is built, the step heading the longest chain of
training first (the parser, then the relation models that wait for it). A step does what it does
in a serial build, so it writes the same files.

A step that fails stops the build: no step starts after it, those running finish, and the error
names the model. Each model is written whole or not at all, so what the others built is kept and
the next build starts where this one stopped. The build's own record, `models/last-build.json`,
says how long it took, whether the models folder started empty, and what each step did.
"""
from __future__ import annotations

import io
import json
import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TextIO

from pipeline.config import Settings
from pipeline.entities.kb import KnowledgeBase
from pipeline.entities.versions import NER_MODELS, ner_order
from pipeline.models import FLOW_CORPORA, LINKS, VERIFIER, ModelsMissing, linker_dir
from pipeline.records.store import Store
from pipeline.training.spacy_models import MODELS, REDUCED, ModelSpec, build_model

SUMMARY = "last-build.json"
# The relation models' quick recipe: the first documents of each split.
REDUCED_RELATION_DOCUMENTS = 200


@dataclass(frozen=True)
class Job:
    """What every step of one build reads: the settings, the KB's file and the recipe."""

    settings: Settings
    kb: Path
    reduced: bool = False


@dataclass(frozen=True)
class Step:
    """One model of the build. `build(settings, kb, store, reduced)` builds it unless it is up to
    date and returns its folder; `seconds` is about how long a full build of it takes (2 cores),
    to start the longest chain of steps first."""

    name: str
    build: Callable[[Settings, KnowledgeBase, Store, bool], Path]
    needs: tuple[str, ...] = ()
    seconds: float = 60.0


@dataclass(frozen=True)
class Built:
    """What a step did: the model's folder (named by its key), whether it was trained now or was
    already up to date, and the step's wall seconds."""

    folder: Path
    trained: bool
    seconds: float


@dataclass
class Build:
    """A whole build: its wall seconds, whether the models folder started empty, how many steps ran at once."""

    seconds: float
    clean: bool
    jobs: int
    models: dict[str, Built] = field(default_factory=dict)


class BuildFailed(ValueError):
    """A step of the build failed; the message names its model and what was kept."""


# ---------------------------------------------------------------------------- litmine's steps


def _spacy_model(spec: ModelSpec, settings: Settings, kb: KnowledgeBase, store: Store, reduced: bool) -> Path:
    from pipeline.entities.gemm import exact_training

    with exact_training():
        return build_model(spec, settings, store, kb, REDUCED if reduced else None)


def _relations(corpus: str, settings: Settings, kb: KnowledgeBase, store: Store, reduced: bool) -> Path:
    from pipeline.relations.dependencies import DependencyParser
    from pipeline.training.relation_models import build_relation_models

    built = build_relation_models(settings, store, DependencyParser.load(settings),
                                  REDUCED_RELATION_DOCUMENTS if reduced else None, corpora=(corpus,))
    return built[f"relations_{corpus}"]


def _verifier(settings: Settings, kb: KnowledgeBase, store: Store, reduced: bool) -> Path:
    from pipeline.entities.dictionary import DictionaryTagger
    from pipeline.training.verifier import REDUCED_VERIFIER_CLAIMS, build_verifier

    return build_verifier(settings, store, DictionaryTagger(kb), REDUCED_VERIFIER_CLAIMS if reduced else None)


def _links(settings: Settings, kb: KnowledgeBase, store: Store, reduced: bool) -> Path:
    from pipeline.training.comentions import REDUCED_LINK_DOCUMENTS, build_links

    return build_links(settings, store, limit=REDUCED_LINK_DOCUMENTS if reduced else None)


def _linker(settings: Settings, kb: KnowledgeBase, store: Store, reduced: bool) -> Path:
    from pipeline.entities.alias_index import build_index

    return build_index(kb, linker_dir(settings, kb), progress=True)


def _pipeline(settings: Settings, kb: KnowledgeBase, store: Store, reduced: bool) -> Path:
    """The entity pipeline as one spaCy folder, its linker taught the train corpora's names first."""
    from pipeline.entities.ner import pipeline_folder

    return pipeline_folder(settings, kb, ner_order(settings))


# Seconds of each step in a full build, one model at a time on 2 cores (2026-12-06).
SECONDS = {"parser_craft": 805, "ner_bc5cdr": 216, "ner_biored": 270, "ner_gene": 150, "relations_drugprot": 200,
           "relations_biored": 39, VERIFIER: 80, LINKS: 75, "linker": 10, "pipeline": 30}
STEPS = (
    *(Step(spec.name, partial(_spacy_model, spec), seconds=SECONDS[spec.name]) for spec in MODELS),
    *(Step(f"relations_{corpus}", partial(_relations, corpus), ("parser_craft",), SECONDS[f"relations_{corpus}"])
      for corpus in FLOW_CORPORA),
    Step(VERIFIER, _verifier, seconds=SECONDS[VERIFIER]),
    Step(LINKS, _links, seconds=SECONDS[LINKS]),
    Step("linker", _linker, seconds=SECONDS["linker"]),
    Step("pipeline", _pipeline, (*NER_MODELS, "linker"), SECONDS["pipeline"]),
)


def default_jobs() -> int:
    """The cores this process may run on (all the machine's where the system cannot say)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def build_all(settings: Settings, kb: KnowledgeBase, reduced: bool = False, jobs: int | None = None,
              steps: Sequence[Step] = STEPS) -> Build:
    """Every model of `steps` built where it is missing or stale, `jobs` at a time (default: the
    usable cores), the quick CI recipe if `reduced`; writes models/last-build.json. BuildFailed
    names a model that failed, after the steps running beside it have finished."""
    jobs = jobs or default_jobs()
    clean = not settings.models.is_dir() or not any(settings.models.iterdir())
    started = time.monotonic()
    built = run_steps(steps, Job(settings, kb.path, reduced), jobs)
    build = Build(round(time.monotonic() - started, 1), clean, jobs, built)
    settings.models.mkdir(parents=True, exist_ok=True)
    partial_file = settings.models / f"{SUMMARY}.tmp"
    partial_file.write_text(json.dumps({
        "seconds": build.seconds, "clean": clean, "jobs": jobs, "reduced": reduced,
        "models": {name: {"key": b.folder.name, "folder": str(b.folder.relative_to(settings.models)),
                          "trained": b.trained, "seconds": b.seconds} for name, b in built.items()}}, indent=2))
    partial_file.replace(settings.models / SUMMARY)
    return build


def run_steps(steps: Sequence[Step], job: Job, jobs: int) -> dict[str, Built]:
    """Run each step once every step it needs has been built, up to `jobs` at a time (1: in this
    process), the one heading the longest chain first; returns what each did, in the order finished."""
    chains = _chains(steps)
    waiting = sorted(steps, key=lambda s: -chains[s.name])
    built: dict[str, Built] = {}
    failed: dict[str, str] = {}
    with (_Workers(min(jobs, len(steps)), job) if jobs > 1 else _InProcess(job)) as workers:
        while waiting or workers.busy:
            while not failed and workers.idle and (
                    step := next((s for s in waiting if set(s.needs) <= built.keys()), None)):
                waiting.remove(step)
                _say(f"[{step.name}] started ({len(built) + len(workers.busy) + 1}/{len(steps)})")
                workers.start(step)
            if not workers.busy:
                break
            for name, outcome in workers.finished():
                if isinstance(outcome, Built):
                    built[name] = outcome
                    _say(f"[{name}] {'trained' if outcome.trained else 'up to date'} "
                         f"({outcome.seconds:.0f} s): {outcome.folder}")
                else:
                    failed[name] = outcome
                    _say(f"[{name}] failed: {outcome}")
    if failed:
        raise BuildFailed("; ".join(f"model {name} not built: {why}" for name, why in failed.items())
                          + f" (kept: {', '.join(built) or 'nothing'}; not started: "
                          + f"{', '.join(s.name for s in waiting) or 'nothing'})")
    return built


def _chains(steps: Sequence[Step]) -> dict[str, float]:
    """Each step's seconds plus the longest chain of steps that need it, directly or not."""
    names = {s.name for s in steps}
    unknown = sorted({n for s in steps for n in s.needs} - names)
    if unknown or len(names) < len(steps):
        raise ValueError(f"build steps: unknown or repeated: {', '.join(unknown) or 'a name given twice'}")
    chains: dict[str, float] = {}

    def chain(step: Step, path: tuple[str, ...]) -> float:
        if step.name in path:
            raise ValueError(f"build steps need each other: {' > '.join((*path, step.name))}")
        if step.name not in chains:
            chains[step.name] = step.seconds + max(
                (chain(s, (*path, step.name)) for s in steps if step.name in s.needs), default=0)
        return chains[step.name]

    for step in steps:
        chain(step, ())
    return chains


def run_step(step: Step, job: Job) -> Built:
    """Build one step, its output lines starting with its name; its model counts as trained when
    its folder was written during the step (an up-to-date model's folder is only read)."""
    started, clock = time.time(), time.monotonic()
    with _prefixed(f"[{step.name}] "), Store(job.settings.store_path) as store:
        kb = KnowledgeBase.open(job.kb)
        try:
            folder = step.build(job.settings, kb, store, job.reduced)
        finally:
            kb.close()
    return Built(folder, folder.stat().st_mtime >= started, round(time.monotonic() - clock, 1))


def _attempt(step: Step, job: Job) -> Built | str:
    """What the step built, or why it failed (an unexpected error's traceback printed first)."""
    try:
        return run_step(step, job)
    except Exception as exc:  # reported by the build, which names the model
        if not isinstance(exc, (ValueError, ModelsMissing)):
            with _prefixed(f"[{step.name}] "):
                traceback.print_exc()
            return f"{type(exc).__name__}: {exc}"
        return str(exc)


class _InProcess:
    """Runs one step at a time in this process (`--jobs 1`)."""

    def __init__(self, job: Job):
        self.job, self.busy = job, []

    def __enter__(self) -> _InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    @property
    def idle(self) -> bool:
        return not self.busy

    def start(self, step: Step) -> None:
        self.busy = [step]

    def finished(self) -> list[tuple[str, Built | str]]:
        step, self.busy = self.busy[0], []
        return [(step.name, _attempt(step, self.job))]


class _Workers:
    """Up to `jobs` worker processes (started fresh, not forked), each running one step at a time."""

    def __init__(self, jobs: int, job: Job):
        self.jobs, self.job = jobs, job
        self.processes: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
        self.running: dict[int, Step] = {}  # process index -> its step

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, error: type[BaseException] | None, *exc: object) -> None:
        for process, conn in self.processes:
            if error is None and process.is_alive():
                conn.send(None)
                process.join(10)
            if process.is_alive():  # the build was interrupted: what a worker trains is written whole or not at all
                process.terminate()
                process.join()

    @property
    def busy(self) -> list[Step]:
        return list(self.running.values())

    @property
    def idle(self) -> bool:
        return len(self.running) < self.jobs

    def start(self, step: Step) -> None:
        free = [i for i, (process, _) in enumerate(self.processes) if i not in self.running and process.is_alive()]
        if not free:
            ours, theirs = multiprocessing.get_context("spawn").Pipe()
            process = multiprocessing.get_context("spawn").Process(target=_serve, args=(theirs, self.job))
            process.start()
            theirs.close()
            self.processes.append((process, ours))
            free = [len(self.processes) - 1]
        self.running[free[0]] = step
        self.processes[free[0]][1].send(step)

    def finished(self) -> list[tuple[str, Built | str]]:
        """The steps that have finished, waiting for one at least."""
        watched = {i: self.processes[i] for i in self.running}
        wait([conn for _, conn in watched.values()] + [process.sentinel for process, _ in watched.values()])
        done = []
        for i, (process, conn) in watched.items():
            if conn.poll() or not process.is_alive():
                try:
                    outcome = conn.recv()
                except EOFError:  # it ended without a word
                    process.join()
                    outcome = f"its worker process ended (exit code {process.exitcode})"
                done.append((self.running.pop(i).name, outcome))
        return done


def _serve(conn: Connection, job: Job) -> None:
    """A worker process: builds the steps it is sent until it is sent None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the build, which ends its workers
    try:
        while (step := conn.recv()) is not None:
            conn.send(_attempt(step, job))
    except EOFError:  # the build has gone
        pass


class _Prefixed(io.TextIOBase):
    """A stream whose lines start with `prefix` (unless they already do), each written whole and
    flushed at once, so the lines of steps running at once do not interleave mid-line."""

    def __init__(self, stream: TextIO, prefix: str):
        self.stream, self.prefix, self.line = stream, prefix, ""

    def write(self, text: str) -> int:
        *lines, self.line = (self.line + text).split("\n")
        if lines:
            self.stream.write("".join(f"{'' if line.startswith(self.prefix) else self.prefix}{line}\n"
                                      for line in lines))
            self.stream.flush()
        return len(text)

    def end(self) -> None:
        if self.line:
            self.write("\n")

    def isatty(self) -> bool:
        return self.stream.isatty()


@contextmanager
def _prefixed(prefix: str) -> Iterator[None]:
    """stdout and stderr prefixed (see _Prefixed) inside the block."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Prefixed(saved[0], prefix), _Prefixed(saved[1], prefix)
    try:
        yield
    finally:
        sys.stdout.end()
        sys.stderr.end()
        sys.stdout, sys.stderr = saved


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
