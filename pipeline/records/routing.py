"""How Bio.Entrez's requests reach litmine's E-utilities URL, through its rate limiter.

Biopython 1.88 hard-codes ``https://eutils.ncbi.nlm.nih.gov/
entrez/eutils/<tool>.fcgi`` in every E-utility function and offers no setting
for it. The least invasive hook is the one name ``Bio.Entrez`` looks up for
each HTTP request, its module-level ``urlopen``: litmine wraps it once per
process. The wrapper acts only while an EntrezClient call is running (a
context variable, so per thread) and then rewrites the default base URL to
``Settings.eutils_url``, takes a token from the machine-wide rate limiter
and sets a socket timeout (Biopython sets none). Outside those calls, other
Bio.Entrez users in the process are untouched.

The wrapper logs each request with the API key masked (``mask``), and Bio.Entrez's own
retries are turned off: ``pipeline.records.entrez`` retries within a time budget. A request
that timed out takes a second token when the client gives up on it: it may still reach NCBI and
count there after its token was spent, with the retry close behind it (the fault-injection suite saw
4 requests in one second so, a timed-out request logged by a stalled server next to its retries).
"""
from __future__ import annotations

import logging
import re
import threading
import urllib.error
import urllib.request
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from Bio import Entrez

from pipeline.config import DEFAULT_EUTILS_URL
from pipeline.records.ratelimit import RateLimiter

log = logging.getLogger("litmine.entrez")


@dataclass(frozen=True)
class Route:
    base_url: str
    limiter: RateLimiter
    timeout: float
    api_key: str


route: ContextVar[Route | None] = ContextVar("litmine_entrez_route", default=None)
_original_urlopen = urllib.request.urlopen
_install_lock = threading.Lock()


def mask(text: str, api_key: str = "") -> str:
    """The text with any API key (as a URL parameter or verbatim) replaced by ***."""
    text = re.sub(r"(api_key=)[^&\s'\"]+", r"\1***", text)
    return text.replace(api_key, "***") if api_key else text


def _routed_urlopen(request: Any, *args: Any, **kwargs: Any) -> Any:
    """Bio.Entrez's urlopen: during a client call, redirect, rate-limit and time out."""
    current = route.get()
    if current is None or not isinstance(request, urllib.request.Request):
        return _original_urlopen(request, *args, **kwargs)
    if request.full_url.startswith(DEFAULT_EUTILS_URL):
        request.full_url = current.base_url + request.full_url[len(DEFAULT_EUTILS_URL):]
    current.limiter.acquire()
    log.debug("%s %s", request.get_method(), mask(request.full_url, current.api_key))
    kwargs.setdefault("timeout", current.timeout)
    try:
        return _original_urlopen(request, *args, **kwargs)
    except (TimeoutError, urllib.error.URLError) as error:
        if isinstance(error, TimeoutError) or isinstance(getattr(error, "reason", None), TimeoutError):
            current.limiter.acquire()  # it may yet arrive and count: a second token, from when it was given up
        raise


def install() -> None:
    """Hook Bio.Entrez once per process and hand retries to litmine."""
    with _install_lock:
        if Entrez.urlopen is not _routed_urlopen:
            Entrez.urlopen = _routed_urlopen
        Entrez.max_tries = 1
