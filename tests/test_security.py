"""Crafted input (issue 18, item 5): XML entity attacks on every parser path, outputs that stay
inside `--out`, and a report that escapes every text it shows. (The API key's absence from a
whole faulty run is tests/test_faults.py's sentinel test.)"""
from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from document_files import make_docx
from fake_eutils import BIOPYTHON, FakeEutils
from pipeline.config import Settings
from pipeline.datatypes import Claim, ClaimResult, EvidenceItem, Mention, Record, Relation, ResolvedReference
from pipeline.documents.reading import DocumentError, load_document, parse_document
from pipeline.outputs.files import write_csv
from pipeline.outputs.report import write_report
from pipeline.outputs.runs import CHANGES, Change
from pipeline.records.entrez import EntrezClient, EntrezError
from pipeline.records.importers import import_paths
from pipeline.records.store import Store

SECRET = "SECRET-local-file-7c1e"


def attacks(secret: Path) -> dict[str, tuple[str, str]]:
    """(declarations, reference) of each attack: an external entity reading a local file (XXE),
    an external parameter entity, and nested entities that expand a billionfold."""
    laughs = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    return {"xxe": (f'<!ENTITY xxe SYSTEM "file://{secret}">', "&xxe;"),
            "parameter entity": (f'<!ENTITY % p SYSTEM "file://{secret}"> %p;', ""),
            "billion laughs": (laughs, "&lol9;")}


def docx_with(path: Path, declarations: str, reference: str) -> None:
    make_docx(path.with_name("plain.docx"), [("title", "Notes"), ("prose", "Sertraline inhibits Kir4.1 channels.")])
    with zipfile.ZipFile(path.with_name("plain.docx")) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":
                data = re.sub(rb"(<\?xml[^>]*\?>)", rb"\1<!DOCTYPE w:document [" + declarations.encode() + rb"]>",
                              data, count=1).replace(b"Sertraline", reference.encode() + b" Sertraline")
            target.writestr(item, data)


FILES: dict[str, tuple[str, Callable[[str, str], str]]] = {  # name -> (file, document with declarations)
    "PubMed XML": ("pubmed_attack.xml", lambda d, r: (
        f'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [{d}]>\n<PubmedArticleSet><PubmedArticle>'
        f"<MedlineCitation><PMID>1</PMID><Article><ArticleTitle>{r} Sertraline</ArticleTitle></Article>"
        "</MedlineCitation></PubmedArticle></PubmedArticleSet>")),
    "PMC JATS": ("PMC1.nxml", lambda d, r: (
        f'<?xml version="1.0"?>\n<!DOCTYPE pmc-articleset [{d}]>\n<pmc-articleset><article><front><article-meta>'
        f'<article-id pub-id-type="pmc">PMC1</article-id><title-group><article-title>{r}</article-title>'
        "</title-group></article-meta></front></article></pmc-articleset>")),
    "BioC XML": ("bc5cdr/train.BioC.xml", lambda d, r: (
        f'<?xml version="1.0"?>\n<!DOCTYPE collection [{d}]>\n<collection><source>x</source><document><id>1</id>'
        f"<passage><offset>0</offset><text>{r} Sertraline</text></passage></document></collection>")),
}


@pytest.fixture()
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


@pytest.mark.parametrize("attack", ["xxe", "parameter entity", "billion laughs"])
@pytest.mark.parametrize("kind", list(FILES))
def test_an_imported_file_that_declares_entities_is_refused(tmp_path: Path, secret: Path, kind: str,
                                                            attack: str) -> None:
    name, make = FILES[kind]
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(make(*attacks(secret)[attack]))
    with Store(tmp_path / "litmine.sqlite") as store:
        report = import_paths([path], store, progress=False)
        assert store.stats()["records"] == 0
    assert len(report.errors) == 1 and report.errors[0].startswith(f"{path}:1: declares the XML entity ")
    assert SECRET not in report.errors[0]


@pytest.mark.parametrize("attack", ["xxe", "parameter entity", "billion laughs"])
@pytest.mark.parametrize("kind", ["html", "docx"])
def test_a_document_that_declares_entities_is_refused(tmp_path: Path, secret: Path, kind: str, attack: str) -> None:
    declarations, reference = attacks(secret)[attack]
    path = tmp_path / f"page.{kind}"
    if kind == "html":
        path.write_text(f"<!DOCTYPE html [{declarations}]><html><body><p>{reference} Sertraline inhibits Kir4.1."
                        "</p></body></html>")
    else:
        docx_with(path, declarations, reference)
    with pytest.raises(DocumentError, match=r"declares (the )?XML entit") as refused:
        load_document(path)
    assert SECRET not in str(refused.value)


def craft(declarations: str, reference: str) -> Callable[[bytes], bytes]:
    """The true reply with the declarations in its DOCTYPE and the reference in its first text."""
    def crafted(body: bytes) -> bytes:
        body = re.sub(rb'(<!DOCTYPE [^>\[]*?)(\s*>)', rb"\1 [" + declarations.encode().replace(b"\\", rb"\\") + rb"]\2",
                      body, count=1)
        return re.sub(rb"(<(?:Count|ArticleTitle|DbFrom|WebEnv|Id)>)", rb"\1" + reference.encode(), body, count=1)
    return crafted


