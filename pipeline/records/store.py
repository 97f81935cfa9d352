"""The record store: one SQLite file holding fetched records, id mappings and gold corpora.

SQLite is the embedded default because litmine must work offline from what it
has already fetched. Upserts are idempotent (a record whose content hash is
unchanged is not rewritten), full-text search uses FTS5 with BM25 ranking, and
the schema is versioned through ``PRAGMA user_version`` with forward-only
migrations (pipeline.records.schema).

Several processes share one store (two `litmine run`s, an import, a scheduled run). Every
write is one `BEGIN IMMEDIATE` transaction: it takes the write lock before it reads what it
will change (an existing record, the schema version), so two writers never both decide on
what they saw before the other wrote, and a writer waits for the lock (`BUSY_TIMEOUT`)
rather than failing on a read lock it cannot upgrade.
"""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pipeline.datatypes import GoldClaim, GoldDocument, GoldEntity, GoldRelation, Record, RunClaim
from pipeline.records import write_turns
from pipeline.records.schema import MIGRATIONS, SCHEMA_VERSION, statements
from pipeline.records.store_rows import COLUMNS, GoldRows, Pending, gold_rows, record_row, row_record

BUSY_TIMEOUT = 60.0  # seconds a write waits for another connection's transaction to end

# Where two sources hold the same record, text from the higher rank wins;
# on a tie the first one stored is kept, so re-imports never flip-flop.
SOURCE_RANK = {"pubmed": 3, "pmc": 3, "entrez": 3}

_RECORD_SCALARS = ("pmid", "pmcid", "doi", "title", "abstract", "journal", "year", "volume", "pages")
_RECORD_LISTS = ("mesh_terms", "sections", "authors")
# A record's standing: PubMed adds retractions and notices to old records, so a record fetched
# from PubMed again replaces these, even with nothing, whatever the store held.
_STANDING = ("publication_types", "notices")


class StoreError(RuntimeError):
    """The store file cannot be used; the message names it and says why."""


@dataclass
class UpsertCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: UpsertCounts) -> UpsertCounts:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


@dataclass
class SearchHit:
    record: Record
    score: float  # BM25 relevance, higher is better


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _merge(old: Record, new: Record) -> Record:
    """Combine two versions of one record: richer sources win, empty fields get filled."""
    new_wins = SOURCE_RANK.get(new.source, 1) > SOURCE_RANK.get(old.source, 1)
    merged = Record(uid=old.uid, source=new.source if new_wins else old.source,
                    fetched_at=new.fetched_at if new_wins else old.fetched_at)
    for name in _RECORD_SCALARS + _RECORD_LISTS + _STANDING:
        old_value, new_value = getattr(old, name), getattr(new, name)
        take_new = bool(new_value) and (new_wins or not old_value) or (name in _STANDING and new.source == "pubmed")
        setattr(merged, name, new_value if take_new else old_value)
    return merged


