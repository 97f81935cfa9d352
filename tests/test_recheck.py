"""A re-check of documents checked before asks PubMed only what it added since, in a few requests."""
import csv
from pathlib import Path

from pipeline.config import load_settings
from pipeline.records.store import Store

DOCUMENTS = [str(p) for p in sorted((load_settings().shared / "documents").glob("*.txt"))]
NEW_PAPER = ("Fluoxetine and SSRIs blunt emotional reactivity.",
             "Chronic SSRI treatment produced emotional blunting in patients.")


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_recheck_of_the_demo_documents_asks_only_for_what_is_new(harness, data_dir, fake_eutils, monkeypatch,
                                                                      tmp_path):
    from flows.evidence_check import evidence_check

    monkeypatch.setenv("LITMINE_EUTILS_URL", fake_eutils.url)
    monkeypatch.setenv("NCBI_EMAIL", "tests@example.org")
    evidence_check(DOCUMENTS, out=str(tmp_path / "first"))
    first = len(fake_eutils.requests())
    assert first > 20  # a search per uncited claim, the cited records

    fake_eutils.add("39000001", *NEW_PAPER, day="2999/01/01")  # added to PubMed after the first run
    evidence_check(DOCUMENTS, out=str(tmp_path / "recheck"))
    asked = fake_eutils.requests()[first:]
    searches = [hit for hit in asked if hit.util == "esearch"]
    assert searches and all(hit.params.get("mindate") and hit.params.get("datetype") == ["edat"] for hit in searches)
    print(f"re-check: {len(asked)} requests ({len(searches)} esearch), first run: {first}")
    assert len(asked) <= 0.2 * first, f"{len(asked)} requests against {first} for the first run"

    with Store(data_dir / "litmine.sqlite") as store:
        (run,) = [r for r in store.recent_runs(1)]
        read_again = {c.claim_id: c.read for c in store.run_claims(run["run_id"])}
    claims = {r["claim_id"]: r for r in read(tmp_path / "recheck" / "claims.csv")}
    blunting = [cid for cid, row in claims.items() if "emotional blunting" in row["sentence"] and not row["citations"]]
    assert blunting and any("pmid:39000001" in read_again[cid] for cid in blunting)  # the new paper is read
    # with nothing else new, a claim reads what it read before: only the new paper's readers may change
    changed = {c["claim_id"] for c in read(tmp_path / "recheck" / "changes.csv")}
    assert changed <= {cid for cid, uids in read_again.items() if "pmid:39000001" in uids}
