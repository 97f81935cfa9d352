"""Throughput of litmine's reading of abstracts, stage by stage, in one process and in two.

    .venv/bin/python benchmarks/throughput.py [--limit N] [--processes P] [--json] [--scaling]

Rows, each stage with those before it, on the first `--limit` BC5CDR test abstracts (records
from the store): the tokenizer alone (the ceiling); + KB features (the dictionary pass); + the
three NER models (with the abbreviations and the entity rules); + linking (the whole entity
pipeline, `PipelineTagger.tag_many`); + relations: the full pipeline, entities, linking and the
relation models, which is the flow's extraction (`extract_records`); + the verifier: the full
pipeline and then the sentence-level verifier judging the abstract for a claim, at the rate it
judges SciFact dev claims' own abstracts (`verifier_throughput.judge_own`; abstracts/s of both
is 1 / (1/full + 1/judging)). The full pipeline also runs in `--processes` worker processes
(`pipeline.verdicts.pool.ReadingPool`), timed once every worker has loaded its models; how long
that takes is `pool_start_s`, and `pool_break_even_abstracts` how many abstracts a pool must
read to pay for it (what POOL_MIN_RECORDS is chosen from).

Warm: every stage reads 20 abstracts first, so loading is not counted; the linker's cache of
names is emptied before each timed run that links, as for abstracts never seen. Words are
whitespace-separated tokens of the text. Each row also gives the CPU seconds the process and
its workers spent (from /proc): on a machine other work shares, abstracts per CPU second is
about what one otherwise idle core reads, where wall-clock rates fall with the load.

`--scaling` reads 1,000, 5,000 and then every record in the store (corpus documents and
imported records, shuffled with a fixed seed) with the full pipeline, starting a pool for each
(its start counted), and reports seconds, abstracts/s, CPU seconds and the peak resident memory
of the process and its workers together (sampled every 0.2 s).

`--json` prints one JSON object: `rows` ({stage, processes, seconds, abstracts_per_s, words_per_s,
cpu_seconds, abstracts_per_cpu_s}),
`nlp_full_abstracts_per_s` (the full pipeline, the better of one and `--processes` processes,
which `nlp_full_processes` names), `nlp_full_over_tokenizer` (the tokenizer's abstracts/s
divided by the full pipeline's, one process each: how many times slower than the ceiling), and
with `--scaling`, `scaling` ({abstracts, seconds, abstracts_per_s, peak_rss_mb, cpu_seconds}) and
`all_abstracts_minutes`.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pipeline.config import load_settings
from pipeline.datatypes import Record
from pipeline.toolkit import Toolkit, evidence_readers, open_toolkit
from pipeline.verdicts.evidence import extract_records
from pipeline.verdicts.pool import ReadingPool

WARM = 20  # abstracts each stage reads before it is timed
SCALING = (1000, 5000)  # then every record in the store


def timed(run: Callable[[list], object], items: list) -> float:
    return timed_cpu(run, items)[0]


def timed_cpu(run: Callable[[list], object], items: list) -> tuple[float, float]:
    """Seconds `run(items)` took, warm, and the CPU seconds this process and its workers spent on it."""
    run(items[:WARM])
    started, cpu = time.perf_counter(), tree_cpu_seconds()
    run(items)
    return time.perf_counter() - started, tree_cpu_seconds() - cpu


def _row(stage: str, processes: int, seconds: tuple[float, float], texts: Sequence[str]) -> dict[str, object]:
    wall, cpu = seconds
    words = sum(len(t.split()) for t in texts)
    return {"stage": stage, "processes": processes, "seconds": round(wall, 2),
            "abstracts_per_s": round(len(texts) / wall, 1), "words_per_s": round(words / wall),
            "cpu_seconds": round(cpu, 2), "abstracts_per_cpu_s": round(len(texts) / cpu, 1)}


def stage_rows(kit: Toolkit, records: list[Record], processes: int, verifier_claims: int) -> tuple[list[dict], float]:
    """The rows of the module docstring, and the pool's start in seconds."""
    tagger = kit.tagger
    nlp, linker = tagger.nlp, tagger.nlp.get_pipe("litmine_linker").linker
    features = nlp.get_pipe("kb_features")
    texts = [r.full_text for r in records]

    def cold(run: Callable[[list], object]) -> Callable[[list], object]:
        return lambda items: (linker._cache.clear(), run(items))

    def ner(items: list[str]) -> None:
        with nlp.select_pipes(disable=["litmine_linker"]):
            list(nlp.pipe(items, batch_size=32))

    rows = [_row("tokenizer only", 1, timed_cpu(lambda ts: list(nlp.tokenizer.pipe(ts)), texts), texts),
            _row("+ KB features", 1, timed_cpu(lambda ts: [features(nlp.make_doc(t)) for t in ts], texts), texts),
            _row("+ NER (3 models, abbreviations, rules)", 1, timed_cpu(ner, texts), texts),
            _row("+ linking (entity pipeline)", 1, timed_cpu(cold(lambda ts: list(tagger.tag_many(ts))), texts), texts)]
    full = timed_cpu(cold(lambda rs: extract_records(rs, tagger, kit.evidence_extractor)), records)
    rows.append(_row("+ relations (full pipeline)", 1, full, texts))
    judged, judging = _judging(kit, verifier_claims)
    share = len(texts) / judged  # judging the abstracts read, at the rate it judged SciFact's
    rows.append(_row("+ verifier (judging)", 1, (full[0] + judging[0] * share, full[1] + judging[1] * share), texts))
    start = 0.0
    if processes > 1:
        started = time.perf_counter()
        with ReadingPool(partial(evidence_readers, kit.settings), processes) as pool:
            pool.warm()
            start = time.perf_counter() - started
            rows.append(_row("+ relations (full pipeline)", processes, timed_cpu(pool.extract, records), texts))
    return rows, start