class Store:
    """A litmine record store in one SQLite file.

    Safe to share between threads (writes are serialized); each process opens
    its own. WAL mode lets readers proceed while one writer imports.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._on_disk = str(path) != ":memory:"  # a store others may share: turns at its write lock
        if self._on_disk:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # autocommit: transactions are begun explicitly, BEGIN IMMEDIATE (`transaction`)
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=BUSY_TIMEOUT,
                                       isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._lock = threading.RLock()
            self._depth = 0
            self._held = 0.0  # seconds this connection has held the write lock since it last paused
            self._use_wal()
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable litmine store: {exc}") from exc

    def _use_wal(self) -> None:
        """Write-ahead logging, set once in the file. Where two connections set it on a new file at
        once, SQLite answers one "database is locked" without waiting for the other: it tries again."""
        deadline = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    # -- schema -------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        """Bring the schema up to date. The version is read again inside the write transaction:
        another process may have migrated the store since this one first looked."""
        if self._check_version() == SCHEMA_VERSION:
            return
        with self.transaction() as db:
            for target in range(self._check_version(), SCHEMA_VERSION):
                for statement in statements(MIGRATIONS[target]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {target + 1}")

    def _check_version(self) -> int:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: schema version {version} is newer than this litmine "
                             f"({SCHEMA_VERSION}); upgrade litmine")
        return version

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything inside lands together or not at all.

        Nested transactions join the outermost one, so a caller can group
        several upserts (a file's records and its gold annotations) into one.
        """
        with self._lock:
            if self._depth:
                yield self._db
                return
            self._depth += 1
            try:
                if self._on_disk:
                    write_turns.begin(self._db, self.path, id(self), BUSY_TIMEOUT)
                else:
                    self._db.execute("BEGIN IMMEDIATE")
                began = time.monotonic()
                try:
                    yield self._db
                except BaseException:
                    self._db.rollback()
                    raise
                self._db.commit()
                self._held += time.monotonic() - began
            finally:
                self._depth -= 1
        if self._on_disk and self._held >= write_turns.TURN and write_turns.others_wait(self.path, BUSY_TIMEOUT):
            self._held = 0.0  # outside the lock: this process's threads need not wait
            time.sleep(write_turns.TURN_PAUSE)

    # -- records ------------------------------------------------------------
    def upsert_records(self, records: Iterable[Record]) -> UpsertCounts:
        """Insert or merge records in one transaction; unchanged content is not rewritten. The stored
        copies of the lot are looked up at once, and its rows written with one `executemany` a statement."""
        batch, counts = list(records), UpsertCounts()
        with self.transaction() as db:
            pending = Pending(self._find_existing(batch))
            for record in batch:
                counts += self._upsert(pending, record)
            self._write(db, pending)
            if counts.added or counts.updated:
                db.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
        return counts

    @property
    def generation(self) -> int:
        """Changes whenever any record is added or updated: what a search saw is still valid
        while this stays the same."""
        return self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]

    def _upsert(self, pending: Pending, record: Record) -> UpsertCounts:
        """One record against what the store and the records before it in its batch hold."""
        record.fetched_at = record.fetched_at or now_iso()
        existing = pending.find(record)
        if existing is None:
            pending.keep(record, insert=True)
            pending.sources.add((record.uid, record.source))
            return UpsertCounts(added=1)
        pending.sources.add((existing.uid, record.source))
        merged = _merge(existing, record)
        if merged.content_hash() == existing.content_hash() and merged.source == existing.source:
            return UpsertCounts(unchanged=1)
        pending.keep(merged, insert=existing.uid in pending.inserts)
        return UpsertCounts(updated=1)

    def _find_existing(self, records: list[Record]) -> list[Record]:
        """The stored records that any of these are a copy of: the same uid, PMID or PMCID."""
        found: dict[str, Record] = {}
        for column, values in (("uid", [r.uid for r in records]), ("pmid", [str(r.pmid) for r in records if r.pmid]),
                               ("pmcid", [r.pmcid.upper() for r in records if r.pmcid])):
            wanted = list(dict.fromkeys(values))
            for i in range(0, len(wanted), 500):
                chunk = wanted[i:i + 500]
                rows = self._db.execute(f"SELECT * FROM records WHERE {column} IN ({','.join('?' * len(chunk))})",
                                        chunk)
                found.update((row["uid"], row_record(row)) for row in rows)
        return list(found.values())

    def _write(self, db: sqlite3.Connection, pending: Pending) -> None:
        """A batch's new and changed records, their full-text rows and their sources."""
        for records, insert in ((pending.inserts.values(), True), (pending.updates.values(), False)):
            rows = [record_row(record) for record in records]
            if not rows:
                continue
            if insert:
                db.executemany(f"INSERT INTO records({','.join(COLUMNS)}) VALUES ({','.join('?' * len(COLUMNS))})",
                               rows)
            else:
                db.executemany(f"UPDATE records SET {', '.join(f'{k} = ?' for k in COLUMNS)} WHERE uid = ?",
                               [(*row, row[0]) for row in rows])
                db.executemany("DELETE FROM records_fts WHERE uid = ?", [(r.uid,) for r in records])
            db.executemany("INSERT INTO records_fts(uid, title, abstract, body) VALUES (?, ?, ?, ?)",
                           [(r.uid, r.title, r.abstract, "\n".join(f"{s.title}\n{s.text}" for s in r.sections))
                            for r in records])
        db.executemany("INSERT OR IGNORE INTO record_sources(uid, source) VALUES (?, ?)", sorted(pending.sources))

    def _one(self, sql: str, *args: object) -> Record | None:
        row = self._db.execute(sql, args).fetchone()
        return row_record(row) if row else None

    def get(self, uid: str) -> Record | None:
        return self._one("SELECT * FROM records WHERE uid = ?", uid)

    def get_by_pmid(self, pmid: str) -> Record | None:
        return self._one("SELECT * FROM records WHERE pmid = ?", str(pmid))

    def get_by_pmcid(self, pmcid: str) -> Record | None:
        return self._one("SELECT * FROM records WHERE pmcid = ?", pmcid.upper())

    def get_by_doi(self, doi: str) -> Record | None:
        return self._one("SELECT * FROM records WHERE doi = ?", doi.lower())

    def get_many(self, pmids: Iterable[str]) -> dict[str, Record]:
        """Records by PMID, for those the store has."""
        wanted = list(dict.fromkeys(str(p) for p in pmids))
        found: dict[str, Record] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i:i + 500]
            rows = self._db.execute(
                f"SELECT * FROM records WHERE pmid IN ({','.join('?' * len(chunk))})", chunk)
            found.update({row["pmid"]: row_record(row) for row in rows})
        return found

    def all_records(self) -> list[Record]:
        """Every record the store holds, in uid order: a corpus-scale read (`benchmarks/throughput.py --scaling`)."""
        return [row_record(row) for row in self._db.execute("SELECT * FROM records ORDER BY uid")]

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """BM25-ranked records matching any of the query's words (title weighted double)."""
        words = [w for w in re.findall(r"\w+", query.lower()) if len(w) > 1]
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in dict.fromkeys(words))
        # FTS5's own `rank` column ranks inside the index: far faster than ORDER BY bm25(...)
        ranked = self._db.execute(
            "SELECT uid, rank FROM records_fts WHERE records_fts MATCH ? AND rank MATCH "
            "'bm25(0.0, 2.0, 1.0, 0.5)' ORDER BY rank LIMIT ?", (match, limit)).fetchall()
        return [SearchHit(record, -rank) for uid, rank in ranked if (record := self.get(uid))]

    # -- identifier mappings (PMCID/DOI/citation -> PMID) ----------------------
    def remember_id(self, kind: str, key: str, pmid: str) -> None:
        """Cache an id conversion, '' meaning NCBI has no PMID for it."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO id_map(kind, key, pmid, checked_at) VALUES (?, ?, ?, ?)",
                       (kind, key, pmid, now_iso()))

    def recall_id(self, kind: str, key: str, misses_since: datetime | None = None) -> str | None:
        """A cached conversion: the PMID, '' for a known miss, None if never asked or a miss before `misses_since`."""
        row = self._db.execute("SELECT pmid, checked_at FROM id_map WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        stale = row and not row["pmid"] and misses_since and datetime.fromisoformat(row["checked_at"]) < misses_since
        return None if row is None or stale else row["pmid"]

    # -- gold corpora -------------------------------------------------------
    def add_gold_documents(self, documents: Iterable[GoldDocument]) -> UpsertCounts:
        """Store corpus documents with their annotations; re-adding the same is a no-op."""
        return self.add_gold_rows([gold_rows(doc) for doc in documents])

    def add_gold_rows(self, documents: Iterable[GoldRows]) -> UpsertCounts:
        """`add_gold_documents` for documents already in rows (an import's worker makes them). The
        stored hashes of the lot are looked up at once, and its rows written with one `executemany` a table."""
        counts = UpsertCounts()
        docs = list(documents)
        with self.transaction() as db:
            hashes = self._gold_hashes([doc.key for doc in docs])
            replaced = set()
            changed: dict[tuple[str, str, str], GoldRows] = {}
            for doc in docs:
                if hashes.get(doc.key) == doc.digest:
                    counts.unchanged += 1
                    continue
                if doc.key in hashes:
                    counts.updated += 1
                    replaced.add(doc.key)
                else:
                    counts.added += 1
                hashes[doc.key], changed[doc.key] = doc.digest, doc
            for table in ("gold_entities", "gold_relations"):
                db.executemany(f"DELETE FROM {table} WHERE corpus = ? AND split = ? AND doc_id = ?", sorted(replaced))
            db.executemany("INSERT OR REPLACE INTO gold_documents VALUES (?, ?, ?, ?, ?)",
                           [(*key, doc.text, doc.digest) for key, doc in changed.items()])
            db.executemany("INSERT OR REPLACE INTO gold_entities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [(*key, *row) for key, doc in changed.items() for row in doc.entities])
            db.executemany("INSERT OR REPLACE INTO gold_relations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           [(*key, *row) for key, doc in changed.items() for row in doc.relations])
        return counts

    def _gold_hashes(self, keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
        """The stored annotation hashes of these documents, by (corpus, split, doc_id)."""
        found: dict[tuple[str, str, str], str] = {}
        by_split: dict[tuple[str, str], list[str]] = {}
        for corpus, split, doc_id in keys:
            by_split.setdefault((corpus, split), []).append(doc_id)
        for (corpus, split), ids in by_split.items():
            wanted = list(dict.fromkeys(ids))
            for i in range(0, len(wanted), 500):
                chunk = wanted[i:i + 500]
                found.update(((corpus, split, doc_id), digest) for doc_id, digest in self._db.execute(
                    f"SELECT doc_id, annotations_hash FROM gold_documents WHERE corpus = ? AND split = ? "
                    f"AND doc_id IN ({','.join('?' * len(chunk))})", (corpus, split, *chunk)))
        return found

    def add_gold_claims(self, claims: Iterable[GoldClaim]) -> UpsertCounts:
        counts = UpsertCounts()
        with self.transaction() as db:
            for claim in claims:
                values = (claim.corpus, claim.split, claim.claim_id, claim.doc_id, claim.claim,
                          claim.label, json.dumps(claim.sentences))
                row = db.execute("SELECT claim, label, sentences FROM gold_claims WHERE corpus = ? AND "
                                 "split = ? AND claim_id = ? AND doc_id = ?", values[:4]).fetchone()
                if row and tuple(row) == values[4:]:
                    counts.unchanged += 1
                    continue
                db.execute("INSERT OR REPLACE INTO gold_claims VALUES (?, ?, ?, ?, ?, ?, ?)", values)
                counts += UpsertCounts(updated=1) if row else UpsertCounts(added=1)
        return counts

    def gold_documents(self, corpus: str, split: str) -> list[GoldDocument]:
        """A corpus split with its annotations, ordered by document id."""
        key = (corpus, split)
        docs = {row["doc_id"]: GoldDocument(corpus, split, row["doc_id"], row["text"])
                for row in self._db.execute("SELECT doc_id, text FROM gold_documents WHERE corpus = ? "
                                            "AND split = ? ORDER BY doc_id", key)}
        for row in self._db.execute("SELECT * FROM gold_entities WHERE corpus = ? AND split = ? "
                                    "ORDER BY doc_id, start, end", key):
            docs[row["doc_id"]].entities.append(
                GoldEntity(row["ann_id"], row["start"], row["end"], row["text"], row["type"], row["identifiers"]))
        for row in self._db.execute("SELECT * FROM gold_relations WHERE corpus = ? AND split = ?", key):
            docs[row["doc_id"]].relations.append(
                GoldRelation(row["type"], row["arg1"], row["arg2"], row["rel_id"], row["novelty"]))
        return list(docs.values())

    def gold_fingerprint(self, corpus: str, split: str) -> str:
        """A hash of a split's texts and annotations: trained models are keyed by it."""
        digest = hashlib.sha256()
        for table in ("gold_documents", "gold_entities", "gold_relations"):
            for row in self._db.execute(f"SELECT * FROM {table} WHERE corpus = ? AND split = ? ORDER BY rowid",
                                        (corpus, split)):
                digest.update(json.dumps(tuple(row), default=str).encode())
        return digest.hexdigest()[:16]

    def gold_claims(self, corpus: str, split: str) -> list[GoldClaim]:
        rows = self._db.execute("SELECT * FROM gold_claims WHERE corpus = ? AND split = ? "
                                "ORDER BY claim_id, doc_id", (corpus, split))
        return [GoldClaim(r["corpus"], r["split"], r["claim_id"], r["claim"], r["doc_id"], r["label"],
                          json.loads(r["sentences"])) for r in rows]

    # -- run history --------------------------------------------------------
    def add_run(self, run_id: str, documents_key: str, documents: list[str], out_dir: str,
                summary: dict[str, int], claims: list[RunClaim]) -> None:
        """Remember a run's verdicts. A re-recorded run id replaces the earlier record, and so does
        a run of the same documents into the same folder: the run is repeated there (after it was
        interrupted, say), and the folder holds only the latest tables."""
        with self.transaction() as db:
            replaced = "run_id = ? OR (documents_key = ? AND out_dir = ?)"
            db.execute(f"DELETE FROM run_claims WHERE run_id IN (SELECT run_id FROM runs WHERE {replaced})",
                       (run_id, documents_key, out_dir))
            db.execute(f"DELETE FROM runs WHERE {replaced}", (run_id, documents_key, out_dir))
            db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                       (run_id, documents_key, json.dumps(documents), now_iso(), out_dir, json.dumps(summary)))
            db.executemany("INSERT INTO run_claims VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                (run_id, c.claim_key, c.claim_id, c.document, c.sentence, c.verdict, json.dumps(c.evidence),
                 json.dumps(c.unavailable), json.dumps(c.standing), json.dumps(c.read)) for c in claims])

    def run_started(self, run_id: str) -> str:
        """When a run started (ISO 8601, UTC)."""
        return self._db.execute("SELECT started_at FROM runs WHERE run_id = ?", (run_id,)).fetchone()["started_at"]

    def previous_run(self, documents_key: str, before: str, out_dir: str = "") -> str | None:
        """The latest earlier run over the same documents, other than `before` and other than the
        one recorded in `before`'s folder `out_dir`, which `before` will replace (`add_run`)."""
        row = self._db.execute(
            "SELECT run_id FROM runs WHERE documents_key = ? AND run_id != ? AND out_dir != ? AND started_at <= "
            "COALESCE((SELECT started_at FROM runs WHERE run_id = ?), '9999') "
            "ORDER BY started_at DESC, rowid DESC LIMIT 1", (documents_key, before, out_dir, before)).fetchone()
        return row["run_id"] if row else None

    def run_claims(self, run_id: str) -> list[RunClaim]:
        rows = self._db.execute("SELECT * FROM run_claims WHERE run_id = ? ORDER BY claim_key", (run_id,))
        return [RunClaim(r["claim_key"], r["claim_id"], r["document"], r["sentence"], r["verdict"],
                         json.loads(r["evidence"]), json.loads(r["unavailable"]), json.loads(r["standing"]),
                         json.loads(r["read"])) for r in rows]

    def recent_runs(self, limit: int = 10) -> list[dict[str, object]]:
        rows = self._db.execute("SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?", (limit,))
        return [{"run_id": r["run_id"], "started_at": r["started_at"], "documents": json.loads(r["documents"]),
                 "out_dir": r["out_dir"], "summary": json.loads(r["summary"])} for r in rows]

    # -- summary ------------------------------------------------------------
    def row_counts(self) -> dict[str, int]:
        """Rows per table: what an import added, compared before and after."""
        tables = ("records", "record_sources", "id_map", "gold_documents", "gold_entities",
                  "gold_relations", "gold_claims", "runs", "run_claims")
        return {t: self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}

    def stats(self) -> dict[str, object]:
        per_source = dict(self._db.execute(
            "SELECT source, COUNT(*) FROM record_sources GROUP BY source ORDER BY source").fetchall())
        gold: dict[str, dict[str, int]] = {}
        for table, label in (("gold_documents", "documents"), ("gold_entities", "entities"),
                             ("gold_relations", "relations"), ("gold_claims", "claims")):
            for corpus, split, n in self._db.execute(
                    f"SELECT corpus, split, COUNT(*) FROM {table} GROUP BY corpus, split"):
                gold.setdefault(f"{corpus}/{split}", {})[label] = n
        counts = self.row_counts()
        return {
            "path": str(self.path),
            "schema_version": self.schema_version,
            "records": counts["records"],
            "sources": per_source,
            "with_full_text": self._db.execute(
                "SELECT COUNT(*) FROM records WHERE sections != '[]'").fetchone()[0],
            "id_mappings": counts["id_map"],
            "gold": dict(sorted(gold.items())),
        }
