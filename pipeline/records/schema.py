"""The store's schema: forward-only migrations, the version `PRAGMA user_version` holds.

A store made by an older litmine is brought up to date when it opens (`Store`); every
migration keeps what the store holds, adding tables and columns with defaults.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator

# Each entry migrates the schema from version i to i + 1.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE records (
        uid TEXT PRIMARY KEY,
        pmid TEXT UNIQUE,
        pmcid TEXT,
        doi TEXT,
        title TEXT NOT NULL DEFAULT '',
        abstract TEXT NOT NULL DEFAULT '',
        sections TEXT NOT NULL DEFAULT '[]',
        journal TEXT NOT NULL DEFAULT '',
        year INTEGER,
        publication_types TEXT NOT NULL DEFAULT '[]',
        mesh_terms TEXT NOT NULL DEFAULT '[]',
        source TEXT NOT NULL DEFAULT '',
        fetched_at TEXT,
        content_hash TEXT NOT NULL
    );
    CREATE INDEX records_pmcid ON records(pmcid);
    CREATE INDEX records_doi ON records(doi);
    CREATE TABLE record_sources (
        uid TEXT NOT NULL REFERENCES records(uid),
        source TEXT NOT NULL,
        PRIMARY KEY (uid, source)
    );
    CREATE VIRTUAL TABLE records_fts USING fts5(
        uid UNINDEXED, title, abstract, body, tokenize = 'porter unicode61'
    );
    CREATE TABLE id_map (
        kind TEXT NOT NULL,          -- pmcid | doi | citation
        key TEXT NOT NULL,
        pmid TEXT NOT NULL,          -- '' when NCBI said there is none
        checked_at TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    );
    CREATE TABLE gold_documents (
        corpus TEXT NOT NULL, split TEXT NOT NULL, doc_id TEXT NOT NULL,
        text TEXT NOT NULL, annotations_hash TEXT NOT NULL,
        PRIMARY KEY (corpus, split, doc_id)
    );
    CREATE TABLE gold_entities (
        corpus TEXT NOT NULL, split TEXT NOT NULL, doc_id TEXT NOT NULL, ann_id TEXT NOT NULL,
        start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL,
        type TEXT NOT NULL, identifiers TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (corpus, split, doc_id, ann_id)
    );
    CREATE TABLE gold_relations (
        corpus TEXT NOT NULL, split TEXT NOT NULL, doc_id TEXT NOT NULL,
        type TEXT NOT NULL, arg1 TEXT NOT NULL, arg2 TEXT NOT NULL,
        rel_id TEXT NOT NULL DEFAULT '', novelty TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (corpus, split, doc_id, type, arg1, arg2)
    );
    CREATE TABLE gold_claims (
        corpus TEXT NOT NULL, split TEXT NOT NULL, claim_id TEXT NOT NULL, doc_id TEXT NOT NULL,
        claim TEXT NOT NULL, label TEXT NOT NULL DEFAULT '', sentences TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (corpus, split, claim_id, doc_id)
    );
    """,
    # 2: run history, so a run can say what changed since the previous run of the same documents
    """
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        documents_key TEXT NOT NULL,
        documents TEXT NOT NULL,          -- JSON list of the documents checked
        started_at TEXT NOT NULL,
        out_dir TEXT NOT NULL,
        summary TEXT NOT NULL             -- JSON: verdict -> number of claims
    );
    CREATE INDEX runs_documents ON runs(documents_key, started_at);
    CREATE TABLE run_claims (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        claim_key TEXT NOT NULL,
        claim_id TEXT NOT NULL,
        document TEXT NOT NULL,
        sentence TEXT NOT NULL,
        verdict TEXT NOT NULL,
        evidence TEXT NOT NULL,           -- JSON list of evidence PMIDs/uids
        unavailable TEXT NOT NULL,        -- JSON list of cited markers whose records could not be had
        PRIMARY KEY (run_id, claim_key)
    );
    """,
    # 3: a generation counter, bumped whenever records change, so searches can be cached safely
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta(key, value) VALUES ('generation', 0);
    """,
    # 4: what a reference check needs (authors, volume, pages) and PubMed's notices on a record's
    # standing (retractions, expressions of concern, errata); records stored before have none
    # until they are fetched again
    """
    ALTER TABLE records ADD COLUMN authors TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE records ADD COLUMN volume TEXT NOT NULL DEFAULT '';
    ALTER TABLE records ADD COLUMN pages TEXT NOT NULL DEFAULT '';
    ALTER TABLE records ADD COLUMN notices TEXT NOT NULL DEFAULT '[]';
    """,
    # 5: the standing of each claim's cited records in a run, so the next run can say which were
    # retracted or corrected since, and the records gathered for it, which a re-check reads again
    """
    ALTER TABLE run_claims ADD COLUMN standing TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE run_claims ADD COLUMN read TEXT NOT NULL DEFAULT '[]';
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def statements(script: str) -> Iterator[str]:
    """The SQL statements of a migration script, one by one (`executescript` would commit the
    transaction they run in)."""
    pending = ""
    for part in script.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending.strip()
            pending = ""
