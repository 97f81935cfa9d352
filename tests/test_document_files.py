"""PDF and Word documents, made in the test from the two shared blog posts (tests/document_files.py)
and from reference lists: they must read as the text versions do, sentence for sentence, claim
for claim and reference for reference; scans and broken files get a one-line error."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from document_files import NUMERIC_MARKER, blocks_of, make_docx, make_pdf
from pipeline.claims.extract import extract_claims
from pipeline.datatypes import Document
from pipeline.documents.citations import parse_reference_list
from pipeline.documents.reading import DocumentError, load_document, read_documents
from pipeline.entities.dictionary import DictionaryTagger
from pipeline.relations.triggers import TriggerExtractor
from conftest import shared_document

NAMES = ("pssd-glutamate", "ssri-blunted-affect")
VARIANTS = ("pdf", "pdf-2col", "pdf-brackets", "docx", "docx-footnotes")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Each shared document as text and in each variant: superscript markers, two columns,
    bracketed markers; Word with superscript markers, and with footnotes standing for [1]–[3]."""
    folder = tmp_path_factory.mktemp("documents")
    out = {}
    for name in NAMES:
        text = shared_document(f"{name}.txt")
        out[(name, "txt")] = folder / f"{name}.txt"
        out[(name, "txt")].write_text(text)
        blocks = blocks_of(text)
        out[(name, "pdf")] = make_pdf(folder / f"{name}.pdf", blocks)
        out[(name, "pdf-2col")] = make_pdf(folder / f"{name}-2col.pdf", blocks, columns=2)
        out[(name, "pdf-brackets")] = make_pdf(folder / f"{name}-brackets.pdf", blocks, superscript=False)
        out[(name, "docx")] = make_docx(folder / f"{name}.docx", blocks)
        out[(name, "docx-footnotes")] = make_docx(folder / f"{name}-notes.docx", blocks,
                                                  footnotes={n: f"PMID: {31000000 + int(n)}" for n in "123"})
    return out


def canonical(text: str) -> str:
    """The sentence with each run of markers written one way: "[4][5]" and "[4,5]" alike."""
    return re.sub(rf"(?:\s*{NUMERIC_MARKER.pattern})+",
                  lambda m: " [" + ",".join(n.group(1) for n in NUMERIC_MARKER.finditer(m.group())) + "]", text)


def outline(doc: Document) -> list[tuple[str, str, str, list[str]]]:
    return [(s.kind, s.section, canonical(s.text), s.markers) for s in doc.sentences]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", NAMES)
def test_pdf_and_word_read_as_the_text_does(files, name: str, variant: str) -> None:
    """Same title, sentences, sections, kinds and markers: reading order across columns, headings
    from type size or style, words hyphenated at line ends whole, running header and page
    numbers gone, superscript markers as markers."""
    text, other = load_document(files[(name, "txt")]), load_document(files[(name, variant)])
    assert other.title == text.title
    assert outline(other) == outline(text)
    assert set(other.references) == set(text.references)
    assert not any("Preprint" in s.text for s in other.sentences)


def test_word_footnotes_are_references(files) -> None:
    doc = load_document(files[("pssd-glutamate", "docx-footnotes")])
    assert {n: (doc.references[n].pmid, doc.references[n].resolved_by) for n in "123"} == {
        "1": ("31000001", "pmid"), "2": ("31000002", "pmid"), "3": ("31000003", "pmid")}
    assert doc.references["4"].raw == ""  # the superscript markers that are no footnotes stay markers


def triples(claims) -> set[tuple[str, str, str, str, tuple[str, ...]]]:
    return {(c.relation.subject.name.lower(), c.relation.relation, c.relation.object.id or "",
             c.relation.object.text.lower(), tuple(c.sentence.markers)) for c in claims}


@pytest.mark.parametrize("name", NAMES)
def test_same_claims_from_pdf_and_word(files, kb, name: str) -> None:
    """The claim rules read the same subjects, relations, objects and citations in every format."""
    tagger = DictionaryTagger(kb)
    claims = {variant: triples(extract_claims(load_document(files[(name, variant)]), tagger, TriggerExtractor(), kb))
              for variant in ("txt", "pdf-2col", "docx")}
    assert claims["txt"]
    assert claims["pdf-2col"] == claims["txt"]
    assert claims["docx"] == claims["txt"]


def test_same_claims_through_the_trained_pipeline(files, pipeline_tagger, kb) -> None:
    """The trained entity models (reduced) read a two-column PDF as they read the text."""
    for name in NAMES:
        text, pdf = (load_document(files[(name, variant)]) for variant in ("txt", "pdf-2col"))
        assert (triples(extract_claims(pdf, pipeline_tagger, TriggerExtractor(), kb))
                == triples(extract_claims(text, pipeline_tagger, TriggerExtractor(), kb)))


# --- reference lists -----------------------------------------------------------

JOURNALS = ("J Neurosci", "Neuropsychopharmacology", "Mol Psychiatry", "Br J Pharmacol", "Biol Psychiatry")


