"""The knowledge base while it is built: concepts, names and memberships held in memory, the
names derived once every source is in (pipeline.entities.kb_sources loads them), and the
SQLite file pipeline.entities.kb reads, written in bulk."""
from __future__ import annotations

import html
import json
import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from pipeline.entities.kb import HTML_TAG, INPUTS, KIND_RANK, normalize_name, vocabulary_rank


class KBBuilder:
    """Accumulates concepts, names and memberships in memory, then writes them in bulk.

    Besides the KB's tables it holds what one source leaves for a later one: HGNC's gene
    groups and protein-coding symbols (for the families), the common English words (for
    pruning) and MeSH's plural names (for the derived singulars)."""

    def __init__(self, shared: Path):
        self.shared = shared
        self.types: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        self.xrefs: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.names: dict[tuple[str, str], tuple[str, str, str]] = {}  # (norm, id) -> (source, kind, name)
        self.by_norm: dict[str, set[str]] = defaultdict(set)
        self.by_xref: dict[tuple[str, str], str] = {}  # (db, value) -> concept id, for merging vocabularies
        self.members: set[tuple[str, str]] = set()
        self.gene_groups: dict[str, set[str]] = defaultdict(set)
        self.coding_symbols: dict[str, str] = {}  # approved symbol -> HGNC id (protein-coding genes)
        self.common: set[str] = set()
        self.plurals: list[tuple[str, str]] = []  # (concept, plural MeSH name) for derive_names

    def file(self, key: str) -> Path:
        """The shared input `key` names (pipeline.entities.kb.INPUTS)."""
        return self.shared / INPUTS[key]

    # -- primitives

    def concept(self, cid: str, type_: str, label: str) -> str:
        """`cid`, added as a concept of `type_` and `label` unless it is one already."""
        if cid not in self.types:
            self.types[cid] = type_
            self.labels[cid] = html.unescape(HTML_TAG.sub("", label)).strip()
        return cid

    def xref(self, cid: str, db: str, value: str) -> None:
        """Give `cid` the id `value` in `db`; the first concept with an id is the one `by_xref` finds."""
        value = value.strip()
        if not value:
            return
        if value not in self.xrefs[cid][db]:
            self.xrefs[cid][db].append(value)
        self.by_xref.setdefault((db, value), cid)

    def name(self, cid: str, text: str, source: str, kind: str) -> None:
        """Name `cid` `text` (markup dropped), unless it is too short, too long, a number or has
        unbalanced parentheses; a name given twice keeps its best kind (KIND_RANK)."""
        text = html.unescape(HTML_TAG.sub("", text)).strip()
        norm = normalize_name(text)
        if len(norm) < 2 or len(norm) > 80 or norm.isdigit() or text.count("(") != text.count(")"):
            return
        key = (norm, cid)
        old = self.names.get(key)
        if old is None or KIND_RANK[kind] < KIND_RANK[old[1]]:
            self.names[key] = (source, kind, text)
        self.by_norm[norm].add(cid)

    def resolve(self, text: str, type_: str) -> str | None:
        """The concept of `type_` best named `text` (DrugBank before other chemical ids)."""
        norm = normalize_name(text)
        found = [c for c in self.by_norm.get(norm, ()) if self.types[c] == type_]
        if not found:
            return None
        return min(found, key=lambda c: (KIND_RANK[self.names[(norm, c)][1]], vocabulary_rank(c), c))

    # -- once every source is in

    def derive_names(self) -> None:
        """Names papers use that no vocabulary lists: "glutamate" for glutamic acid,
        "glucose" for D-glucose, "seizure" for MeSH's "Seizures". Added only where
        unambiguous and not already a name (the acid's anion before a MeSH singular)."""
        derived: dict[str, set[tuple[int, str, str]]] = defaultdict(set)
        for (norm, cid), (_, kind, text) in self.names.items():
            if self.types[cid] == "Chemical" and kind in ("name", "synonym"):
                for level, form in self._chemical_variants(text):
                    derived[normalize_name(form)].add((level, cid, form))
        for norm, found in derived.items():
            best = min(level for level, _, _ in found)
            cids = {cid for level, cid, _ in found if level == best}
            if len(cids) == 1 and norm not in self.by_norm:
                _, cid, form = min(f for f in found if f[0] == best)
                self.name(cid, form, "derived", "derived")
        for cid, plural in self.plurals:
            if normalize_name(plural[:-1]) not in self.by_norm:
                self.name(cid, plural[:-1], "mesh", "derived")

    @staticmethod
    def _chemical_variants(text: str) -> list[tuple[int, str]]:
        """(level, form): the anion of an acid is level 0, forms without a stereo prefix level 1."""
        forms = []
        bare = re.sub(r"^(?:\([+\-±RSrs,0-9]+\)-|[LD]L?-)", "", text)
        acid = re.fullmatch(r"(.{3,}?)ic acid", text, flags=re.IGNORECASE)
        if acid:
            forms.append((0, acid.group(1) + "ate"))
        if bare != text and len(bare) > 3:
            forms.append((1, bare))
            acid = re.fullmatch(r"(.{3,}?)ic acid", bare, flags=re.IGNORECASE)
            if acid:
                forms.append((1, acid.group(1) + "ate"))
        return forms

    def prune_chemical_names(self) -> None:
        """Leave gene names to genes: a protein drug without a structure ("Insulin human",
        MeSH "Prolactin") loses names its gene has, and no drug keeps a loose synonym that
        is a gene's symbol or name (DrugBank lists "iNOS" for nitric oxide). Structureless
        "drugs" named by an English word (DrugBank's allergen extracts "Date", "Chicken")
        lose that name."""
        gene_kinds = ("symbol", "name", "target")
        gene_norms = {norm for (norm, cid), (_, kind, _) in self.names.items()
                      if self.types[cid] == "Gene" and kind in gene_kinds}
        alias_norms = {norm for (norm, cid), (_, kind, _) in self.names.items()
                       if self.types[cid] == "Gene" and kind == "alias_symbol"}
        for (norm, cid), (_, kind, _) in list(self.names.items()):
            if self.types[cid] != "Chemical" or cid.startswith("CLASS:"):
                continue
            structureless = "InChIKey" not in self.xrefs.get(cid, {})
            if (norm in gene_norms and (structureless or kind not in ("name", "curated"))) or \
                    (structureless and (norm in alias_norms or norm in self.common)):
                del self.names[(norm, cid)]
                self.by_norm[norm].discard(cid)

    # -- writing

    def write(self, path: Path, version: str) -> None:
        """The KB as a new SQLite file at `path`, its meta table holding `version`."""
        path.unlink(missing_ok=True)
        conn = sqlite3.connect(path)
        try:
            conn.executescript("""
                PRAGMA journal_mode = OFF;
                PRAGMA synchronous = OFF;
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE concepts (id TEXT PRIMARY KEY, type TEXT NOT NULL, name TEXT NOT NULL,
                                       xrefs TEXT NOT NULL);
                CREATE TABLE names (norm TEXT NOT NULL, concept_id TEXT NOT NULL, source TEXT NOT NULL,
                                    kind TEXT NOT NULL, name TEXT NOT NULL, common INTEGER NOT NULL);
                CREATE TABLE members (parent TEXT NOT NULL, child TEXT NOT NULL, PRIMARY KEY (parent, child))
                    WITHOUT ROWID;
            """)
            conn.executemany("INSERT INTO concepts VALUES (?, ?, ?, ?)", self._concept_rows())
            conn.executemany("INSERT INTO names VALUES (?, ?, ?, ?, ?, ?)",
                             ((norm, cid, source, kind, text, int(norm in self.common))
                              for (norm, cid), (source, kind, text) in self.names.items()))
            conn.executemany("INSERT INTO members VALUES (?, ?)",
                             ((p, c) for p, c in self.members if p in self.types and c in self.types))
            conn.executescript("""
                CREATE INDEX names_norm ON names (norm);
                CREATE INDEX names_concept ON names (concept_id);
                CREATE INDEX members_child ON members (child);
            """)
            conn.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("version", version),
                ("concepts", str(len(self.types))),
                ("names", str(len(self.names))),
            ])
            conn.commit()
        finally:
            conn.close()

    def _concept_rows(self) -> Iterable[tuple[str, str, str, str]]:
        for cid, type_ in self.types.items():
            xrefs = {db: "|".join(values) for db, values in sorted(self.xrefs[cid].items()) if values}
            yield cid, type_, self.labels[cid], json.dumps(xrefs, ensure_ascii=False)
