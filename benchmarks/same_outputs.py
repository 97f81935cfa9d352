"""Whether the full pipeline still reads records as it did: every mention (offsets, type, id,
name, species), every relation (its mentions, label, negation, hedging, confidence, extractor)
and every sentence of the same records, saved before a change and compared after it.

    .venv/bin/python benchmarks/same_outputs.py save FILE [--limit N] [--processes P]
    .venv/bin/python benchmarks/same_outputs.py compare FILE [--processes P]

The records are the first 300 BC5CDR test abstracts (what `benchmarks/throughput.py` times)
and then the first `--limit` of every record in the store shuffled with throughput's seed (its
scaling run), read by `Toolkit.extract`: in this process, or with `--processes` 2 or more by that
many worker processes (`pipeline.verdicts.pool`). `compare` reads the records FILE names, prints
how many records, mentions and relations it compared and the first differences, and exits 1
when any record differs. The FILE is JSON lines, one record each (`asdict` of its
`ExtractedRecord`, its concepts sorted), so it does not depend on the classes' code.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from pipeline.config import load_settings
from pipeline.datatypes import ExtractedRecord, Record
from pipeline.toolkit import Toolkit, open_toolkit
from throughput import sample_records, shuffled_records  # benchmarks/ is the script's folder

SAMPLE = 300  # BC5CDR test abstracts, as throughput.py reads


def chosen_records(kit: Toolkit, limit: int) -> list[Record]:
    """The sample throughput.py times, then `limit` of the store's records as its scaling run shuffles them."""
    return sample_records(kit, SAMPLE) + shuffled_records(kit)[:limit]


def as_row(extracted: ExtractedRecord) -> dict[str, object]:
    row = asdict(extracted)
    row["concepts"] = sorted(extracted.concepts)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("save", "compare"))
    parser.add_argument("file", type=Path)
    parser.add_argument("--limit", type=int, default=2000, help="store records after the BC5CDR sample (save)")
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    kit = open_toolkit(load_settings().with_overrides(offline=True, processes=args.processes))
    if args.action == "save":
        records = chosen_records(kit, args.limit)
        rows = [as_row(x) for x in kit.extract(records, pooled=args.processes > 1)]
        args.file.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        print(f"saved {len(rows)} records to {args.file}")
        return
    saved = [json.loads(line) for line in args.file.read_text(encoding="utf-8").splitlines()]
    wanted = {row["uid"] for row in saved}
    # the records saved, in their order (a store may have gained records since)
    by_uid = {r.uid: r for r in kit.store.all_records() if r.uid in wanted}
    records = [by_uid[row["uid"]] for row in saved]
    rows = [json.loads(json.dumps(as_row(x))) for x in kit.extract(records, pooled=args.processes > 1)]
    differing = [(old, new) for old, new in zip(saved, rows) if old != new]
    mentions = sum(len(m) for row in rows for _, m in row["sentences"])
    relations = sum(len(row["relations"]) for row in rows)
    print(f"compared {len(rows)} records: {mentions} mentions, {relations} relations, "
          f"{sum(len(row['sentences']) for row in rows)} sentences; {len(differing)} records differ")
    for old, new in differing[:5]:
        for key in old:
            if old[key] != new[key]:
                print(f"  {old['uid']} {key}: was {json.dumps(old[key])[:300]}\n      now {json.dumps(new[key])[:300]}")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
