"""A sentence verifier that never saw one fold of the SciFact train claims, for measuring on them.

    LITMINE_MODELS=COPY .venv/bin/python benchmarks/held_out_verifier.py --fold 1/3

The product's verifier (`pipeline.training.verifier`) learns from every SciFact train claim, so its
confidences on them are in-sample and surer than they would be on a user's claim. This trains one
on the same claims and abstracts less the claims of `--fold` (`pipeline.evaluation.scifact.in_fold`),
notes the fold in its build.json (`held_out_fold`) and makes it current in the models folder of the
settings: run it on a copy of the models, never on the folder `litmine run` uses. `litmine evaluate
verdicts --corpus scifact --split train --fold K/N` on that copy then gives verdicts the calibration
may be fitted on (README, "Calibrated confidence"); the fit refuses SciFact train runs whose verifier
was not held out from their fold. Mirrors `benchmarks/held_out_models.py`.
"""
from __future__ import annotations

import argparse
from dataclasses import asdict

from pipeline.config import load_settings
from pipeline.entities.dictionary import DictionaryTagger
from pipeline.entities.kb_build import ensure_kb
from pipeline.evaluation.scifact import in_fold, load_claims, load_passages
from pipeline.models import VERIFIER
from pipeline.records.store import Store
from pipeline.training.pickled import build_pickled
from pipeline.training.verifier import VerifierConfig, train_verifier, verifier_key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fold", required=True, help="K/N: the claims of the K-th of N folds are held out")
    args = parser.parse_args()
    settings, config = load_settings(), VerifierConfig()
    tagger = DictionaryTagger(ensure_kb(settings))
    with Store(settings.store_path) as store:
        claims = load_claims(store, "train")
        kept = [c for c in claims if not in_fold(c.claim_id, args.fold)]
        passages = load_passages(store)
    folder = build_pickled(settings, VERIFIER, verifier_key(passages, kept, tagger, config),
                           f"{len(kept)} SciFact train claims, fold {args.fold} ({len(claims) - len(kept)}) held out",
                           lambda: train_verifier(passages, kept, tagger, config),
                           {"claims": len(kept), "held_out_fold": args.fold, "config": asdict(config)})
    print(f"verifier held out from fold {args.fold}: {folder} (current in {settings.models / VERIFIER})")


if __name__ == "__main__":
    main()