def _judging(kit: Toolkit, limit: int) -> tuple[int, tuple[float, float]]:
    """Abstracts the verifier judged for SciFact dev claims, and in how many seconds (wall, CPU)."""
    import verifier_throughput  # benchmarks/ is the script's folder (imported here: it imports this module)
    from pipeline.evaluation.scifact import load_claims

    claims = load_claims(kit.store, "dev")[:limit]
    own = verifier_throughput.own_abstracts(kit, claims)
    seconds = timed_cpu(lambda items: verifier_throughput.judge_own(kit, items, own), claims)
    return sum(len(own[c.claim_id]) for c in claims), seconds


def _tree(pid: int) -> Iterator[int]:
    """A process and all its descendants."""
    yield pid
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children = task.read_text().split()
        except OSError:
            continue
        for child in children:
            yield from _tree(int(child))


def _status(pid: int, field: str) -> float:
    try:
        return float(next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines()
                          if x.startswith(field)).split()[1])
    except (OSError, StopIteration):
        return 0.0


def tree_cpu_seconds() -> float:
    """CPU seconds (user and system) spent so far by this process and its live descendants: the
    work done whatever else the machine runs, where wall-clock seconds depend on it."""
    total = 0.0
    for pid in _tree(os.getpid()):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@contextmanager
def peak_rss() -> Iterator[list[float]]:
    """The largest resident memory, in MB, of this process and its descendants together while
    the block runs (sampled every 0.2 s from /proc), in the one-item list yielded."""
    peak, done = [0.0], threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], sum(_status(p, "VmRSS:") for p in _tree(os.getpid())) / 1024)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()


def sample_records(kit: Toolkit, limit: int) -> list[Record]:
    """The first `limit` BC5CDR test abstracts: the sample every stage is timed on."""
    docs = kit.store.gold_documents("bc5cdr", "test")[:limit]
    found = kit.store.get_many(d.doc_id for d in docs)
    return [found[d.doc_id] for d in docs if d.doc_id in found]