def twenty_references() -> list[str]:
    """Vancouver references, some with long author lists that wrap so a line starts "3. Br J …",
    with a PMID, a DOI, both or neither."""
    references = []
    for i in range(1, 21):
        authors = ("Kowalczyk-Brandenburg A, Nguyen TT, Okonkwo-Williams CE, et al" if i % 3 == 0
                   else f"Author{chr(64 + i)} B, Other C")
        ids = (f" doi:10.1016/j.neuropharm.20{10 + i % 10}.{1000 + i}." if i % 4 == 0 else "") + (
            f" PMID: {30100000 + i}." if i % 5 else "")
        source = f"{JOURNALS[i % 5]}. 20{10 + i % 10};{i + 10}({i % 4 + 1}):{100 + i}-{120 + i}."
        references.append(f"{authors}. Selective serotonin reuptake inhibitors and glutamate transmission in "
                          f"model {i}. {source}{ids}")
    return references


@pytest.mark.parametrize("maker", [make_pdf, make_docx])
def test_twenty_numbered_references_parse_as_in_text(tmp_path: Path, maker) -> None:
    references = twenty_references()
    cites = "Sertraline inhibits Kir4.1 channels " + "".join(f"[{i}]" for i in range(1, 21)) + "."
    doc = load_document(maker(tmp_path / f"review.{maker.__name__[5:]}",
                              [("title", "A review with twenty references"), ("prose", cites)], references=references))
    expected = parse_reference_list([f"{i}. {ref}" for i, ref in enumerate(references, 1)])
    assert set(doc.references) == set(expected) == {str(i) for i in range(1, 21)}
    for marker, ref in expected.items():
        got = doc.references[marker]
        assert (got.raw, got.pmid, got.doi, got.resolved_by, got.citation) == (
            ref.raw, ref.pmid, ref.doi, ref.resolved_by, ref.citation)
    assert sum(bool(r.pmid) for r in doc.references.values()) == 16
    assert sum(bool(r.doi) for r in doc.references.values()) == 5
    assert [s.markers for s in doc.sentences if s.kind == "prose"] == [[str(i) for i in range(1, 21)]]


def test_a_doi_broken_at_a_line_end_is_whole(tmp_path: Path) -> None:
    from reportlab.pdfgen.canvas import Canvas

    path = tmp_path / "broken.pdf"
    canvas = Canvas(str(path))
    canvas.setFont("Times-Roman", 10)
    lines = ["References", "1. Smith J, Jones K. Sertraline and astrocytes. Glia. 2019;67(2):1-9. doi:10.1002/",
             "glia.23456. PMID: 30100001.", "2. Lee A, Park B. Potassium channels in depres-",
             "sion. Neuron. 2018;99(1):10-20. doi:10.1016/j.neuron.2018.05.", "012."]
    for i, line in enumerate(lines):
        canvas.drawString(72 + (12 if i in (2, 4, 5) else 0), 700 - 12.5 * i, line)
    canvas.save()
    refs = load_document(path).references
    assert (refs["1"].doi, refs["1"].pmid) == ("10.1002/glia.23456", "30100001")
    assert refs["2"].doi == "10.1016/j.neuron.2018.05.012"
    assert "Potassium channels in depression." in refs["2"].raw


# --- what cannot be read -------------------------------------------------------

def image_only_pdf(path: Path) -> Path:
    """A scanned page: a picture of text, no text layer."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    image = Image.new("L", (600, 200), 255)
    ImageDraw.Draw(image).text((10, 80), "Sertraline inhibits Kir4.1 channels [1].", fill=0)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    canvas = Canvas(str(path))
    canvas.drawImage(ImageReader(io.BytesIO(buffer.getvalue())), 72, 500, width=450, height=150)
    canvas.save()
    return path


def test_unreadable_pdf_and_word_files_name_the_file_and_problem(tmp_path: Path) -> None:
    scan = image_only_pdf(tmp_path / "scan.pdf")
    with pytest.raises(DocumentError, match=r"scan\.pdf: no text layer \(a scanned or image-only PDF\?\); "
                                            r"run OCR on it first$"):
        load_document(scan)
    (tmp_path / "fake.pdf").write_text("Sertraline inhibits Kir4.1.")
    with pytest.raises(DocumentError, match=r"fake\.pdf: not a readable PDF \("):
        load_document(tmp_path / "fake.pdf")
    (tmp_path / "fake.docx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DocumentError, match=r"fake\.docx: not a readable Word document \("):
        load_document(tmp_path / "fake.docx")
    empty = make_docx(tmp_path / "empty.docx", [])
    with pytest.raises(DocumentError, match=r"empty\.docx: document is empty"):
        load_document(empty)


def test_a_scan_in_a_batch_does_not_stop_the_others(tmp_path: Path) -> None:
    good = make_pdf(tmp_path / "good.pdf", [("title", "Notes"), ("prose", "Sertraline inhibits Kir4.1 channels [1].")],
                    references=["Smith J. Sertraline and Kir4.1. Glia. 2019;67(2):1-9. PMID: 30100001."])
    docs, errors = read_documents([str(image_only_pdf(tmp_path / "scan.pdf")), str(good)])
    assert [d.name for d in docs] == ["good"] and docs[0].references["1"].pmid == "30100001"
    assert len(errors) == 1 and errors[0].startswith(f"{tmp_path / 'scan.pdf'}: no text layer")
