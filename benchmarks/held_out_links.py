"""A co-mention link model that never saw the papers the pharma train claims cite, for measuring on them.

    LITMINE_MODELS=COPY .venv/bin/python benchmarks/held_out_links.py [--start 100] [--limit 100]

The product's link model (`pipeline.training.comentions`) learns from every BioRED, BC5CDR and
DrugProt train document, so on the pharma claims written from those documents its readings are
in-sample and surer than they would be on a user's paper. This trains one on the same documents
less those the pharma train claims cite (`pipeline.evaluation.pharma.pharma_claims`, `--limit`
documents of each corpus from the `--start`-th; a PMID is left out whichever corpus holds it) and
makes it current in the models folder of the settings: run it on a copy of the models, never on
the folder `litmine run` uses. `litmine evaluate verdicts --corpus pharma --split train` (with the
same `--start`) on that copy then gives the verdicts the calibration is fitted on (README,
"Calibrated confidence"). The relation models stay as they are: retraining them without those
papers takes hours.

Each sample of train claims has a model of its own (`--start 0`, `--start 100`): one held out from
both would learn almost nothing of BioRED, whose train split has 203 documents with a relation that
makes a claim; without the 200 the two samples cite, 5 of its 947 directed pairs are left, and the
thresholds chosen out of fold on what remains are not the product's (2026-12-06: direction 0.96, cited
link 0.07; the apart reading at 0.5 and 0.0, a side wherever it names the two).
"""
from __future__ import annotations

import argparse
from dataclasses import asdict

from pipeline.config import load_settings
from pipeline.evaluation.pharma import CORPORA, pharma_claims
from pipeline.models import LINKS
from pipeline.records.store import Store
from pipeline.training.comentions import LinkConfig, links_key, train_links, training_examples
from pipeline.training.pickled import build_pickled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=100, help="documents per corpus the pharma claims cite")
    parser.add_argument("--start", type=int, default=0, help="documents of each corpus skipped before them")
    args = parser.parse_args()
    settings, config = load_settings(), LinkConfig()
    with Store(settings.store_path) as store:
        cited = {claim.pmid for corpus in CORPORA
                 for claim in pharma_claims(store, corpus, "train", args.limit, args.start)}
        examples = [e for e in training_examples(store) if e.doc_id not in cited]
    folder = build_pickled(settings, LINKS, links_key(examples, config),
                           f"{len(examples)} chemical-target pairs, {len(cited)} cited papers held out",
                           lambda: train_links(examples, config),
                           {"examples": len(examples), "held_out": len(cited), "start": args.start,
                            "config": asdict(config)})
    print(f"link model held out from {len(cited)} papers: {folder} (current in {settings.models / LINKS})")


if __name__ == "__main__":
    main()
