"""The knowledge base's sources, one loader each: a vocabulary of ../shared/vocab or a curated
table of pipeline/data read into the KBBuilder (pipeline.entities.kb_builder).

The loaders run in the order pipeline.entities.kb_build lists them, for a source merges into
the concepts earlier ones made, by shared ids or names: DrugCentral, GtoPdb and MeSH's
chemicals into DrugBank's drugs, the ontologies into MeSH's and CTD's diseases, SIDER's side
effects into those by UMLS id; and the curated families and classes name members the
vocabularies brought.
"""
from __future__ import annotations

import csv
import gzip
import html
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from pipeline.config import DATA_DIR
from pipeline.entities.kb import (COMMON_WORD_MIN_COUNT, HPO_PHENOTYPE_ROOT, HTML_TAG, MESH_CHEMICAL_TREES,
                                  MESH_NOT_CHEMICAL_TREES, SALT_WORDS, closure, normalize_name)
from pipeline.entities.kb_builder import KBBuilder

# An OBO synonym that means what the term's name means (its group: the synonym, quotes escaped).
_EXACT_SYNONYM = re.compile(r'^"((?:[^"\\]|\\.)*)" EXACT')


def load_common_words(builder: KBBuilder) -> None:
    counts: Counter[str] = Counter()
    with builder.file("english").open(encoding="utf-8") as f:
        for line in f:
            if line[:1].isdigit():
                form = line.split("\t", 2)[1]
                if form.isalpha() and form.islower():
                    counts[form] += 1
    builder.common = {w for w, n in counts.items() if n >= COMMON_WORD_MIN_COUNT}