CLIENT_CALLS: dict[str, tuple[str, Callable[[EntrezClient], object]]] = {  # util -> what asks it
    "esearch (Biopython)": ("esearch", lambda client: client.esearch("biopython")),
    "esummary (Biopython)": ("esummary", lambda client: client.esummary(["11850928"])),
    "elink (Biopython)": ("elink", lambda client: client.elink_pmc(["27797938"])),
    "efetch (litmine's PubMed parser)": ("efetch", lambda client: client.fetch_records(["11850928"])),
}


@pytest.mark.skipif(not BIOPYTHON.is_dir(), reason="../shared/entrez is missing")
@pytest.mark.parametrize("attack", ["xxe", "parameter entity", "billion laughs"])
@pytest.mark.parametrize("call", list(CLIENT_CALLS))
def test_an_ncbi_reply_that_declares_entities_is_refused_not_retried(fake_eutils: FakeEutils, fake_clock,
                                                                     tmp_path: Path, secret: Path, call: str,
                                                                     attack: str) -> None:
    util, ask = CLIENT_CALLS[call]
    fake_eutils.craft_next(1, craft(*attacks(secret)[attack]), util=util)
    settings = Settings(data=tmp_path, eutils_url=fake_eutils.url, ncbi_email="tests@example.org")
    with Store(tmp_path / "litmine.sqlite") as store:
        client = EntrezClient(settings, store, backoff=fake_clock.backoff(300))
        try:
            result = ask(client)
            problem = " ".join(getattr(result, "unavailable", {}).values())
        except EntrezError as exc:
            problem = str(exc)
        assert store.stats()["records"] == 0
    assert "declares the XML entity" in problem and SECRET not in problem
    assert len(fake_eutils.requests(util)) == 1  # refused at once: asking again would get the same


# --- outputs -------------------------------------------------------------------

def test_a_link_in_the_output_folder_never_leads_a_write_outside_it(tmp_path: Path) -> None:
    """A link planted at an output's name, or at the temporary name litmine used to write it
    under, is replaced: the file it points to is never written."""
    import os

    out, outside = tmp_path / "out", tmp_path / "outside.csv"
    out.mkdir()
    outside.write_text("untouched")
    (out / "claims.csv").symlink_to(outside)
    (out / f".evidence.csv.{os.getpid()}.tmp").symlink_to(outside)
    write_csv(out / "claims.csv", ["a"], [{"a": "1"}])
    write_csv(out / "evidence.csv", ["a"], [{"a": "2"}])
    assert outside.read_text() == "untouched"
    assert not (out / "claims.csv").is_symlink() and (out / "claims.csv").read_text() == "a\n1\n"
    assert (out / "evidence.csv").read_text() == "a\n2\n"


PAYLOAD = '<x-p onload="alert(1)">'


def test_the_report_escapes_every_text_it_shows(tmp_path: Path) -> None:
    """Every text that reaches the report from a document, a record or a reference carries a tag:
    none reaches the page as markup."""
    doc = parse_document(f"Notes {PAYLOAD}\n\nChannels {PAYLOAD}\n\nSertraline inhibits Kir4.1 {PAYLOAD} [1]. "
                         f"Trazodone blocks HTR2A {PAYLOAD}.\n", f"note{PAYLOAD}.txt")
    sentence, other = (s for s in doc.sentences if s.kind == "prose")

    def mention(text: str, type_: str) -> Mention:
        start = sentence.text.index(text) if text in sentence.text else 0
        return Mention(start, start + len(text), text, type_ + PAYLOAD, f"ID:{PAYLOAD}", f"name {PAYLOAD}")

    relation = Relation(mention("Sertraline", "Chemical"), "inhibits", mention("Kir4.1", "Gene"), sentence.text, 0)
    record = Record(uid=f"local:{PAYLOAD}", title=f"Title {PAYLOAD}", journal=f"Journal {PAYLOAD}", year=2015,
                    abstract=f"Sertraline inhibited Kir4.1 {PAYLOAD}.", publication_types=[f"Review {PAYLOAD}"])
    claims = [Claim(doc.name, f"{doc.name}:{s.index}:0", s, relation) for s in (sentence, other)]
    evidence = EvidenceItem(claims[0].claim_id, record, "supports", relation, sentence=f"Evidence {PAYLOAD}")
    results = [ClaimResult(claims[0], "supported", 1, 0, 1, [evidence], f"note {PAYLOAD}"),
               ClaimResult(claims[1], "not_checked", 0, 0, 0, [], f"note {PAYLOAD}")]
    references = [ResolvedReference(doc.name, "1", f"Smith J. {PAYLOAD}", None, f"PMC1{PAYLOAD}",
                                    f"10.1/{PAYLOAD}", "doi", "unavailable", f"offline: {PAYLOAD}")]
    changes = [Change(doc.name, claims[0].claim_id, sentence.text, CHANGES[0], "no_evidence", "supported",
                      f"detail {PAYLOAD}")]
    page = write_report(tmp_path / "out", [doc], results, references, changes).read_text()
    assert "<x-p" not in page and 'onload="' not in page
    assert page.count("&lt;x-p onload=&#34;alert(1)&#34;&gt;") >= 10
