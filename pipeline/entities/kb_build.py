"""Building litmine's knowledge base (pipeline.entities.kb) from the shared vocabularies.

The build is skipped while the inputs, the curated tables in ``pipeline/data`` and the KB
code are unchanged (`kb_version`), so every command can call `ensure_kb`.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import html
import json
import os
import re
import sqlite3
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from pipeline.codehash import code_hash
from pipeline.config import DATA_DIR, Settings
from pipeline.entities import kb
from pipeline.entities.kb import (COMMON_WORD_MIN_COUNT, CURATED, HPO_PHENOTYPE_ROOT, HTML_TAG, INPUTS, KIND_RANK,
                                  MESH_CHEMICAL_TREES, MESH_NOT_CHEMICAL_TREES, SALT_WORDS, KnowledgeBase, closure,
                                  normalize_name, vocabulary_rank)


def kb_version(shared: Path) -> str:
    """Hash of the inputs' sizes and mtimes, the curated tables and the KB code (pipeline.entities.kb and
    this module, see pipeline.codehash)."""
    digest = hashlib.sha256(code_hash(kb, sys.modules[__name__]).encode())
    for rel in sorted(INPUTS.values()):
        st = (shared / rel).stat()
        digest.update(f"{rel}:{st.st_size}:{st.st_mtime_ns}".encode())
    for name in CURATED:
        digest.update((DATA_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def build_kb(shared: Path, path: Path, progress: bool = True) -> Path:
    """Build the KB at `path` from `shared` unless a build of the same inputs is already there."""
    shared, path = Path(shared), Path(path)
    version = kb_version(shared)
    if path.exists() and _stored_version(path) == version:
        return path
    builder = _Builder(shared)
    steps: list[tuple[str, Callable[[], None]]] = [
        ("English word counts", builder.load_common_words),
        ("HGNC genes", builder.load_hgnc),
        ("DrugBank drugs", builder.load_drugbank),
        ("DrugCentral cross-ids", builder.load_drugcentral),
        ("GtoPdb ligands", builder.load_gtopdb_ligands),
        ("MeSH descriptors", builder.load_mesh),
        ("CTD diseases", builder.load_ctd),
        ("Disease Ontology", builder.load_doid),
        ("HPO phenotypes", builder.load_hpo),
        ("SIDER side effects", builder.load_sider),
        ("species", builder.load_species),
        ("target families", builder.load_families),
        ("drug classes", builder.load_classes),
        ("curated synonyms", builder.load_synonyms),
        ("Drugs@FDA brands", builder.load_brands),
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


def _split(value: str | None, sep: str = "|") -> list[str]:
    return [v.strip() for v in (value or "").split(sep) if v.strip()]


def _uninvert(name: str) -> str | None:
    """MeSH's "Sexual Dysfunction, Physiological" as prose writes it: "Physiological Sexual Dysfunction"."""
    if name.count(", ") != 1 or "(" in name:
        return None
    head, qualifier = name.split(", ")
    if not qualifier[:1].isalpha() or len(qualifier.split()) > 3:
        return None
    return f"{qualifier} {head}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", html.unescape(HTML_TAG.sub("", text)).lower()).strip("-")


def _read_tsv(path: Path) -> Iterator[dict[str, str]]:
    """Rows of a curated table (comment lines start with '#')."""
    with path.open(encoding="utf-8") as f:
        yield from csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t")


def _obo_terms(path: Path) -> Iterator[dict[str, list[str]]]:
    """[Term] stanzas of an OBO file as tag -> values."""
    term: dict[str, list[str]] | None = None
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("["):
                if term is not None:
                    yield term
                term = defaultdict(list) if line == "[Term]" else None
            elif term is not None and ": " in line:
                tag, value = line.split(": ", 1)
                term[tag].append(value)
    if term is not None:
        yield term


_EXACT_SYNONYM = re.compile(r'^"((?:[^"\\]|\\.)*)" EXACT')