def load_hgnc(builder: KBBuilder) -> None:
    with gzip.open(builder.file("hgnc"), "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["locus_group"] == "pseudogene":
                continue
            cid = builder.concept(row["hgnc_id"], "Gene", row["symbol"])
            builder.xref(cid, "HGNC", row["hgnc_id"].split(":")[1])
            for db, column in (("NCBIGene", "entrez_id"), ("Ensembl", "ensembl_gene_id"),
                               ("UniProt", "uniprot_ids"), ("OMIM", "omim_id")):
                for value in _split(row[column]):
                    builder.xref(cid, db, value)
            builder.name(cid, row["symbol"], "hgnc", "symbol")
            builder.name(cid, row["name"], "hgnc", "name")
            if row["locus_group"] != "protein-coding gene":
                continue
            builder.coding_symbols[row["symbol"]] = cid
            for group in _split(row["gene_group_id"]):
                builder.gene_groups[group].add(cid)
            for alias in _split(row["alias_symbol"]):
                builder.name(cid, alias, "hgnc", "alias_symbol")
            for prev in _split(row["prev_symbol"]):
                builder.name(cid, prev, "hgnc", "prev_symbol")
            for alias in _split(row["alias_name"]):
                builder.name(cid, alias, "hgnc", "alias_name")


def load_drugbank(builder: KBBuilder) -> None:
    with builder.file("drugbank").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            dbid = row["DrugBank ID"]
            cid = builder.concept(f"DrugBank:{dbid}", "Chemical", row["Common name"])
            builder.xref(cid, "DrugBank", dbid)
            for db, column in (("CAS", "CAS"), ("UNII", "UNII"), ("InChIKey", "Standard InChI Key")):
                builder.xref(cid, db, row[column])
            builder.name(cid, row["Common name"], "drugbank", "name")
            for synonym in _split(row["Synonyms"], " | "):
                builder.name(cid, synonym, "drugbank", "synonym")


def load_drugcentral(builder: KBBuilder) -> None:
    """DrugCentral's cross-ids (ChEMBL, MeSH, UNII, GtoPdb, ...) hung on DrugBank concepts."""
    wanted = {"DRUGBANK_ID": "DrugBank", "ChEMBL_ID": "ChEMBL", "MESH_DESCRIPTOR_UI": "MESH",
              "MESH_SUPPLEMENTAL_RECORD_UI": "MESH", "UNII": "UNII", "PUBCHEM_CID": "PubChem",
              "IUPHAR_LIGAND_ID": "GtoPdb", "RXNORM": "RxNorm", "CHEBI": "ChEBI", "KEGG_DRUG": "KEGG"}
    drugs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    names: dict[str, str] = {}
    with builder.file("drugcentral").open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["ID_TYPE"] in wanted:
                drugs[row["DRUG_ID"]].append((wanted[row["ID_TYPE"]], row["IDENTIFIER"]))
                names[row["DRUG_ID"]] = row["DRUG_NAME"]
    for drug_id, ids in drugs.items():
        cid = next((f"DrugBank:{v}" for db, v in ids if db == "DrugBank" and f"DrugBank:{v}" in builder.types), None)
        if cid is None:
            continue
        builder.xref(cid, "DrugCentral", drug_id)
        for db, value in ids:
            if db != "DrugBank":
                builder.xref(cid, db, value)
        builder.name(cid, names[drug_id], "drugcentral", "synonym")  # the INN may name a salt


def load_gtopdb_ligands(builder: KBBuilder) -> None:
    with builder.file("gtopdb_ligands").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            lid = row["Ligand id"]
            cid = (builder.by_xref.get(("GtoPdb", lid)) or builder.by_xref.get(("InChIKey", row["InChIKey"]))
                   or _unique_drugbank(builder, row["Name"]) or _unique_drugbank(builder, row["INN"]))
            if cid is None:
                if row["Type"] in ("Peptide", "Antibody"):
                    continue  # gene products; HGNC names them
                cid = builder.concept(f"GtoPdb:{lid}", "Chemical", row["Name"])
                builder.xref(cid, "PubChem", row["PubChem CID"])
                builder.xref(cid, "InChIKey", row["InChIKey"])
            builder.xref(cid, "GtoPdb", lid)
            kind = "name" if cid.startswith("GtoPdb:") else "synonym"  # DrugBank names merged drugs
            builder.name(cid, row["Name"], "gtopdb", kind)
            builder.name(cid, row["INN"], "gtopdb", kind)
            for synonym in _split(row["Synonyms"]):
                builder.name(cid, synonym, "gtopdb", "synonym")


def _unique_drugbank(builder: KBBuilder, text: str) -> str | None:
    """The one DrugBank drug whose main name this is (DrugBank's synonyms are too loose:
    ketamine lists "NMDA")."""
    norm = normalize_name(text)
    found = [c for c in builder.by_norm.get(norm, ())
             if c.startswith("DrugBank:") and builder.names[(norm, c)][1] == "name"]
    return found[0] if len(found) == 1 else None


def load_mesh(builder: KBBuilder) -> None:
    trees: dict[str, list[str]] = defaultdict(list)
    labels: dict[str, str] = {}
    with builder.file("mesh").open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            trees[row["mesh_id"]].append(row["mesh_tree_number"])
            labels[row["mesh_id"]] = row["mesh_name"]
    for mesh_id, numbers in trees.items():
        label = labels[mesh_id]
        if any(n.startswith("C") or n.startswith("F03") for n in numbers):
            cid = builder.concept(f"MESH:{mesh_id}", "Disease", label)
        elif any(n.startswith(MESH_CHEMICAL_TREES) and not n.startswith(MESH_NOT_CHEMICAL_TREES) for n in numbers):
            cid = (builder.by_xref.get(("MESH", mesh_id)) or _unique_drugbank(builder, label)
                   or builder.concept(f"MESH:{mesh_id}", "Chemical", label))
        else:
            continue
        builder.xref(cid, "MESH", mesh_id)
        builder.name(cid, label, "mesh", "name")
        uninverted = _uninvert(label)
        if uninverted:
            builder.name(cid, uninverted, "mesh", "derived")
        # MeSH names classes in the plural ("Catecholamines", "Seizures"); prose also uses
        # the singular, except for the broadest chemical classes ("Hormones", "Steroids")
        if builder.types[cid] == "Disease" or min(n.count(".") for n in numbers) >= 2:
            builder.plurals.extend((cid, form) for form in (label, uninverted or "")
                                   if "," not in form and re.search(r"[a-z]{3}[^su]s$", form))


def load_ctd(builder: KBBuilder) -> None:
    with gzip.open(builder.file("ctd"), "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            label, disease_id, alt_ids, synonyms = cols[0], cols[1], cols[2], cols[7]
            cid = builder.concept(disease_id, "Disease", label)
            db, value = disease_id.split(":", 1)
            builder.xref(cid, db, value)
            for alt in _split(alt_ids):
                db, value = alt.split(":", 1)
                if db == "DO":
                    builder.xref(cid, "DOID", value.split(":", 1)[1])
                    builder.by_xref.setdefault(("DOID-id", value), cid)
                else:
                    builder.xref(cid, db, value)
            builder.name(cid, label, "ctd", "name")
            for synonym in _split(synonyms):
                builder.name(cid, synonym, "ctd", "synonym")
            for text in [label, *_split(synonyms)]:
                uninverted = _uninvert(text)
                if uninverted:
                    builder.name(cid, uninverted, "ctd", "derived")


def _load_obo(builder: KBBuilder, key: str, source: str, root: str | None = None) -> None:
    terms = [t for t in _obo_terms(builder.file(key)) if t.get("id") and "true" not in t.get("is_obsolete", [])]
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
        cid = builder.by_xref.get(("DOID-id", tid)) or next(
            (f"MESH:{m}" for m in mesh if f"MESH:{m}" in builder.types), None)
        cid = cid or builder.concept(tid, "Disease", term["name"][0])
        builder.xref(cid, tid.split(":")[0], tid.split(":")[1])
        for x in xrefs:
            db, _, value = x.partition(":")
            if db.startswith("UMLS"):
                builder.xref(cid, "UMLS", value)
            elif db in ("OMIM", "ORDO", "ICD10CM"):
                builder.xref(cid, db, value)
        builder.name(cid, term["name"][0], source, "name")
        for synonym in term.get("synonym", []):
            match = _EXACT_SYNONYM.match(synonym)
            if match:
                builder.name(cid, match.group(1).replace('\\"', '"'), source, "synonym")


def load_doid(builder: KBBuilder) -> None:
    _load_obo(builder, "doid", "doid")


def load_hpo(builder: KBBuilder) -> None:
    _load_obo(builder, "hpo", "hpo", root=HPO_PHENOTYPE_ROOT)


def load_sider(builder: KBBuilder) -> None:
    """SIDER's MedDRA terms ("Blunted affect") as names of the HPO/DOID concepts sharing their UMLS id."""
    with builder.file("sider").open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            cid = builder.by_xref.get(("UMLS", row["umls_cui_from_meddra"]))
            if cid is not None:
                builder.name(cid, row["side_effect_name"], "sider", "synonym")


def load_species(builder: KBBuilder) -> None:
    for row in _read_tsv(DATA_DIR / "species.tsv"):
        cid = builder.concept(row["id"], "Species", row["name"])
        builder.xref(cid, "NCBITaxon", row["id"].split(":")[1])
        builder.xref(cid, "MESH", row["mesh"])
        builder.name(cid, row["name"], "curated", "name")
        for synonym in _split(row["synonyms"]):
            builder.name(cid, synonym, "curated", "curated")


def load_families(builder: KBBuilder) -> None:
    """GtoPdb families (merged into the curated rows that claim them) and the curated families."""
    families: dict[str, tuple[str, set[str]]] = {}
    target_names: dict[str, set[tuple[str, str]]] = defaultdict(set)  # norm -> {(gene, name)}
    with builder.file("gtopdb_targets").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            genes = {f"HGNC:{n}" for n in _split(row["HGNC id"])} & builder.types.keys()
            families.setdefault(row["Family id"], (row["Family name"], set()))[1].update(genes)
            if len(genes) == 1:
                gene = next(iter(genes))
                builder.name(gene, row["Target name"], "gtopdb", "target")
                for text in [row["Target abbreviated name"], *_split(row["synonyms"])]:
                    plain = html.unescape(HTML_TAG.sub("", text or "")).strip()
                    target_names[normalize_name(plain)].add((gene, plain))
    for norm, named in target_names.items():
        # a synonym several targets share is a family word ("cytochrome P450", "zinc finger")
        if len({gene for gene, _ in named}) == 1:
            gene, plain = min(named)
            symbol_like = " " not in plain and len(plain) <= 12 and any(c.isupper() or c.isdigit() for c in plain)
            builder.name(gene, plain, "gtopdb", "alias_symbol" if symbol_like else "synonym")
    curated = list(_read_tsv(DATA_DIR / "families.tsv"))
    claimed = {t.split(":")[1] for row in curated for t in row["members"].split() if t.startswith("gtopdb:")}
    for fid, (label, genes) in families.items():
        if fid in claimed or len(genes) < 2:
            continue
        cid = builder.concept(f"FAMILY:{_slug(label)}", "Gene", label)
        builder.xref(cid, "GtoPdb_family", fid)
        builder.name(cid, label, "gtopdb", "family")
        builder.members.update((cid, g) for g in genes)
    for row in curated:
        cid = builder.concept(row["id"], "Gene", row["name"])
        builder.name(cid, row["name"], "curated", "family")
        for synonym in _split(row["synonyms"]):
            builder.name(cid, synonym, "curated", "family")
        for token in row["members"].split():
            kind, _, value = token.partition(":")
            if kind == "gtopdb":
                label, genes = families[value]
                builder.xref(cid, "GtoPdb_family", value)
                builder.name(cid, label, "gtopdb", "family")
                builder.members.update((cid, g) for g in genes)
            elif kind == "hgnc_group":
                builder.members.update((cid, g) for g in builder.gene_groups[value])
            elif kind == "symbols":
                pattern = re.compile(value)
                builder.members.update((cid, g) for s, g in builder.coding_symbols.items() if pattern.fullmatch(s))
            elif kind == "FAMILY":
                builder.members.add((cid, token))
            else:
                raise ValueError(f"families.tsv: unknown member {token!r} in {row['id']}")


def load_classes(builder: KBBuilder) -> None:
    for row in _read_tsv(DATA_DIR / "drug_classes.tsv"):
        cid = builder.concept(row["id"], "Chemical", row["name"])
        for token in row["xrefs"].split():
            db, _, value = token.partition(":")
            builder.xref(cid, db, value)
        builder.name(cid, row["name"], "curated", "class")
        for synonym in _split(row["synonyms"]):
            builder.name(cid, synonym, "curated", "class")
        for parent in row["parents"].split():
            builder.members.add((parent, cid))
        for drug in _split(row["members"]):
            member = builder.resolve(drug, "Chemical")
            if member is None:
                raise ValueError(f"drug_classes.tsv: {drug!r} ({row['id']}) is in no drug vocabulary")
            builder.members.add((cid, member))


def load_synonyms(builder: KBBuilder) -> None:
    for row in _read_tsv(DATA_DIR / "synonyms.tsv"):
        if row["id"] not in builder.types:
            raise ValueError(f"synonyms.tsv: {row['id']} is not a concept")
        builder.name(row["id"], row["name"], "curated", "curated")


def load_brands(builder: KBBuilder) -> None:
    """Drugs@FDA brand names of single-ingredient products ("ZOLOFT" -> sertraline)."""
    brands: dict[str, set[str]] = defaultdict(set)
    labels: dict[str, str] = {}
    with builder.file("fda").open(encoding="latin-1") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            brand, ingredient = row["DrugName"].strip(), row["ActiveIngredient"].strip()
            if ";" in ingredient or normalize_name(brand) == normalize_name(ingredient):
                continue
            cid = _ingredient(builder, ingredient)
            if cid is not None:
                brands[normalize_name(brand)].add(cid)
                labels[normalize_name(brand)] = brand
    for norm, cids in brands.items():
        # a brand already naming a chemical ("LITHIUM") or several ingredients is no brand name
        if len(cids) == 1 and not any(builder.types[c] == "Chemical" for c in builder.by_norm.get(norm, ())):
            builder.name(next(iter(cids)), labels[norm], "fda", "brand")


def _ingredient(builder: KBBuilder, text: str) -> str | None:
    words = re.sub(r"\(.*?\)", " ", text).lower().split()
    while words:
        cid = builder.resolve(" ".join(words), "Chemical")
        if cid is not None:
            return cid
        if words[-1] not in SALT_WORDS:
            return None
        words.pop()
    return None


# -- reading the files


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

