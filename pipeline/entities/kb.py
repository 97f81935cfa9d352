"""litmine's knowledge base: the shared vocabularies folded into one SQLite file.

Why one artifact: the tagger, the relation extractor and the claim checker must
resolve a name ("Kir4.1", "ZOLOFT", "SSRIs") to the same id, and must agree that
the SSRI class contains sertraline and that HTR2B is a 5-HT2 receptor. Building
it once from ``shared/vocab`` (about 10 s on two cores, 55 MB) and opening it
read-only (milliseconds) keeps every stage consistent; the build is skipped while
the inputs, the curated tables in ``pipeline/data`` and this file are unchanged.

Ids: genes ``HGNC:6264``; drugs ``DrugBank:DB01104`` (``GtoPdb:<ligand id>`` or
``MESH:D...`` when DrugBank lacks them); diseases and phenotypes ``MESH:D...``
(``MESH:C...``, ``OMIM:...``, ``DOID:...``, ``HP:...`` when MeSH lacks them; the
other vocabularies' ids of a merged concept are in its xrefs); drug classes
``CLASS:SSRI``; target families ``FAMILY:<slug>``; species ``NCBITaxon:<n>``.
"""
from __future__ import annotations

import html
import json
import re
import sqlite3
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CURATED = ("drug_classes.tsv", "families.tsv", "species.tsv", "synonyms.tsv")

# shared/ files the KB is built from (their sizes and mtimes are part of its version)
INPUTS = {
    "hgnc": "vocab/hgnc/hgnc_complete_set.txt.gz",
    "drugbank": "vocab/drugbank/drugbank_vocabulary.csv",
    "drugcentral": "vocab/drugcentral/olegursu_identifiers.tsv",
    "gtopdb_ligands": "vocab/gtopdb/2019-5_ligands.csv",
    "gtopdb_targets": "vocab/gtopdb/2020-5_targets_and_families.csv",
    "mesh": "vocab/mesh/tree-numbers.tsv",
    "ctd": "vocab/ctd_diseases/CTD_diseases.tsv.gz",
    "doid": "vocab/doid/doid.obo.gz",
    "hpo": "vocab/hpo/hp.obo.gz",
    "sider": "vocab/sider/side-effect-terms.tsv",
    "fda": "vocab/drugsatfda/Products.txt",
    "english": "treebanks/ud_english_ewt/en_ewt-ud-train.conllu",
}

# Kinds of names, best first: lookup() and the tagger prefer the concept a better kind names.
# Gene aliases and previous symbols rank below other vocabularies' synonyms because they
# are the names most often shared with an unrelated abbreviation.
KIND_RANK = {
    "curated": 0, "symbol": 1, "name": 1, "class": 2, "family": 2, "brand": 2, "target": 2,
    "synonym": 3, "alias_name": 3, "derived": 4, "alias_symbol": 5, "prev_symbol": 6,
}

# MeSH tree branches whose descriptors are chemicals in litmine's sense (no enzymes,
# receptors or other proteins, D08.811/D12.776; no pharmaceutical preparations such as
# placebos, D26; no pharmacological actions, D27).
MESH_CHEMICAL_TREES = ("D01", "D02", "D03", "D04", "D05", "D06", "D08.211", "D09", "D10",
                       "D12.125", "D13", "D20", "D25")
MESH_NOT_CHEMICAL_TREES = ("D13.444",)  # nucleic acids (DNA, RNA): molecules, not chemicals
HPO_PHENOTYPE_ROOT = "HP:0000118"
# Salt and hydrate words stripped from Drugs@FDA ingredients ("SERTRALINE HYDROCHLORIDE").
SALT_WORDS = frozenset("""hydrochloride hcl dihydrochloride hydrobromide hydroiodide sodium
    disodium potassium calcium magnesium lithium zinc maleate mesylate mesilate besylate
    tartrate bitartrate citrate succinate fumarate sulfate sulphate phosphate acetate lactate
    gluconate bromide chloride tosylate oxalate hyclate monohydrate dihydrate trihydrate
    hemihydrate sesquihydrate anhydrous dipropionate propionate valerate pamoate napsylate
    stearate estolate ethylsuccinate decanoate enanthate cypionate nitrate tromethamine
    meglumine hemifumarate hemisulfate malate benzoate salicylate edisylate lauryl""".split())
COMMON_WORD_MIN_COUNT = 5  # lower-case occurrences in UD English EWT that make a word "common"

HTML_TAG = re.compile(r"<[^>]+>")
_POSSESSIVE = re.compile(r"['\u2019]s\b")
_NOT_KEY = re.compile(r"[^0-9A-Za-z+]+")
_GREEK = str.maketrans({
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu",
    "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi",
    "χ": "chi", "ψ": "psi", "ω": "omega", "Δ": "delta", "Ω": "omega", "Γ": "gamma",
    "±": "+-",
})


def fold_name(text: str) -> str:
    """The case-preserving key of a name: markup, accents, spaces and punctuation removed.

    Dropping every separator makes "5-HT2B", "5-HT 2B" and "5HT2B" one key, "Ca2+"
    and "Ca(2+)" another ("+" is kept: "Na+" is not "Na"). The tagger compares these
    keys where case matters (gene symbols, acronyms).
    """
    if "<" in text or "&" in text:
        text = html.unescape(HTML_TAG.sub("", text))
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).translate(_GREEK))
    return _NOT_KEY.sub("", _POSSESSIVE.sub("", text))


def normalize_name(text: str) -> str:
    """The one normalization used for building the name table and for lookups."""
    return fold_name(text).lower()


