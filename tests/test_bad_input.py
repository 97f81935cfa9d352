"""Bad input through the command line: one `litmine run --offline` over a good document and every
kind of bad one, made here (issue 18, item 4).

Each bad document gets one error line naming it and its problem, or, where it is readable
(UTF-16, scripts in a page, no claims, broken reference lists, unknown PMIDs, PMIDs that are
not numbers, deep nesting, a long list of names), is checked like any other; nothing prints a
traceback, and the good document is checked and written whatever its batch holds.
"""
from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import KIR_PAPER
from document_files import make_docx
from pipeline.config import PROJECT_ROOT
from pipeline.records.store import Store

GOOD = """Kir4.1 notes

Sertraline inhibits Kir4.1 channels in astrocytes [1].

References
1. PMID: 99000001
"""


def xxe_docx(path: Path) -> None:
    """A Word file whose body declares an external entity reading a local file."""
    make_docx(path.with_suffix(".tmp.docx"), [("title", "Notes"), ("prose", "Sertraline inhibits Kir4.1 channels.")])
    with zipfile.ZipFile(path.with_suffix(".tmp.docx")) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":
                data = re.sub(rb"(<\?xml[^>]*\?>)", rb'\1<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
                              data, count=1).replace(b"Sertraline", b"&xxe; Sertraline")
            target.writestr(item, data)
    path.with_suffix(".tmp.docx").unlink()


