"""A co-mention link model (and, with --relations, relation models) that never saw the papers the
pharma train claims cite, for measuring on them.

    LITMINE_MODELS=COPY .venv/bin/python benchmarks/held_out_models.py [--start 100] [--limit 100] [--relations]

The product's link model (`pipeline.training.comentions`) learns from every BioRED, BC5CDR and
DrugProt train document, so on the pharma claims written from those documents its readings are
in-sample and surer than they would be on a user's paper. This trains one on the same documents
less those the pharma train claims cite (`pipeline.evaluation.pharma.pharma_claims`, `--limit`
documents of each corpus from the `--start`-th; a PMID is left out whichever corpus holds it) and
makes it current in the models folder of the settings: run it on a copy of the models, never on
the folder `litmine run` uses. `litmine evaluate verdicts --corpus pharma --split train` (with the
same `--start`) on that copy then gives the verdicts the calibration is fitted on (README,
"Calibrated confidence").

The relation models the flow reads learn from those papers too (DrugProt's from its train split,
BioRED's from train and dev), so a train sample's relation reads are in-sample as well: with them, the
first train sample read 0.830 accuracy where dev read 0.766. `--relations` trains both without the
cited papers (about 3 minutes, the NONE bias chosen as the product's is, on what is left) and makes
them current in the same models folder, so a train sample reads the papers it cites as dev and a
user's papers are read: rules chosen there are chosen on the errors a user meets.

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
from pipeline.models import FLOW_CORPORA, LINKS, relation_model_dir
from pipeline.records.store import Store
from pipeline.training.comentions import LinkConfig, links_key, train_links, training_examples
from pipeline.training.pickled import build_pickled
from pipeline.training.relation_models import train_relation_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=100, help="documents per corpus the pharma claims cite")
    parser.add_argument("--start", type=int, default=0, help="documents of each corpus skipped before them")
    parser.add_argument("--relations", action="store_true", help="hold the relation models out as well")
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
        if args.relations:
            for corpus in FLOW_CORPORA:
                held = train_relation_model(corpus, store, relation_model_dir(settings), progress=True,
                                            held_out=cited)
                (relation_model_dir(settings) / f"{corpus}.current").write_text(held.name)
                print(f"relations_{corpus} held out from {len(cited)} papers: {held}")


if __name__ == "__main__":
    main()
