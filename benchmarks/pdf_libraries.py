"""Which PDF library reads a document's text in order? (the measurement behind pipeline/documents/pdf.py)

Typesets the two shared documents as PDFs (tests/document_files.py: justified, hyphenated,
superscript markers, running header and page numbers; one and two columns) and prints, for
pypdf and pdfminer.six, how much of the source's word sequence each library's text keeps in
order (difflib ratio over words of three letters or more, line-end hyphens naively joined) and
its time; then whether litmine's reader gives the text version's sentences, sections and markers.
pdfminer.six is no dependency of litmine; run it beside:

    /work/main/.uv/bin/uv run --with pdfminer.six python benchmarks/pdf_libraries.py
"""
from __future__ import annotations

import difflib
import re
import sys
import tempfile
import time
from pathlib import Path

from pdfminer.high_level import extract_text as pdfminer_text
from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from document_files import blocks_of, make_pdf  # noqa: E402
from pipeline.config import load_settings  # noqa: E402
from pipeline.documents.reading import load_document  # noqa: E402
from test_document_files import outline  # noqa: E402


def words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]{3,}", re.sub(r"(\w)-\n(\w)", r"\1\2", text))


def pypdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    for name in ("pssd-glutamate", "ssri-blunted-affect"):
        source = load_settings().shared / "documents" / f"{name}.txt"
        blocks = blocks_of(source.read_text())
        expected = words("\n".join(text for _, text in blocks))
        for columns in (1, 2):
            path = make_pdf(folder / f"{name}-{columns}.pdf", blocks, columns=columns)
            for library, extract in (("pypdf", pypdf_text), ("pdfminer.six", pdfminer_text)):
                start = time.perf_counter()
                text = extract(path)
                seconds = time.perf_counter() - start
                ratio = difflib.SequenceMatcher(None, expected, words(text), autojunk=False).ratio()
                print(f"{name:20} {columns} column(s)  {library:13} words in order {ratio:.3f}  "
                      f"{seconds * 1000:4.0f} ms")
            same = outline(load_document(path)) == outline(load_document(source))
            print(f"{name:20} {columns} column(s)  litmine reader: {'same' if same else 'NOT the same'} "
                  f"sentences, sections and markers as the text")


if __name__ == "__main__":
    main()
