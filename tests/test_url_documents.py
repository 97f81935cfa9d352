"""URL documents within limits (pipeline.documents.web): a size cap, one deadline for the whole
fetch, the content types litmine reads, and public addresses only, redirects included.

The pages are served on 127.0.0.1, which litmine refuses by default, so each test says what it
allows: everything private (`allow_private_urls`), or, to test the refusal of private addresses
behind a redirect, this one loopback address alone.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from document_files import make_pdf
from pipeline.config import Settings
from pipeline.documents import web
from pipeline.documents.reading import DocumentError, load_document

PAGE = b"<html><body><h1>Notes</h1><p>Sertraline inhibits Kir4.1 channels [1].</p></body></html>"
LOCAL = Settings(allow_private_urls=True, max_document_mb=1, url_timeout=2)
DRIP_SECONDS = 20  # how long the slow page drips: past the deadline, short of holding a failing test long


class Pages(BaseHTTPRequestHandler):
    pdf = b""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = self.path.split("?")[0]
        if path == "/page.html":
            self._send(200, "text/html; charset=utf-8", PAGE)
        elif path == "/notes.md":
            self._send(200, "text/markdown", b"# Notes\n\nSertraline inhibits Kir4.1 channels.\n")
        elif path == "/paper.pdf":
            self._send(200, "application/octet-stream", self.pdf)
        elif path == "/photo.png":
            self._send(200, "image/png", b"\x89PNG\r\n\x1a\n" + bytes(100))
        elif path == "/declared-huge.txt":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(30 * 2**20))
            self.end_headers()
        elif path == "/endless.txt":  # no length: it just keeps coming
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self._write_for(b"Sertraline inhibits Kir4.1 channels. " * 1000, seconds=DRIP_SECONDS, pause=0)
        elif path == "/drip.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self._write_for(b"<", seconds=DRIP_SECONDS, pause=0.2)
        elif path.startswith("/redirect/"):
            self.send_response(302)
            scheme, _, rest = path.removeprefix("/redirect/").partition(":/")  # "http:/10.1.2.3/x": one slash
            self.send_header("Location", f"{scheme}://{'/' if scheme == 'file' else ''}{rest}")
            self.end_headers()
        else:
            self._send(404, "text/html", b"<html>Not found</html>")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _write_for(self, chunk: bytes, seconds: float, pause: float) -> None:
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                self.wfile.write(chunk)
                self.wfile.flush()
                time.sleep(pause)
        except OSError:  # the client hung up
            pass
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    Pages.pdf = make_pdf(tmp_path_factory.mktemp("pages") / "paper.pdf",
                         [("title", "Notes"), ("prose", "Sertraline inhibits Kir4.1 channels [1].")]).read_bytes()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture()
def only_this_loopback(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """127.0.0.1 counts as public; every other private address is refused as it is by default."""
    public = web.is_public
    monkeypatch.setattr(web, "is_public", lambda address: address == "127.0.0.1" or public(address))
    return Settings(max_document_mb=1, url_timeout=2)


def test_pages_of_the_formats_litmine_reads(base: str) -> None:
    assert load_document(f"{base}/page.html", settings=LOCAL).sentences[-1].markers == ["1"]
    assert load_document(f"{base}/notes.md", settings=LOCAL).title == "Notes"
    pdf = load_document(f"{base}/paper.pdf", settings=LOCAL)  # a PDF sent as octet-stream, by its name
    assert [s.text for s in pdf.sentences if s.kind == "prose"] == ["Sertraline inhibits Kir4.1 channels [1]."]


def test_other_content_types_are_refused(base: str) -> None:
    with pytest.raises(DocumentError, match=r"photo\.png: unsupported content type image/png; litmine reads text, "
                                            r"HTML, PDF and Word \(\.docx\) pages$"):
        load_document(f"{base}/photo.png", settings=LOCAL)


def test_a_page_larger_than_the_limit_is_refused_said_or_sent(base: str) -> None:
    with pytest.raises(DocumentError, match=r"declared-huge\.txt: too large \(30\.0 MB; the limit is 1 MB"):
        load_document(f"{base}/declared-huge.txt", settings=LOCAL)
    with pytest.raises(DocumentError, match=r"endless\.txt: too large \(more than 1 MB; the limit is 1 MB"):
        load_document(f"{base}/endless.txt", settings=LOCAL)


def test_a_server_dripping_bytes_cannot_hold_the_fetch_past_its_deadline(base: str) -> None:
    """A byte every 0.2 s never trips a read timeout; the deadline (2 s here) ends the fetch."""
    started = time.monotonic()
    with pytest.raises(DocumentError, match=r"drip\.html: cannot fetch: took longer than 2 s \(the limit, "
                                            r"LITMINE_URL_TIMEOUT\)$"):
        load_document(f"{base}/drip.html", settings=LOCAL)
    assert time.monotonic() - started < DRIP_SECONDS / 2


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/page.html", "http://localhost:{port}/page.html",
                                 "http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/",
                                 "http://[::1]:{port}/page.html", "http://0.0.0.0:{port}/page.html"])
def test_private_and_local_addresses_are_refused_by_default(base: str, url: str) -> None:
    url = url.format(port=base.rsplit(":", 1)[1])
    with pytest.raises(DocumentError, match=r"refused: .* is a private or local address; set "
                                            r"LITMINE_ALLOW_PRIVATE_URLS=true to fetch from such addresses$"):
        load_document(url, settings=Settings(url_timeout=2))


@pytest.mark.parametrize("target", ["http:/10.1.2.3/admin", "http:/169.254.169.254/latest/meta-data/",
                                    "http:/127.0.0.2/page.html"])
def test_a_redirect_to_a_private_address_is_refused(base: str, only_this_loopback: Settings, target: str) -> None:
    assert load_document(f"{base}/page.html", settings=only_this_loopback).title == "Notes"
    with pytest.raises(DocumentError, match=r"refused: [\d.]+ is a private or local address"):
        load_document(f"{base}/redirect/{target}", settings=only_this_loopback)


@pytest.mark.parametrize("target, problem", [
    ("file:/etc/passwd", r"Redirection to url 'file:///etc/passwd' is not allowed$"),  # urllib's own refusal
    ("ftp:/10.1.2.3/notes.txt", r"cannot fetch: redirected to a ftp URL$")])  # which urllib would follow
def test_a_redirect_to_anything_but_http_is_refused(base: str, target: str, problem: str) -> None:
    with pytest.raises(DocumentError, match=problem):
        load_document(f"{base}/redirect/{target}", settings=LOCAL)


def test_a_url_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.config import ConfigError, load_settings

    settings = load_settings({"LITMINE_ALLOW_PRIVATE_URLS": "yes", "LITMINE_URL_TIMEOUT": "5",
                              "LITMINE_MAX_DOCUMENT_MB": "2.5", "LITMINE_MAX_IMPORT_MB": "100", "HOME": "/nowhere"})
    assert (settings.allow_private_urls, settings.url_timeout, settings.max_document_bytes,
            settings.max_import_bytes) == (True, 5.0, int(2.5 * 2**20), 100 * 2**20)
    with pytest.raises(ConfigError, match="LITMINE_URL_TIMEOUT: url_timeout must be a positive number of seconds"):
        load_settings({"LITMINE_URL_TIMEOUT": "0", "HOME": "/nowhere"})


def test_a_document_file_larger_than_the_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with path.open("wb") as handle:  # sparse: the size is what counts, nothing is read
        handle.truncate(3 * 2**20)
    with pytest.raises(DocumentError, match=r"big\.txt: too large \(3\.0 MB; the limit is 1 MB"):
        load_document(path, settings=Settings(max_document_mb=1))