def singular_forms(norm: str) -> list[str]:
    """Keys a plural key may stand for, most likely first: "ssris" -> "ssri", "neuropathies" -> "neuropathy"."""
    if len(norm) < 4 or not norm.endswith("s") or norm.endswith("ss"):
        return []
    forms = [norm[:-1]]
    if norm.endswith("es"):
        forms.append(norm[:-2])
    if norm.endswith("ies"):
        forms.append(norm[:-3] + "y")
    return forms


@dataclass(frozen=True)
class Concept:
    id: str
    type: str  # Chemical | Gene | Disease | Species
    name: str
    xrefs: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class NameEntry:
    """One row of the name table, as the tagger consumes it."""

    norm: str
    concept_id: str
    type: str
    source: str  # the vocabulary: hgnc, drugbank, gtopdb, mesh, ctd, doid, hpo, ...
    kind: str  # symbol, alias_symbol, prev_symbol, name, synonym, brand, ... (KIND_RANK)
    name: str  # the name as the vocabulary writes it
    common: bool  # its lower-case form is a common English word
    preferred: bool  # it is the concept's canonical name


class KnowledgeBase:
    """Read-only access to a built KB file; lookups are single indexed queries."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self._conn = conn
        self.path = path
        self.version: str = conn.execute("SELECT value FROM meta WHERE key='version'").fetchone()[0]
        self._lookups: dict[str, list[Concept]] = {}
        self._parents: dict[str, set[str]] | None = None
        self._children: dict[str, set[str]] | None = None

    @classmethod
    def open(cls, path: Path) -> KnowledgeBase:
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True, check_same_thread=False)
        return cls(conn, Path(path))

    def close(self) -> None:
        self._conn.close()

    def lookup(self, name: str) -> list[Concept]:
        """Concepts with this exact normalized name (else its singular: "SSRIs"), best-named first."""
        norm = normalize_name(name)
        if norm not in self._lookups:
            found: list[Concept] = []
            for key in (norm, *singular_forms(norm)):
                rows = self._conn.execute(
                    "SELECT c.id, c.type, c.name, c.xrefs, n.kind FROM names n "
                    "JOIN concepts c ON c.id = n.concept_id WHERE n.norm = ?", (key,)).fetchall()
                if rows:
                    rows.sort(key=lambda r: (KIND_RANK[r[4]], normalize_name(r[2]) != key, vocabulary_rank(r[0]), r[0]))
                    found = [Concept(r[0], r[1], r[2], json.loads(r[3])) for r in rows]
                    break
            self._lookups[norm] = found
        return list(self._lookups[norm])

    def concept(self, concept_id: str) -> Concept | None:
        row = self._conn.execute("SELECT id, type, name, xrefs FROM concepts WHERE id = ?", (concept_id,)).fetchone()
        return Concept(row[0], row[1], row[2], json.loads(row[3])) if row else None

    def members(self, concept_id: str) -> set[str]:
        """Everything a class or family contains, transitively (nested classes included);
        a plain concept is its own only member."""
        children = self._graph()[1]
        if concept_id not in children:
            return {concept_id}
        return closure(concept_id, children)

    def parents(self, concept_id: str) -> set[str]:
        """The classes and families that contain this concept, transitively."""
        return closure(concept_id, self._graph()[0])

    def expand(self, concept_id: str) -> set[str]:
        """The id, its members and the classes/families containing it, so that a claim
        about SSRIs meets evidence about sertraline, and 5-HT2 receptors meet HTR2B."""
        return {concept_id} | self.members(concept_id) | self.parents(concept_id)

    def synonyms(self, concept_id: str) -> list[str]:
        rows = self._conn.execute("SELECT name, kind FROM names WHERE concept_id = ?", (concept_id,)).fetchall()
        return [name for name, _ in sorted(rows, key=lambda r: (KIND_RANK[r[1]], r[0].lower()))]

    def norms(self) -> set[str]:
        """Every normalized name, so a tagger can skip the (many) n-grams that name nothing
        without a query: faster to load than the whole table and as fast to tag with."""
        return {row[0] for row in self._conn.execute("SELECT DISTINCT norm FROM names")}

    def entries(self, norm: str | None = None) -> Iterator[NameEntry]:
        """Rows of the name table with their concepts' types: those of one normalized name, or all."""
        query = ("SELECT n.norm, n.concept_id, c.type, n.source, n.kind, n.name, n.common, c.name "
                 "FROM names n JOIN concepts c ON c.id = n.concept_id")
        rows = self._conn.execute(query, ()) if norm is None else self._conn.execute(query + " WHERE n.norm = ?", (norm,))
        for row in rows:
            yield NameEntry(row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]),
                            normalize_name(row[7]) == row[0])

    def _graph(self) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        if self._parents is None or self._children is None:
            parents: dict[str, set[str]] = defaultdict(set)
            children: dict[str, set[str]] = defaultdict(set)
            for parent, child in self._conn.execute("SELECT parent, child FROM members"):
                parents[child].add(parent)
                children[parent].add(child)
            self._parents, self._children = dict(parents), dict(children)
        return self._parents, self._children


def closure(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(edges.get(start, ()))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(edges.get(node, ()))
    seen.discard(start)
    return seen


def vocabulary_rank(concept_id: str) -> int:
    """Tie-break between equally named concepts: the vocabularies litmine's corpora use first."""
    for rank, prefix in enumerate(("HGNC:", "DrugBank:", "MESH:D", "CLASS:", "FAMILY:", "MESH:C", "HP:", "DOID:")):
        if concept_id.startswith(prefix):
            return rank
    return 9
