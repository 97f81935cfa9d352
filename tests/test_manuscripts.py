"""Manuscripts with a bibliography file: Pandoc Markdown citing [@key] and LaTeX citing \\cite{key},
made in the test from the shared PSSD post, must give the references and claims its text version
with a numbered reference list gives; .bib, .ris and CSL-JSON give the same references."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import shared_document
from document_files import MARKER_RUN, blocks_of
from pipeline.claims.extract import extract_claims
from pipeline.documents.citations import NUMERIC_MARKER
from pipeline.documents.reading import DocumentError, load_document, read_documents
from pipeline.entities.dictionary import DictionaryTagger
from pipeline.relations.triggers import TriggerExtractor

# (key, authors, title, journal, year, volume, pages, doi, pmid): ids for most, neither for some
ENTRIES = [(f"author{n}", [("Kowalczyk", "Anna"), ("Nguyen", "Thi Thu")] if n % 2 else [("Smith", "John")],
            f"Glutamate and serotonin in study {n}", ("Glia", "Neuron", "J Neurosci")[n % 3], str(2000 + n),
            str(10 + n), f"{100 + n}-{110 + n}", f"10.1000/study.{n}" if n % 4 == 0 else "",
            str(30100000 + n) if n % 5 else "") for n in range(1, 17)]


def vancouver(entry) -> str:
    _, authors, title, journal, year, volume, pages, doi, pmid = entry
    names = ", ".join(f"{family} {''.join(w[0] for w in given.split())}" for family, given in authors)
    ids = (f" doi:{doi}." if doi else "") + (f" PMID: {pmid}." if pmid else "")
    return f"{names}. {title}. {journal}. {year};{volume}:{pages}.{ids}"


def bibtex(entry) -> str:
    key, authors, title, journal, year, volume, pages, doi, pmid = entry
    fields = {"author": " and ".join(f"{family}, {given}" for family, given in authors), "title": f"{{{title}}}",
              "journal": journal, "year": year, "volume": volume, "pages": pages.replace("-", "--"), "doi": doi,
              "pmid": pmid}
    return f"@article{{{key},\n" + ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items() if v) + "\n}\n"


def ris(entry) -> str:
    key, authors, title, journal, year, volume, pages, doi, pmid = entry
    start, end = pages.split("-")
    lines = ["TY  - JOUR", f"ID  - {key}", *(f"AU  - {family}, {given}" for family, given in authors),
             f"TI  - {title}", f"JO  - {journal}", f"PY  - {year}", f"VL  - {volume}", f"SP  - {start}",
             f"EP  - {end}", *([f"DO  - {doi}"] if doi else []), *([f"AN  - {pmid}"] if pmid else []), "ER  - "]
    return "\n".join(lines) + "\n"


def csl(entry) -> dict:
    key, authors, title, journal, year, volume, pages, doi, pmid = entry
    item = {"id": key, "type": "article-journal", "author": [{"family": f, "given": g} for f, g in authors],
            "title": title, "container-title": journal, "issued": {"date-parts": [[int(year)]]}, "volume": volume,
            "page": pages}
    return item | ({"DOI": doi} if doi else {}) | ({"PMID": pmid} if pmid else {})


def keyed(text: str, latex: bool = False) -> str:
    """Numbered markers as citation keys: "[4][5]" as "[@author4; @author5]" or "\\cite{author4,author5}"."""
    def cite(m: re.Match[str]) -> str:
        keys = [f"author{n.group(1)}" for n in NUMERIC_MARKER.finditer(m.group())]
        return f" \\cite{{{','.join(keys)}}}" if latex else " [" + "; ".join(f"@{k}" for k in keys) + "]"
    return MARKER_RUN.sub(cite, text)


@pytest.fixture(scope="module")
def manuscripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("manuscripts")
    blocks = blocks_of(shared_document("pssd-glutamate.txt"))
    numbered = folder / "numbered.txt"
    numbered.write_text(shared_document("pssd-glutamate.txt") + "\n\nReferences\n"
                        + "".join(f"{n}. {vancouver(e)}\n" for n, e in enumerate(ENTRIES, 1)))
    prefix = {"title": "# ", "heading": "## ", "bullet": "- ", "prose": ""}
    markdown = folder / "paper.md"
    markdown.write_text("---\ntitle: PSSD\nbibliography: library.bib\n---\n\n"
                        + "\n\n".join(prefix[kind] + keyed(text) for kind, text in blocks) + "\n")
    (folder / "library.bib").write_text("\n".join(bibtex(e) for e in ENTRIES))
    latex = folder / "paper.tex"
    commands = {"title": "\\section*{%s}", "heading": "\\subsection{%s}", "bullet": "\\begin{itemize}\\item %s"
                "\\end{itemize}", "prose": "%s"}
    body = "\n\n".join(commands[kind] % keyed(text.replace("%", "\\%"), latex=True) for kind, text in blocks)
    latex.write_text("\\documentclass{article}\n\\usepackage{natbib}\n\\begin{document}\n% draft\n"
                     f"{body}\n\n\\bibliographystyle{{vancouver}}\n\\bibliography{{library}}\n\\end{{document}}\n")
    (folder / "library.ris").write_text("".join(ris(e) for e in ENTRIES))
    (folder / "library.json").write_text(json.dumps([csl(e) for e in ENTRIES]))
    return {"numbered": numbered, "md": markdown, "tex": latex, "folder": folder}


def cited(document, claims) -> set:
    """(subject, relation, object, the cited references' ids) of each claim."""
    def ids(marker: str) -> tuple:
        ref = document.references[marker]
        return ref.pmid, ref.doi, ref.resolved_by, ref.citation.get("first_author"), ref.citation.get("year")
    return {(c.relation.subject.name.lower(), c.relation.relation, c.relation.object.id or c.relation.object.text,
             tuple(ids(m) for m in c.sentence.markers)) for c in claims}


def test_markdown_and_latex_manuscripts_give_the_claims_and_references_of_the_numbered_text(manuscripts, kb):
    tagger = DictionaryTagger(kb)
    results = {}
    for kind in ("numbered", "md", "tex"):
        document = load_document(manuscripts[kind])
        results[kind] = cited(document, extract_claims(document, tagger, TriggerExtractor(), kb))
    assert any(len(ids) == 6 and ids[0][0] == "30100004" for *_, ids in results["numbered"])  # [4]-[9]
    assert results["md"] == results["numbered"]
    assert results["tex"] == results["numbered"]


def reference_ids(document) -> dict[str, tuple]:
    return {marker: (ref.pmid, ref.doi, ref.resolved_by, ref.citation.get("first_author"), ref.citation.get("year"),
                     ref.citation.get("volume"), ref.citation.get("first_page"))
            for marker, ref in document.references.items() if marker.startswith("author")}


def test_bib_ris_and_csl_json_give_the_same_references(manuscripts) -> None:
    folder = manuscripts["folder"]
    numbered = load_document(manuscripts["numbered"]).references
    expected = {f"author{n}": (numbered[str(n)].pmid, numbered[str(n)].doi, numbered[str(n)].resolved_by,
                               numbered[str(n)].citation.get("first_author"), numbered[str(n)].citation.get("year"),
                               numbered[str(n)].citation.get("volume"), numbered[str(n)].citation.get("first_page"))
                for n in range(1, 17)}
    assert reference_ids(load_document(manuscripts["md"])) == expected
    for name in ("library.bib", "library.ris", "library.json"):
        assert reference_ids(load_document(manuscripts["md"], folder / name)) == expected, name
    assert sum(ref.resolved_by == "citation" for ref in numbered.values()) == 3  # no PMID or DOI: ECitMatch


def test_a_bibliography_beside_the_document_or_named(tmp_path: Path) -> None:
    (tmp_path / "notes.qmd").write_text("# Notes\n\nSertraline inhibits Kir4.1 channels [@kir], as @kir showed; "
                                        "ask @someone.\n")
    (tmp_path / "notes.json").write_text(json.dumps([{"id": "kir", "title": "Kir4.1", "PMID": "30100001"}]))
    doc = load_document(tmp_path / "notes.qmd")
    assert doc.sentences[1].markers == ["kir"] and doc.references["kir"].pmid == "30100001"
    assert "someone" not in doc.references  # a handle, not a key of the bibliography
    (tmp_path / "other.txt").write_text("Sertraline inhibits Kir4.1 channels [@kir].\n")
    docs, errors = read_documents([str(tmp_path / "other.txt")], str(tmp_path / "notes.json"))
    assert not errors and docs[0].references["kir"].resolved_by == "pmid"


def test_bad_bibliographies_name_the_document_and_the_file(tmp_path: Path) -> None:
    (tmp_path / "paper.md").write_text("---\nbibliography: [missing.bib]\n---\n\nSertraline inhibits Kir4.1 [@a].\n")
    with pytest.raises(DocumentError, match=r"paper\.md: bibliography .*missing\.bib: cannot read: No such file"):
        load_document(tmp_path / "paper.md")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(DocumentError, match=r"paper\.md: bibliography .*broken\.json: not JSON: "):
        load_document(tmp_path / "paper.md", tmp_path / "broken.json")
    (tmp_path / "refs.enl").write_text("x")
    with pytest.raises(DocumentError, match=r"unsupported bibliography type '\.enl'; expected \.bib, \.ris or \.json"):
        load_document(tmp_path / "paper.md", tmp_path / "refs.enl")