def zip_bomb_docx(path: Path) -> None:
    """A few kilobytes that unpack to 30 MB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", b" " * (30 * 2**20))


def broken_docx(path: Path) -> None:
    """A Word package whose body is not well-formed XML."""
    buffer = io.BytesIO()
    make_docx(path, [("title", "Notes"), ("prose", "Sertraline inhibits Kir4.1 channels.")])
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, data[:len(data) // 2] if item.filename == "word/document.xml" else data)
    path.write_bytes(buffer.getvalue())


def huge(path: Path) -> None:
    with path.open("w") as handle:
        line = "Sertraline inhibits Kir4.1 channels in astrocytes. " * 20 + "\n"
        for _ in range(50 * 2**20 // len(line) + 1):
            handle.write(line)


def text(content: str | bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content if isinstance(content, bytes) else content.encode())


@dataclass
class Case:
    make: Callable[[Path], None]
    problem: str | None  # the error line's problem (a regex), or None: read and checked


CASES: dict[str, Case] = {
    "empty.txt": Case(text(""), r"document is empty$"),
    "blank.md": Case(text(" \n\n\t\n"), r"document is empty$"),
    "binary.txt": Case(text(bytes(range(256)) * 40), r"binary content, not a text document$"),
    "photo.png": Case(text(b"\x89PNG\r\n\x1a\n" + bytes(200)), r"unsupported file type '\.png'; expected one of"),
    "huge.txt": Case(huge, r"too large \(50\.0 MB; the limit is 25 MB, LITMINE_MAX_DOCUMENT_MB\)$"),
    "latin1.txt": Case(text("Notes\n\nCaf\xe9 and sertraline.\n".encode("latin-1")),
                       r"not readable as utf-8-sig text \(byte 0xe9 on line 3 is not UTF-8; save the file as UTF-8\)$"),
    "mixed.txt": Case(text("Notes\n\nSertraline inhibits Kir4.1 \u2014 in astrocytes.\n".encode()
                           + "\u201cquoted\u201d by a Windows editor\n".encode("cp1252")),
                      r"byte 0x93 on line 4 is not UTF-8"),
    "utf16.txt": Case(text("Notes\n\nFluoxetine inhibits TREK-1 channels.\n".encode("utf-16")), None),
    "scripts.html": Case(text(
        "<html><head><title>&lt;img src=x onerror=alert(1)&gt;</title><script>document.write('Fluoxetine "
        "inhibits TREK-1 channels.')</script></head><body><h1>&lt;script&gt;alert(1)&lt;/script&gt; notes</h1>"
        "<p>Sertraline inhibits Kir4.1 channels &lt;script&gt;alert(2)&lt;/script&gt; in astrocytes.</p>"
        "<script>var claim = 'Paroxetine activates GIRK channels.';</script><noscript>Enable JS</noscript>"
        "<p onclick=\"alert(3)\">Citalopram inhibits hERG channels.</p></body></html>"), None),
    "xxe.html": Case(text('<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><html><body><p>&xxe; '
                          "Sertraline inhibits Kir4.1 channels.</p></body></html>"), r"declares XML entities"),
    "no-claims.txt": Case(text("Meeting notes\n\nThanks, everyone!\n\nSee you on Tuesday?\n"), None),
    "broken-references.txt": Case(text(
        "Notes\n\nSertraline inhibits Kir4.1 channels [1][2][9]. Fluoxetine activates Kir4.1 channels [3-].\n\n"
        "References\n1.\n2. ]]] [[[ ((( doi:10. PMID:\n[3] PMID: 99000001 PMID: 99000002 doi:10.1/x\n"
        "4. " + "Smith J, " * 500 + "\n[[5]] (((2019\n"), None),
    "unknown-pmids.txt": Case(text(
        "Notes\n\nSertraline inhibits Kir4.1 channels [1]. Fluoxetine activates Kir4.1 channels [2].\n\n"
        "References\n1. PMID: 39999999\n2. Retracted paper. PMID: 98000000\n"), None),
    "pmids-not-numbers.txt": Case(text(
        "Notes\n\nSertraline inhibits Kir4.1 channels (PMID: abc123). Fluoxetine activates Kir4.1 channels "
        "(PMID: 12ab34, PMID: -5, PMID: 0, PMID: 99999999999999).\n"), None),
    "deep.html": Case(text("<html><body>" + "<div>" * 50_000 + "<p>Sertraline inhibits Kir4.1 channels.</p>"
                           + "</div>" * 50_000 + "</body></html>"), None),
    "names.txt": Case(text("Notes\n\nThanks to " + ", ".join(f"Author{chr(97 + i % 26)}son" for i in range(9000))
                           + ".\n"), None),
    "xxe.docx": Case(xxe_docx, r"word/document\.xml declares the XML entity &xxe;"),
    "bomb.docx": Case(zip_bomb_docx,
                      r"unpacks to 30 MB, past the limit of 25 MB \(LITMINE_MAX_DOCUMENT_MB; a zip bomb\?\)$"),
    "broken.docx": Case(broken_docx, r"not a readable Word document \("),
    "cut.pdf": Case(text(b"%PDF-1.7\n1 0 obj << /Type /Catalog"), r"not a readable PDF \("),
    "folder.md": Case(lambda path: path.mkdir(), r"is a directory, not a document$"),
    "missing.txt": Case(lambda path: None, r"no such file$"),
}


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    folder: Path
    out: Path

    def errors(self, path: Path) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith(f"error: {path}: ")]

    def rows(self, name: str) -> list[dict[str, str]]:
        with (self.out / name).open(newline="") as handle:
            return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def outcome(harness, tmp_path_factory: pytest.TempPathFactory, kb, trained) -> Outcome:
    """`litmine run --offline` in a process of its own, on the test API, over every case and the good note."""
    from prefect.settings import PREFECT_API_URL

    folder = tmp_path_factory.mktemp("bad-input")
    data = folder / "data"
    data.mkdir()
    shutil.copy(kb.path, data / "kb.sqlite")
    with Store(data / "litmine.sqlite") as store:
        store.upsert_records([KIR_PAPER])
    (folder / "good.txt").write_text(GOOD)
    for name, case in CASES.items():
        case.make(folder / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LITMINE_"))}
    env.update(LITMINE_DATA=str(data), LITMINE_MODELS=str(trained.models), LITMINE_SERVER_IDLE_MINUTES="0",
               PREFECT_API_URL=str(PREFECT_API_URL.value()), PYTHONPATH=str(PROJECT_ROOT))
    documents = [str(folder / "good.txt"), *(str(folder / name) for name in CASES)]
    done = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--offline", "--out", str(folder / "out"),
                           *documents], env=env, cwd=folder, capture_output=True, text=True, timeout=600)
    (folder / "run.log").write_text(done.stdout + done.stderr)  # to read when a test fails
    return Outcome(done.returncode, done.stdout, done.stderr, folder, folder / "out")


def test_the_batch_completes_without_a_traceback(outcome: Outcome) -> None:
    assert "Traceback" not in outcome.stdout + outcome.stderr, outcome.stderr[-3000:]
    assert outcome.code == 2
    bad = sum(case.problem is not None for case in CASES.values())
    assert f"error: {bad} of {len(CASES) + 1} documents could not be read (the others are checked, tables in " \
           f"{outcome.out}):" in outcome.stderr
    good = [r for r in outcome.rows("claims.csv") if r["document"] == "good"]
    assert [(r["subject"], r["verdict"], r["cited_pmids"]) for r in good] == [("Sertraline", "supported", "99000001")]


@pytest.mark.parametrize("name", list(CASES))
def test_each_bad_document_is_one_line_naming_it_and_the_problem(outcome: Outcome, name: str) -> None:
    lines = outcome.errors(outcome.folder / name)
    if CASES[name].problem is None:
        assert lines == []
        assert f"{Path(name).stem}" in (outcome.out / "report.html").read_text()
    else:
        assert len(lines) == 1 and re.search(CASES[name].problem, lines[0]), outcome.stderr[-3000:]


def test_what_readable_bad_input_gives(outcome: Outcome) -> None:
    claims = outcome.rows("claims.csv")
    by_document = {}
    for row in claims:
        by_document.setdefault(row["document"], []).append(row)
    assert [r["subject"] for r in by_document["utf16"]] == ["Fluoxetine"]
    page = " ".join(r["sentence"] for r in by_document["scripts"])
    assert "Sertraline" in page and "Citalopram" in page
    assert "Paroxetine" not in page and "Fluoxetine" not in page and "Enable JS" not in page  # scripts left out
    assert "no-claims" not in by_document
    references = {(r["document"], r["marker"]): r for r in outcome.rows("references.csv")}
    assert references[("unknown-pmids", "1")]["status"] == "unavailable"  # offline: an unknown PMID is not known
    assert references[("broken-references", "9")]["status"] == "unresolved"
    assert references[("broken-references", "3")]["pmid"] == "99000001"
    assert all(r["verdict"] != "no_evidence" for r in by_document["unknown-pmids"])
    assert [r["subject"] for r in by_document["deep"]] == ["Sertraline"]


def test_the_report_escapes_every_text_and_names_no_local_folder(outcome: Outcome) -> None:
    report = (outcome.out / "report.html").read_text()
    assert "<script" not in report.lower() and "<img" not in report.lower() and "onclick" not in report
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in report
    assert str(outcome.folder) not in report and str(PROJECT_ROOT) not in report
