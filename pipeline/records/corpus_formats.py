"""Which parser a file needs, and which corpus and split it belongs to, from its name, its
folders and its first bytes; files that hold no records (documentation, split lists, the
union files beside per-split ones) are named with the reason.

A DrugProt or ChemProt split is the set of TSVs in one folder, found by their roles; its
``*_gold_standard.tsv`` is skipped when ``*_relations.tsv`` is beside it (it holds the same
rows, those flagged Y).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from pipeline.records.corpus_files import ImportFailure, load_bytes

# The corpora litmine imports.
CORPORA = ("bc5cdr", "biored", "drugprot", "chemprot", "nlm_gene", "ncbi_disease", "scifact",
           "pubmedqa", "check_covid")
# How a corpus shows in a file's name or folders, for files copied out of ../shared/corpora.
_CORPUS_PATTERNS = (
    ("bc5cdr", r"bc5cdr|\bcdr_"), ("biored", r"biored"), ("drugprot", r"drugprot"),
    ("chemprot", r"chemprot"), ("nlm_gene", r"nlm[_-]?gene|pmidlist"),
    ("ncbi_disease", r"ncbi[_-]?disease|ncbi\w*corpus"), ("scifact", r"scifact"),
    ("pubmedqa", r"pubmedqa|pqal"), ("check_covid", r"check[_-]?covid|covidcheck"),
)
_SPLIT_PATTERNS = (("train", r"train"), ("dev", r"dev"), ("test", r"test"))

# Files that hold no records, by name, with the reason reported for them.
_SKIP_NAMES = (
    (r"^(readme|licen[cs]e)", "documentation or licence"),
    (r"\.pdf$", "a PDF document"),
    (r"^\.", "a hidden file"),
    (r"^pmidlist\.\w+\.txt$", "NLM-Gene split list (read with its BioC files)"),
    (r"^test_ground_truth\.json$", "PubMedQA test labels only (read with ori_pqal.json for its split)"),
    (r"^check-covid_all\.json$", "all Check-COVID claims without their split (the per-split files hold them)"),
    (r"_composed\+extracted\.json$", "the union of the _composed and _extracted files beside it"),
)
# Formats recognised by name; the rest are sniffed from their first bytes.
_NAME_FORMATS = (
    (r"\.pubtator(\.txt)?$", "pubtator"),
    (r"\.bioc\.xml$", "bioc_xml"),
    (r"\.bioc\.json$", "bioc_json"),
    (r"\.nxml$", "pmc"),
    (r"^claims_\w+\.jsonl$", "scifact_claims"),
    (r"^ori_pqal\.json$", "pubmedqa"),
    (r"^covidcheck_\w+\.json$", "check_covid_claims"),
)
_XML_ROOTS = {"PubmedArticleSet": "pubmed", "pmc-articleset": "pmc", "article": "pmc", "collection": "bioc_xml"}
_PROT_ROLES = {"abstracts": r"_abstrac(t)?s(_gs)?\.tsv$", "entities": r"_entities(_gs)?\.tsv$",
               "relations": r"_relations(_gs)?\.tsv$", "gold_standard": r"_gold_standard\.tsv$"}
# A PubTator title or abstract line: PMID, t or a, and the text.
PUBTATOR_TEXT = re.compile(r"^(\d+)\s*\|([ta])\|\s?(.*)$")


def detect_format(path: Path) -> tuple[str | None, str]:
    """(format, "") for a record file, the format naming its parser (importers.PARSERS), else
    (None, why it holds no records); by the file's name, else by its first bytes.

    Raises ImportFailure for a file that cannot be read.
    """
    name = path.name.lower()
    for pattern, why in _SKIP_NAMES:
        if re.search(pattern, name):
            return None, why
    if re.search(_PROT_ROLES["gold_standard"], name) and prot_files(path.parent).get("relations"):
        return None, "the relations flagged Y in the *_relations.tsv beside it"
    if any(re.search(pattern, name) for pattern in _PROT_ROLES.values()):
        return "prot_tsv", ""
    for pattern, fmt in _NAME_FORMATS:
        if re.search(pattern, name):
            return fmt, ""
    head = load_bytes(path, limit=1 << 16).decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if head.startswith("<"):
        root = re.search(r"<(?![?!])([A-Za-z_][\w.:-]*)", head)
        tag = root.group(1) if root else ""
        if tag in _XML_ROOTS:
            return _XML_ROOTS[tag], ""
        return None, "an HTML page" if tag.lower() == "html" else f"<{tag}> XML holds no records"
    if head.startswith("{"):
        return _sniff_json(head)
    if PUBTATOR_TEXT.match(head.split("\n", 1)[0]):
        return "pubtator", ""
    if head and all(line.strip().isdigit() for line in head.splitlines() if line.strip()):
        return None, "a list of ids, not records"
    return None, "no known record format"


def _sniff_json(head: str) -> tuple[str | None, str]:
    if re.search(r'"documents"\s*:', head) and '"passages"' in head:
        return "bioc_json", ""
    try:
        first = json.loads(head.split("\n", 1)[0])
    except ValueError:
        return None, "JSON in no known record format"
    keys = set(first) if isinstance(first, dict) else set()
    if {"cord_id", "abstract"} <= keys:
        return "check_covid_corpus", ""
    if {"doc_id", "abstract"} <= keys:
        return "scifact_corpus", ""
    if {"claim", "cord_id"} <= keys:
        return "check_covid_claims", ""
    if "claim" in keys:
        return "scifact_claims", ""
    return None, "JSON in no known record format"


def corpus_of(path: Path) -> str:
    """The corpus a file belongs to, from its name and the folders above it."""
    where = "/".join(path.parts[-4:]).lower()
    for corpus, pattern in _CORPUS_PATTERNS:
        if re.search(pattern, where):
            return corpus
    raise ImportFailure(f"{path}:1: cannot tell which corpus this is (expected one of {', '.join(CORPORA)} "
                        "in its name or folders)")


def split_of(path: Path) -> str:
    """train/dev/test from the file's name, else from its folder or the one above."""
    for part in (path.name, path.parent.name, path.parent.parent.name):
        for split, pattern in _SPLIT_PATTERNS:
            if re.search(pattern, part.lower()):
                return split
    raise ImportFailure(f"{path}:1: cannot tell its split (train, dev or test) from its name or folders")


def prot_files(folder: Path) -> dict[str, Path]:
    """The TSVs of one DrugProt/ChemProt split, by role (abstracts, entities, relations, gold_standard)."""
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.tsv")):
        for role, pattern in _PROT_ROLES.items():
            if re.search(pattern, path.name.lower()):
                found.setdefault(role, path)
    return found