class _Builder:
    """Accumulates concepts, names and memberships in memory, then writes them in bulk."""

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
        return self.shared / INPUTS[key]

    # -- primitives

    def concept(self, cid: str, type_: str, label: str) -> str:
        if cid not in self.types:
            self.types[cid] = type_
            self.labels[cid] = html.unescape(HTML_TAG.sub("", label)).strip()
        return cid

    def xref(self, cid: str, db: str, value: str) -> None:
        value = value.strip()
        if not value:
            return
        if value not in self.xrefs[cid][db]:
            self.xrefs[cid][db].append(value)
        self.by_xref.setdefault((db, value), cid)

    def name(self, cid: str, text: str, source: str, kind: str) -> None:
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

    # -- sources

    def load_common_words(self) -> None:
        counts: Counter[str] = Counter()
        with self.file("english").open(encoding="utf-8") as f:
            for line in f:
                if line[:1].isdigit():
                    form = line.split("\t", 2)[1]
                    if form.isalpha() and form.islower():
                        counts[form] += 1
        self.common = {w for w, n in counts.items() if n >= COMMON_WORD_MIN_COUNT}

    def load_hgnc(self) -> None:
        with gzip.open(self.file("hgnc"), "rt", encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                if row["locus_group"] == "pseudogene":
                    continue
                cid = self.concept(row["hgnc_id"], "Gene", row["symbol"])
                self.xref(cid, "HGNC", row["hgnc_id"].split(":")[1])
                for db, column in (("NCBIGene", "entrez_id"), ("Ensembl", "ensembl_gene_id"),
                                   ("UniProt", "uniprot_ids"), ("OMIM", "omim_id")):
                    for value in _split(row[column]):
                        self.xref(cid, db, value)
                self.name(cid, row["symbol"], "hgnc", "symbol")
                self.name(cid, row["name"], "hgnc", "name")
                if row["locus_group"] != "protein-coding gene":
                    continue
                self.coding_symbols[row["symbol"]] = cid
                for group in _split(row["gene_group_id"]):
                    self.gene_groups[group].add(cid)
                for alias in _split(row["alias_symbol"]):
                    self.name(cid, alias, "hgnc", "alias_symbol")
                for prev in _split(row["prev_symbol"]):
                    self.name(cid, prev, "hgnc", "prev_symbol")
                for alias in _split(row["alias_name"]):
                    self.name(cid, alias, "hgnc", "alias_name")

    def load_drugbank(self) -> None:
        with self.file("drugbank").open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                dbid = row["DrugBank ID"]
                cid = self.concept(f"DrugBank:{dbid}", "Chemical", row["Common name"])
                self.xref(cid, "DrugBank", dbid)
                for db, column in (("CAS", "CAS"), ("UNII", "UNII"), ("InChIKey", "Standard InChI Key")):
                    self.xref(cid, db, row[column])
                self.name(cid, row["Common name"], "drugbank", "name")
                for synonym in _split(row["Synonyms"], " | "):
                    self.name(cid, synonym, "drugbank", "synonym")

    def load_drugcentral(self) -> None:
        """DrugCentral's cross-ids (ChEMBL, MeSH, UNII, GtoPdb, ...) hung on DrugBank concepts."""
        wanted = {"DRUGBANK_ID": "DrugBank", "ChEMBL_ID": "ChEMBL", "MESH_DESCRIPTOR_UI": "MESH",
                  "MESH_SUPPLEMENTAL_RECORD_UI": "MESH", "UNII": "UNII", "PUBCHEM_CID": "PubChem",
                  "IUPHAR_LIGAND_ID": "GtoPdb", "RXNORM": "RxNorm", "CHEBI": "ChEBI", "KEGG_DRUG": "KEGG"}
        drugs: dict[str, list[tuple[str, str]]] = defaultdict(list)
        names: dict[str, str] = {}
        with self.file("drugcentral").open(encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                if row["ID_TYPE"] in wanted:
                    drugs[row["DRUG_ID"]].append((wanted[row["ID_TYPE"]], row["IDENTIFIER"]))
                    names[row["DRUG_ID"]] = row["DRUG_NAME"]
        for drug_id, ids in drugs.items():
            cid = next((f"DrugBank:{v}" for db, v in ids if db == "DrugBank" and f"DrugBank:{v}" in self.types), None)
            if cid is None:
                continue
            self.xref(cid, "DrugCentral", drug_id)
            for db, value in ids:
                if db != "DrugBank":
                    self.xref(cid, db, value)
            self.name(cid, names[drug_id], "drugcentral", "synonym")  # the INN may name a salt

    def load_gtopdb_ligands(self) -> None:
        with self.file("gtopdb_ligands").open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                lid = row["Ligand id"]
                cid = (self.by_xref.get(("GtoPdb", lid)) or self.by_xref.get(("InChIKey", row["InChIKey"]))
                       or self._unique_drugbank(row["Name"]) or self._unique_drugbank(row["INN"]))
                if cid is None:
                    if row["Type"] in ("Peptide", "Antibody"):
                        continue  # gene products; HGNC names them
                    cid = self.concept(f"GtoPdb:{lid}", "Chemical", row["Name"])
                    self.xref(cid, "PubChem", row["PubChem CID"])
                    self.xref(cid, "InChIKey", row["InChIKey"])
                self.xref(cid, "GtoPdb", lid)
                kind = "name" if cid.startswith("GtoPdb:") else "synonym"  # DrugBank names merged drugs
                self.name(cid, row["Name"], "gtopdb", kind)
                self.name(cid, row["INN"], "gtopdb", kind)
                for synonym in _split(row["Synonyms"]):
                    self.name(cid, synonym, "gtopdb", "synonym")

    def _unique_drugbank(self, text: str) -> str | None:
        """The one DrugBank drug whose main name this is (DrugBank's synonyms are too loose:
        ketamine lists "NMDA")."""
        norm = normalize_name(text)
        found = [c for c in self.by_norm.get(norm, ()) if c.startswith("DrugBank:") and self.names[(norm, c)][1] == "name"]
        return found[0] if len(found) == 1 else None

    def load_mesh(self) -> None:
        trees: dict[str, list[str]] = defaultdict(list)
        labels: dict[str, str] = {}
        with self.file("mesh").open(encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                trees[row["mesh_id"]].append(row["mesh_tree_number"])
                labels[row["mesh_id"]] = row["mesh_name"]
        for mesh_id, numbers in trees.items():
            label = labels[mesh_id]
            if any(n.startswith("C") or n.startswith("F03") for n in numbers):
                cid = self.concept(f"MESH:{mesh_id}", "Disease", label)
            elif any(n.startswith(MESH_CHEMICAL_TREES) and not n.startswith(MESH_NOT_CHEMICAL_TREES) for n in numbers):
                cid = (self.by_xref.get(("MESH", mesh_id)) or self._unique_drugbank(label)
                       or self.concept(f"MESH:{mesh_id}", "Chemical", label))
            else:
                continue
            self.xref(cid, "MESH", mesh_id)
            self.name(cid, label, "mesh", "name")
            uninverted = _uninvert(label)
            if uninverted:
                self.name(cid, uninverted, "mesh", "derived")
            # MeSH names classes in the plural ("Catecholamines", "Seizures"); prose also uses
            # the singular, except for the broadest chemical classes ("Hormones", "Steroids")
            if self.types[cid] == "Disease" or min(n.count(".") for n in numbers) >= 2:
                self.plurals.extend((cid, form) for form in (label, uninverted or "")
                                    if "," not in form and re.search(r"[a-z]{3}[^su]s$", form))

    def load_ctd(self) -> None:
        with gzip.open(self.file("ctd"), "rt", encoding="utf-8") as f:
            for line in f:
                if line.startswith("#"):
                    continue
                cols = line.rstrip("\n").split("\t")
                label, disease_id, alt_ids, synonyms = cols[0], cols[1], cols[2], cols[7]
                cid = self.concept(disease_id, "Disease", label)
                db, value = disease_id.split(":", 1)
                self.xref(cid, db, value)
                for alt in _split(alt_ids):
                    db, value = alt.split(":", 1)
                    if db == "DO":
                        self.xref(cid, "DOID", value.split(":", 1)[1])
                        self.by_xref.setdefault(("DOID-id", value), cid)
                    else:
                        self.xref(cid, db, value)
                self.name(cid, label, "ctd", "name")
                for synonym in _split(synonyms):
                    self.name(cid, synonym, "ctd", "synonym")
                for text in [label, *_split(synonyms)]:
                    uninverted = _uninvert(text)
                    if uninverted:
                        self.name(cid, uninverted, "ctd", "derived")

    def _load_obo(self, key: str, source: str, root: str | None = None) -> None:
        terms = [t for t in _obo_terms(self.file(key)) if t.get("id") and "true" not in t.get("is_obsolete", [])]
        keep: set[str] | None = None
        if root is not None:
            children: dict[str, set[str]] = defaultdict(set)
            for term in terms:
                for parent in term.get("is_a", []):
                    children[parent.split(" ! ")[0].strip()].add(term["id"][0])
            keep = closure(root, children)
        for term in terms:
            tid = term["id"][0]
            if keep is not None and tid not in keep:
                continue
            xrefs = [x.split(" ")[0] for x in term.get("xref", [])]
            mesh = [x.split(":", 1)[1] for x in xrefs if x.split(":", 1)[0] in ("MESH", "MSH")]
            cid = self.by_xref.get(("DOID-id", tid)) or next(
                (f"MESH:{m}" for m in mesh if f"MESH:{m}" in self.types), None)
            cid = cid or self.concept(tid, "Disease", term["name"][0])
            self.xref(cid, tid.split(":")[0], tid.split(":")[1])
            for x in xrefs:
                db, _, value = x.partition(":")
                if db.startswith("UMLS"):
                    self.xref(cid, "UMLS", value)
                elif db in ("OMIM", "ORDO", "ICD10CM"):
                    self.xref(cid, db, value)
            self.name(cid, term["name"][0], source, "name")
            for synonym in term.get("synonym", []):
                match = _EXACT_SYNONYM.match(synonym)
                if match:
                    self.name(cid, match.group(1).replace('\\"', '"'), source, "synonym")

    def load_doid(self) -> None:
        self._load_obo("doid", "doid")

    def load_hpo(self) -> None:
        self._load_obo("hpo", "hpo", root=HPO_PHENOTYPE_ROOT)

    def load_sider(self) -> None:
        """SIDER's MedDRA terms ("Blunted affect") as names of the HPO/DOID concepts sharing their UMLS id."""
        with self.file("sider").open(encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                cid = self.by_xref.get(("UMLS", row["umls_cui_from_meddra"]))
                if cid is not None:
                    self.name(cid, row["side_effect_name"], "sider", "synonym")

    def load_species(self) -> None:
        for row in _read_tsv(DATA_DIR / "species.tsv"):
            cid = self.concept(row["id"], "Species", row["name"])
            self.xref(cid, "NCBITaxon", row["id"].split(":")[1])
            self.xref(cid, "MESH", row["mesh"])
            self.name(cid, row["name"], "curated", "name")
            for synonym in _split(row["synonyms"]):
                self.name(cid, synonym, "curated", "curated")

    def load_families(self) -> None:
        """GtoPdb families (merged into the curated rows that claim them) and the curated families."""
        families: dict[str, tuple[str, set[str]]] = {}
        target_names: dict[str, set[tuple[str, str]]] = defaultdict(set)  # norm -> {(gene, name)}
        with self.file("gtopdb_targets").open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                genes = {f"HGNC:{n}" for n in _split(row["HGNC id"])} & self.types.keys()
                families.setdefault(row["Family id"], (row["Family name"], set()))[1].update(genes)
                if len(genes) == 1:
                    gene = next(iter(genes))
                    self.name(gene, row["Target name"], "gtopdb", "target")
                    for text in [row["Target abbreviated name"], *_split(row["synonyms"])]:
                        plain = html.unescape(HTML_TAG.sub("", text or "")).strip()
                        target_names[normalize_name(plain)].add((gene, plain))
        for norm, named in target_names.items():
            # a synonym several targets share is a family word ("cytochrome P450", "zinc finger")
            if len({gene for gene, _ in named}) == 1:
                gene, plain = min(named)
                symbol_like = " " not in plain and len(plain) <= 12 and any(c.isupper() or c.isdigit() for c in plain)
                self.name(gene, plain, "gtopdb", "alias_symbol" if symbol_like else "synonym")
        curated = list(_read_tsv(DATA_DIR / "families.tsv"))
        claimed = {t.split(":")[1] for row in curated for t in row["members"].split() if t.startswith("gtopdb:")}
        for fid, (label, genes) in families.items():
            if fid in claimed or len(genes) < 2:
                continue
            cid = self.concept(f"FAMILY:{_slug(label)}", "Gene", label)
            self.xref(cid, "GtoPdb_family", fid)
            self.name(cid, label, "gtopdb", "family")
            self.members.update((cid, g) for g in genes)
        for row in curated:
            cid = self.concept(row["id"], "Gene", row["name"])
            self.name(cid, row["name"], "curated", "family")
            for synonym in _split(row["synonyms"]):
                self.name(cid, synonym, "curated", "family")
            for token in row["members"].split():
                kind, _, value = token.partition(":")
                if kind == "gtopdb":
                    label, genes = families[value]
                    self.xref(cid, "GtoPdb_family", value)
                    self.name(cid, label, "gtopdb", "family")
                    self.members.update((cid, g) for g in genes)
                elif kind == "hgnc_group":
                    self.members.update((cid, g) for g in self.gene_groups[value])
                elif kind == "symbols":
                    pattern = re.compile(value)
                    self.members.update((cid, g) for s, g in self.coding_symbols.items() if pattern.fullmatch(s))
                elif kind == "FAMILY":
                    self.members.add((cid, token))
                else:
                    raise ValueError(f"families.tsv: unknown member {token!r} in {row['id']}")

    def load_classes(self) -> None:
        for row in _read_tsv(DATA_DIR / "drug_classes.tsv"):
            cid = self.concept(row["id"], "Chemical", row["name"])
            for token in row["xrefs"].split():
                db, _, value = token.partition(":")
                self.xref(cid, db, value)
            self.name(cid, row["name"], "curated", "class")
            for synonym in _split(row["synonyms"]):
                self.name(cid, synonym, "curated", "class")
            for parent in row["parents"].split():
                self.members.add((parent, cid))
            for drug in _split(row["members"]):
                member = self.resolve(drug, "Chemical")
                if member is None:
                    raise ValueError(f"drug_classes.tsv: {drug!r} ({row['id']}) is in no drug vocabulary")
                self.members.add((cid, member))

    def load_synonyms(self) -> None:
        for row in _read_tsv(DATA_DIR / "synonyms.tsv"):
            if row["id"] not in self.types:
                raise ValueError(f"synonyms.tsv: {row['id']} is not a concept")
            self.name(row["id"], row["name"], "curated", "curated")

    def load_brands(self) -> None:
        """Drugs@FDA brand names of single-ingredient products ("ZOLOFT" -> sertraline)."""
        brands: dict[str, set[str]] = defaultdict(set)
        labels: dict[str, str] = {}
        with self.file("fda").open(encoding="latin-1") as f:
            for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                brand, ingredient = row["DrugName"].strip(), row["ActiveIngredient"].strip()
                if ";" in ingredient or normalize_name(brand) == normalize_name(ingredient):
                    continue
                cid = self._ingredient(ingredient)
                if cid is not None:
                    brands[normalize_name(brand)].add(cid)
                    labels[normalize_name(brand)] = brand
        for norm, cids in brands.items():
            # a brand already naming a chemical ("LITHIUM") or several ingredients is no brand name
            if len(cids) == 1 and not any(self.types[c] == "Chemical" for c in self.by_norm.get(norm, ())):
                self.name(next(iter(cids)), labels[norm], "fda", "brand")

    def _ingredient(self, text: str) -> str | None:
        words = re.sub(r"\(.*?\)", " ", text).lower().split()
        while words:
            cid = self.resolve(" ".join(words), "Chemical")
            if cid is not None:
                return cid
            if words[-1] not in SALT_WORDS:
                return None
            words.pop()
        return None

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
