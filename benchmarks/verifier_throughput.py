"""Throughput of the claim verifier on SciFact dev claims, with and without retrieval.

    .venv/bin/python benchmarks/verifier_throughput.py [--limit N]

Rows: the sentence-level verifier judging each claim's own abstracts (no retrieval); the
offline search the flow runs for an uncited claim (the store's BM25 pool, re-ranked by the
verifier's BM25, top 5); and both, search then judging, which is what an uncited statement
costs the flow besides entity and relation extraction (see `benchmarks/throughput.py` for
those). One process, warm (each row runs once on 20 claims first), on the store and models of
the current settings. `benchmarks/throughput.py` reads its verifier row from `judge_own`.
"""
from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from pipeline.config import load_settings
from pipeline.evaluation.scifact import load_claims, statement
from pipeline.toolkit import Toolkit, open_toolkit
from pipeline.verdicts.evidence import search_records
from pipeline.verdicts.rationales import Passage, judge, passage, rank_records
from throughput import timed  # benchmarks/ is the script's folder


def own_abstracts(kit: Toolkit, claims: list) -> dict[str, list[Passage]]:
    """Each claim's own abstracts (those SciFact labels for it), as the verifier reads them."""
    return {c.claim_id: [passage(r) for uid in c.labels if (r := kit.store.get(uid))] for c in claims}


def judge_own(kit: Toolkit, claims: list, own: dict[str, list[Passage]]) -> None:
    """The verifier judging each claim's own abstracts as if the claim cited them (no retrieval)."""
    for c in claims:
        judge(kit.verifier, c.text, own[c.claim_id], [], kit.dictionary_tagger)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=300)
    args = parser.parse_args()
    kit = open_toolkit(load_settings().with_overrides(offline=True))
    claims = load_claims(kit.store, "dev")[:args.limit]
    own = own_abstracts(kit, claims)
    model, tagger = kit.verifier, kit.dictionary_tagger

    def search(items):
        return [search_records(statement(c.text), kit.client, kit.kb, 5, lambda t, p: rank_records(model, t, p)).records
                for c in items]

    def search_and_judge(items):
        for c, found in zip(items, search(items)):
            judge(model, c.text, [], [passage(r) for r in found], tagger)

    table = Table("stage", "claims", "seconds", "claims/s",
                  title=f"verifier throughput, {len(claims)} SciFact dev claims")
    for name, run in (("judge the claim's own abstracts", lambda items: judge_own(kit, items, own)),
                      ("search (top 5)", search), ("search, then judge the top 5", search_and_judge)):
        seconds = timed(run, claims)
        table.add_row(name, str(len(claims)), f"{seconds:.1f}", f"{len(claims) / seconds:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
