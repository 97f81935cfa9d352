"""Building litmine's knowledge base (pipeline.entities.kb) from the shared vocabularies:
each source's loader (pipeline.entities.kb_sources) in turn into a KBBuilder
(pipeline.entities.kb_builder), which derives names and writes the SQLite file.

The build is skipped while the inputs, the curated tables in ``pipeline/data`` and the KB
code are unchanged (`kb_version`), so every command can call `ensure_kb`.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from functools import lru_cache, partial
from pathlib import Path

from pipeline.codehash import code_hash
from pipeline.config import DATA_DIR, Settings
from pipeline.entities import kb, kb_builder, kb_sources
from pipeline.entities.kb import CURATED, INPUTS, KnowledgeBase
from pipeline.entities.kb_builder import KBBuilder
from pipeline.entities.kb_sources import (load_brands, load_classes, load_common_words, load_ctd, load_doid,
                                          load_drugbank, load_drugcentral, load_families, load_gtopdb_ligands,
                                          load_hgnc, load_hpo, load_mesh, load_sider, load_species, load_synonyms)


def kb_version(shared: Path) -> str:
    """Hash of the inputs' contents, the curated tables and the KB code (pipeline.entities.kb,
    this module, kb_builder and kb_sources; see pipeline.codehash). Contents, not modification
    times: the same vocabularies copied to another machine give the same KB, models and keys."""
    digest = hashlib.sha256(code_hash(kb, sys.modules[__name__], kb_builder, kb_sources).encode())
    for rel in sorted(INPUTS.values()):
        st = (shared / rel).stat()
        digest.update(f"{rel}:{_file_digest(shared / rel, st.st_size, st.st_mtime_ns)}".encode())
    for name in CURATED:
        digest.update((DATA_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=64)
def _file_digest(path: Path, size: int, mtime_ns: int) -> str:
    """A file's SHA-256, read once per process for as long as its size and mtime stay."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_kb(shared: Path, path: Path, progress: bool = True) -> Path:
    """Build the KB at `path` from `shared` unless a build of the same inputs is already there."""
    shared, path = Path(shared), Path(path)
    version = kb_version(shared)
    if path.exists() and _stored_version(path) == version:
        return path
    builder = KBBuilder(shared)
    steps: list[tuple[str, Callable[[], None]]] = [
        ("English word counts", partial(load_common_words, builder)),
        ("HGNC genes", partial(load_hgnc, builder)),
        ("DrugBank drugs", partial(load_drugbank, builder)),
        ("DrugCentral cross-ids", partial(load_drugcentral, builder)),
        ("GtoPdb ligands", partial(load_gtopdb_ligands, builder)),
        ("MeSH descriptors", partial(load_mesh, builder)),
        ("CTD diseases", partial(load_ctd, builder)),
        ("Disease Ontology", partial(load_doid, builder)),
        ("HPO phenotypes", partial(load_hpo, builder)),
        ("SIDER side effects", partial(load_sider, builder)),
        ("species", partial(load_species, builder)),
        ("target families", partial(load_families, builder)),
        ("drug classes", partial(load_classes, builder)),
        ("curated synonyms", partial(load_synonyms, builder)),
        ("Drugs@FDA brands", partial(load_brands, builder)),
        ("derived names", builder.derive_names),
        ("pruning chemical names", builder.prune_chemical_names),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    steps.append((f"writing {path.name}", lambda: builder.write(tmp, version)))
    try:
        for step in _with_progress(steps, progress):
            step()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _with_progress(steps: list[tuple[str, Callable[[], None]]], progress: bool) -> Iterator[Callable[[], None]]:
    """The steps' functions, with a rich progress bar naming the running one when `progress`."""
    if not progress:
        yield from (step for _, step in steps)
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]KB[/] {task.description}"), BarColumn(), TimeElapsedColumn()) as bar:
        task = bar.add_task("", total=len(steps))
        for label, step in steps:
            bar.update(task, description=label)
            yield step
            bar.advance(task)


def ensure_kb(settings: Settings) -> KnowledgeBase:
    """The KB at settings.kb_path, (re)built first if missing or stale."""
    return KnowledgeBase.open(build_kb(settings.shared, settings.kb_path, progress=sys.stderr.isatty()))


def _stored_version(path: Path) -> str | None:
    try:
        conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key='version'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None
