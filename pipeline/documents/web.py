"""Fetching a URL document within limits.

A page is fetched on the user's behalf from a link they pasted, so it is held to more than a
file is: at most ``max_document_mb`` bytes (what its Content-Length says, and what arrives);
``url_timeout`` seconds for the whole fetch, redirects and all, so that a server dripping a byte
at a time cannot hold a run (a watchdog shuts the connection at the deadline: a per-read timeout
alone never fires on a drip); a content type litmine reads (text, HTML, PDF, Word); and public
addresses only, each redirect's too, checked where a name resolves and again on the socket once
connected (a name that resolves anew to a private address at connect time is caught there):
a link to a router's admin page, a cloud metadata service (169.254.169.254) or a port on this
machine is refused unless ``allow_private_urls`` is set. With an HTTP proxy set, the proxy
fetches, so only the names are checked.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from pipeline.config import Settings

READ_TIMEOUT = 30.0  # seconds one read may wait, within the whole fetch's deadline
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_TYPES = {"text/html": "html", "application/xhtml+xml": "html", "application/pdf": "pdf", DOCX: "docx"}
_BINARY_SUFFIXES = {".pdf": "pdf", ".docx": "docx"}  # what a server may send as application/octet-stream


class FetchError(ValueError):
    """A page that cannot or may not be fetched; the message says why, the caller names the URL."""


@dataclass
class Page:
    data: bytes
    charset: str  # the declared one, else ""
    fmt: str  # txt, md, tex, html, pdf or docx


def fetch(url: str, formats: dict[str, str], settings: Settings) -> Page:
    """The page at `url` and its format: from its content type, for text by its path's
    extension in `formats` (".md": "md"), else plain text."""
    scheme = urlparse(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(f"cannot fetch: only http and https URLs are read, not {scheme or 'this'}")
    guard = _Guard(settings.allow_private_urls, settings.url_timeout)
    opener = urllib.request.build_opener(_HTTP(guard), _HTTPS(guard), _Redirects(guard))
    request = urllib.request.Request(url, headers={"User-Agent": "litmine"})
    timer = threading.Timer(settings.url_timeout, guard.expire)
    timer.daemon = True
    timer.start()
    try:
        guard.check_host(urlparse(url).hostname or "")
        with opener.open(request, timeout=min(READ_TIMEOUT, settings.url_timeout)) as response:
            content_type = response.headers.get_content_type()
            fmt = _format(content_type, response.geturl(), formats)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > settings.max_document_bytes:
                raise FetchError(_too_large(int(declared), settings))
            data = response.read(settings.max_document_bytes + 1)
            charset = response.headers.get_content_charset() or ""
    except urllib.error.HTTPError as exc:
        exc.close()
        raise FetchError(f"cannot fetch: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        if isinstance(exc, FetchError):
            raise
        if guard.expired:
            raise FetchError(_late(settings)) from None
        reason = getattr(exc, "reason", None) or exc
        raise (reason if isinstance(reason, FetchError) else FetchError(f"cannot fetch: {reason}")) from None
    finally:
        timer.cancel()
    if guard.expired:
        raise FetchError(_late(settings))
    if len(data) > settings.max_document_bytes:
        raise FetchError(_too_large(None, settings))
    return Page(data, charset, fmt)


def _format(content_type: str, url: str, formats: dict[str, str]) -> str:
    suffix = Path(urlparse(url).path).suffix.lower()
    if content_type in _TYPES:
        return _TYPES[content_type]
    if content_type.startswith("text/"):
        fmt = formats.get(suffix, "txt")
        return fmt if fmt not in _BINARY_SUFFIXES.values() else "txt"
    if content_type in ("application/octet-stream", "binary/octet-stream") and suffix in _BINARY_SUFFIXES:
        return _BINARY_SUFFIXES[suffix]
    raise FetchError(f"unsupported content type {content_type}; litmine reads text, HTML, PDF and Word (.docx) pages")


def _too_large(size: int | None, settings: Settings) -> str:
    what = f"{size / 2**20:.1f} MB" if size is not None else f"more than {settings.max_document_mb:g} MB"
    return f"too large ({what}; the limit is {settings.max_document_mb:g} MB, LITMINE_MAX_DOCUMENT_MB)"


def _late(settings: Settings) -> str:
    return f"cannot fetch: took longer than {settings.url_timeout:g} s (the limit, LITMINE_URL_TIMEOUT)"


def is_public(address: str) -> bool:
    """Whether an IP address is one of the public internet's (an IPv4 one mapped into IPv6 as itself)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global


@dataclass
class _Guard:
    """One fetch's limits, watched on every connection it opens, redirects included."""

    allow_private: bool
    seconds: float
    expired: bool = False
    sockets: list[socket.socket] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check_host(self, host: str) -> None:
        """Refuse a host any of whose addresses is not public."""
        if self.allow_private or not host:
            return
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)}
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(f"cannot fetch: {host}: {getattr(exc, 'strerror', None) or exc}") from None
        for address in sorted(addresses):
            if not is_public(address):
                raise FetchError(_private(host, address))

    def connected(self, sock: socket.socket, proxied: bool) -> None:
        """Watch a new connection; refuse it where it reached a private address."""
        with self.lock:
            self.sockets.append(sock)
            expired = self.expired
        if expired:
            sock.close()
            raise FetchError(f"cannot fetch: took longer than {self.seconds:g} s (the limit, LITMINE_URL_TIMEOUT)")
        address = sock.getpeername()[0]
        if not (self.allow_private or proxied or is_public(address)):
            sock.close()
            raise FetchError(_private(address, address))

    def expire(self) -> None:
        """The deadline: every connection is shut, so a read blocked on a dripping server returns."""
        with self.lock:
            self.expired = True
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def connection(self, base: type) -> type:
        """`base` (HTTPConnection or HTTPSConnection) reporting each connection it opens to this guard."""
        guard = self

        class Connection(base):  # type: ignore[misc, valid-type]
            def connect(self) -> None:
                super().connect()
                guard.connected(self.sock, proxied=bool(getattr(self, "_tunnel_host", None)) or _proxy_set())

        return Connection


class _HTTP(urllib.request.HTTPHandler):
    def __init__(self, guard: _Guard) -> None:
        super().__init__()
        self.connection = guard.connection(http.client.HTTPConnection)

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self.connection, req)


class _HTTPS(urllib.request.HTTPSHandler):
    def __init__(self, guard: _Guard) -> None:
        super().__init__()
        self.connection = guard.connection(http.client.HTTPSConnection)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self.connection, req, context=self._context)


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http(s) URLs on public hosts only."""

    def __init__(self, guard: _Guard) -> None:
        self.guard = guard

    def redirect_request(self, req: urllib.request.Request, fp, code: int, msg: str, headers,
                         newurl: str) -> urllib.request.Request | None:
        target = urlparse(newurl)
        if target.scheme.lower() not in ("http", "https"):
            raise FetchError(f"cannot fetch: redirected to a {target.scheme or 'relative'} URL")
        self.guard.check_host(target.hostname or "")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _proxy_set() -> bool:
    proxies = urllib.request.getproxies()
    return bool(proxies.get("http") or proxies.get("https"))


def _private(host: str, address: str) -> str:
    where = host if host == address else f"{host} ({address})"
    return (f"refused: {where} is a private or local address; set LITMINE_ALLOW_PRIVATE_URLS=true "
            "to fetch from such addresses")