def shuffled_records(kit: Toolkit) -> list[Record]:
    """Every record of the store, shuffled with a fixed seed: the scaling run's order."""
    records = kit.store.all_records()
    random.Random(0).shuffle(records)
    return records


def scaling(kit: Toolkit, processes: int) -> list[dict[str, object]]:
    """The full pipeline over 1k, 5k and all records, each with a pool of its own (its start counted)."""
    records = shuffled_records(kit)
    points = []
    for n in [*(n for n in SCALING if n < len(records)), len(records)]:
        with peak_rss() as peak:
            started, cpu = time.perf_counter(), tree_cpu_seconds()
            if processes > 1:
                with ReadingPool(partial(evidence_readers, kit.settings), processes) as pool:
                    pool.extract(records[:n])
                    cpu = tree_cpu_seconds() - cpu  # the workers' too (their start included), before they exit
            else:
                extract_records(records[:n], kit.tagger, kit.evidence_extractor)
                cpu = tree_cpu_seconds() - cpu
            seconds = time.perf_counter() - started
        points.append({"abstracts": n, "seconds": round(seconds, 1), "abstracts_per_s": round(n / seconds, 1),
                       "peak_rss_mb": round(peak[0]), "cpu_seconds": round(cpu, 1)})
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--processes", type=int, default=None, help="worker processes (default: settings')")
    parser.add_argument("--verifier-claims", type=int, default=300)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--scaling", action="store_true", help="also read 1k, 5k and all records of the store")
    args = parser.parse_args()
    settings = load_settings().with_overrides(offline=True, processes=args.processes)
    kit = open_toolkit(settings)
    records = sample_records(kit, args.limit)
    rows, start = stage_rows(kit, records, settings.processes, args.verifier_claims)
    full = [r for r in rows if r["stage"].startswith("+ relations")]
    best = max(full, key=lambda r: r["abstracts_per_s"])
    one = full[0]["abstracts_per_s"]
    result: dict[str, object] = {
        "abstracts": len(records), "rows": rows, "nlp_full_abstracts_per_s": best["abstracts_per_s"],
        "nlp_full_processes": best["processes"],
        "nlp_full_over_tokenizer": round(rows[0]["abstracts_per_s"] / one, 1), "pool_start_s": round(start, 1)}
    if len(full) > 1 and full[1]["abstracts_per_s"] > one:
        result["pool_break_even_abstracts"] = round(start / (1 / one - 1 / full[1]["abstracts_per_s"]))
    if args.scaling:
        result["scaling"] = scaling(kit, settings.processes)
        result["all_abstracts_minutes"] = round(result["scaling"][-1]["seconds"] / 60, 1)
    if args.json:
        print(json.dumps(result))
        return
    _print(result)


def _print(result: dict) -> None:
    console = Console(width=160)
    table = Table("stage", "processes", "seconds", "abstracts/s", "words/s", "CPU seconds", "abstracts/CPU s",
                  title=f"throughput on {result['abstracts']} BC5CDR test abstracts")
    for r in result["rows"]:
        table.add_row(r["stage"], str(r["processes"]), f"{r['seconds']:.1f}", f"{r['abstracts_per_s']:,.1f}",
                      f"{r['words_per_s']:,}", f"{r['cpu_seconds']:.1f}", f"{r['abstracts_per_cpu_s']:,.1f}")
    console.print(table)
    console.print(f"pool start: {result['pool_start_s']} s; worth it from "
                  f"{result.get('pool_break_even_abstracts', '(never, here)')} abstracts")
    if "scaling" in result:
        table = Table("abstracts", "seconds", "abstracts/s", "peak RSS (MB)", "CPU seconds",
                      title="full pipeline, scaling")
        for p in result["scaling"]:
            table.add_row(f"{p['abstracts']:,}", str(p["seconds"]), str(p["abstracts_per_s"]), f"{p['peak_rss_mb']:,}",
                          str(p["cpu_seconds"]))
        console.print(table)


if __name__ == "__main__":
    main()
