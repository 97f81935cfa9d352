"""litmine's NCBI E-utilities client, over Biopython's ``Bio.Entrez``.

Why the pieces are there:

* **Base URL.** Biopython 1.88 hard-codes ``https://eutils.ncbi.nlm.nih.gov/
  entrez/eutils/<tool>.fcgi`` in every E-utility function and offers no setting
  for it. The least invasive hook is the one name ``Bio.Entrez`` looks up for
  each HTTP request, its module-level ``urlopen``: litmine wraps it once per
  process. The wrapper acts only while an EntrezClient call is running (a
  context variable, so per thread) and then rewrites the default base URL to
  ``Settings.eutils_url``, takes a token from the machine-wide rate limiter
  and sets a socket timeout (Biopython sets none). Outside those calls, other
  Bio.Entrez users in the process are untouched.
* **Retries.** Biopython retries 429/5xx at once with a fixed sleep and limits
  the rate per process only, so ``Bio.Entrez.max_tries`` is set to 1 and this
  module retries instead: exponential backoff with full jitter on 429, 5xx,
  timeouts, dropped connections, incomplete reads and truncated XML, never
  shorter than the server's Retry-After. Every attempt passes the shared bucket.
* **Offline.** An explicit setting, or the first connection failure (or
  exhausted retries) switches the client offline for the rest of its life:
  everything then comes from the store, and what is not there is reported
  unavailable with a reason, never dropped.
* **Secrets.** The API key is passed per request, never logged; URLs and error
  texts are masked before they reach a log or an exception.
"""
from __future__ import annotations

import http.client
import io
import logging
import random
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.error import HTTPError, URLError

from Bio import Entrez
from Bio.Entrez.Parser import CorruptedXMLError, NotXMLError

from pipeline.config import DEFAULT_EUTILS_URL, Settings
from pipeline.datatypes import Record
from pipeline.records.pubmed import TruncatedXMLError, parse_pubmed_xml
from pipeline.records.ratelimit import RateLimiter, limiter_for
from pipeline.records.store import Store, now_iso

log = logging.getLogger("litmine.entrez")

BATCH = 200  # ids per efetch/esummary/elink request, as NCBI recommends
HISTORY_PAGE = 500  # records per efetch page from the history server
MAX_BACKOFF = 30.0  # seconds: the cap of one backoff sleep
MAX_RETRY_AFTER = 60.0  # seconds: longer Retry-After values are cut to this
_PMID = re.compile(r"^[1-9]\d{0,9}$")
# Why a requested PMID is missing when NCBI was asked and answered: efetch leaves out a PMID it
# does not have (HTTP 200, an empty PubmedArticleSet), or the id cannot be one.
NOT_IN_PUBMED, NOT_A_PMID = "not found in PubMed", "not a PMID"
T = TypeVar("T")


class EntrezError(RuntimeError):
    """NCBI gave an error that retrying will not fix."""


class Unreachable(EntrezError):
    """NCBI cannot be reached (network down, or retries exhausted); the client is now offline."""


@dataclass
class FetchResult:
    records: dict[str, Record]  # PMID -> Record, from the store or fetched
    unavailable: dict[str, str] = field(default_factory=dict)  # requested id -> why it is missing
    fetched: int = 0
    from_store: int = 0


# ----------------------------------------------------------------- routing


@dataclass(frozen=True)
class _Route:
    base_url: str
    limiter: RateLimiter
    timeout: float
    api_key: str


_route: ContextVar[_Route | None] = ContextVar("litmine_entrez_route", default=None)
_original_urlopen = urllib.request.urlopen
_install_lock = threading.Lock()


def mask(text: str, api_key: str = "") -> str:
    """The text with any API key (as a URL parameter or verbatim) replaced by ***."""
    text = re.sub(r"(api_key=)[^&\s'\"]+", r"\1***", text)
    return text.replace(api_key, "***") if api_key else text


def _routed_urlopen(request: Any, *args: Any, **kwargs: Any) -> Any:
    """Bio.Entrez's urlopen: during a client call, redirect, rate-limit and time out."""
    route = _route.get()
    if route is None or not isinstance(request, urllib.request.Request):
        return _original_urlopen(request, *args, **kwargs)
    if request.full_url.startswith(DEFAULT_EUTILS_URL):
        request.full_url = route.base_url + request.full_url[len(DEFAULT_EUTILS_URL):]
    route.limiter.acquire()
    log.debug("%s %s", request.get_method(), mask(request.full_url, route.api_key))
    kwargs.setdefault("timeout", route.timeout)
    return _original_urlopen(request, *args, **kwargs)


def _install() -> None:
    """Hook Bio.Entrez once per process and hand retries to litmine."""
    with _install_lock:
        if Entrez.urlopen is not _routed_urlopen:
            Entrez.urlopen = _routed_urlopen
        Entrez.max_tries = 1


# ----------------------------------------------------------------- helpers


def _retry_after(exc: HTTPError) -> float | None:
    value = exc.headers.get("Retry-After") if exc.headers else None
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _read_xml(data: bytes, what: str) -> Any:
    """Bio.Entrez.read over a response; partial XML is retryable, NCBI <ERROR>s are not."""
    try:
        return Entrez.read(io.BytesIO(data), validate=False)
    except (CorruptedXMLError, NotXMLError) as exc:
        raise TruncatedXMLError(f"{what}: {exc}") from exc
    except RuntimeError as exc:
        raise EntrezError(f"{what}: NCBI says: {exc}") from exc


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


def _unique(ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(str(i).strip() for i in ids if str(i).strip()))


# ----------------------------------------------------------------- client


class EntrezClient:
    """Cache-first access to PubMed through Bio.Entrez, polite to NCBI and honest offline."""

    def __init__(self, settings: Settings, store: Store | None = None, offline: bool | None = None,
                 backoff_base: float = 0.5, max_tries: int = 6, timeout: float = 60.0):
        self.settings = settings
        self.store = store
        self.offline: bool = settings.offline if offline is None else offline
        self.offline_reason = "offline"
        self.backoff_base = backoff_base
        self.max_tries = max_tries
        self.limiter = limiter_for(settings)
        self._route = _Route(settings.eutils_url, self.limiter, timeout, settings.ncbi_api_key)
        _install()

    # -- plumbing ------------------------------------------------------
    def _params(self) -> dict[str, str | None]:
        """Identity sent with every request (Biopython drops empty values)."""
        return {"tool": self.settings.ncbi_tool or "litmine", "email": self.settings.ncbi_email or None,
                "api_key": self.settings.ncbi_api_key or None}

    def _mask(self, text: str) -> str:
        return mask(text, self.settings.ncbi_api_key)

    def _go_offline(self, reason: str) -> None:
        if not self.offline:
            log.warning("NCBI unreachable, working offline from here on: %s", reason)
        self.offline = True
        self.offline_reason = f"unreachable: {reason}"

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Full jitter: uniform in [0, base * 2^(attempt-1)], capped, never under Retry-After."""
        delay = random.uniform(0.0, min(MAX_BACKOFF, self.backoff_base * 2 ** (attempt - 1)))
        return max(delay, retry_after or 0.0)

    def _request(self, what: str, call: Callable[[], Any], parse: Callable[[bytes], T]) -> T:
        """One E-utility call with litmine's retries; the parsed, validated response."""
        if self.offline:
            raise Unreachable(f"{what}: {self.offline_reason}")
        last = ""
        for attempt in range(1, self.max_tries + 1):
            retry_after = None
            token = _route.set(self._route)
            try:
                handle = call()
                try:
                    data = handle.read()
                finally:
                    handle.close()
                return parse(data.encode() if isinstance(data, str) else data)
            except HTTPError as exc:
                exc.close()
                if exc.code != 429 and exc.code < 500:
                    raise EntrezError(self._mask(f"{what}: HTTP {exc.code} {exc.reason}")) from None
                retry_after = _retry_after(exc)
                last = f"HTTP {exc.code} {exc.reason}"
            except URLError as exc:
                if not isinstance(exc.reason, TimeoutError):
                    reason = self._mask(f"cannot connect to {self.settings.eutils_url}: {exc.reason}")
                    self._go_offline(reason)
                    raise Unreachable(f"{what}: {reason}") from None
                last = "timed out"
            except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, IncompleteRead, TLS
                last = f"{type(exc).__name__}: {exc}" if not isinstance(exc, TimeoutError) else "timed out"
            except TruncatedXMLError as exc:
                last = str(exc)
            finally:
                _route.reset(token)
            last = self._mask(last)
            if attempt < self.max_tries:
                delay = self._backoff(attempt, retry_after)
                log.warning("%s: %s; retry %d/%d in %.2f s", what, last, attempt, self.max_tries - 1, delay)
                time.sleep(delay)
        reason = f"gave up after {self.max_tries} tries, last: {last}"
        self._go_offline(reason)
        raise Unreachable(f"{what}: {reason}")

    # -- E-utilities ---------------------------------------------------
    def esearch(self, term: str, retmax: int = 20, db: str = "pubmed", sort: str = "relevance") -> list[str]:
        """Ids matching an Entrez query, best first: PubMed's own order is newest first, so
        the default asks for its relevance ranking ("" keeps NCBI's default)."""
        options = {"sort": sort} if sort else {}
        result = self._request(f"esearch {db}", lambda: Entrez.esearch(
            db=db, term=term, retmax=retmax, **options, **self._params()), lambda d: _read_xml(d, f"esearch {db}"))
        return [str(i) for i in result["IdList"]]

    def esummary(self, ids: Sequence[str], db: str = "pubmed") -> list[dict]:
        """Document summaries (Biopython's dicts), BATCH ids per request."""
        summaries: list[dict] = []
        for chunk in _chunks(_unique(ids), BATCH):
            result = self._request(f"esummary {db} ({len(chunk)} ids)", lambda c=chunk: Entrez.esummary(
                db=db, id=",".join(c), **self._params()), lambda d: _read_xml(d, f"esummary {db}"))
            summaries.extend(dict(item) for item in result)
        return summaries

    def elink_pmc(self, pmids: Sequence[str]) -> dict[str, str]:
        """PMID -> PMCID for the articles PMC holds; the store's known PMCIDs first."""
        wanted = _unique(pmids)
        links: dict[str, str] = {}
        if self.store is not None:
            links = {p: r.pmcid for p, r in self.store.get_many(wanted).items() if r.pmcid}
        for chunk in _chunks([p for p in wanted if p not in links], BATCH):
            # one id parameter per PMID, so NCBI answers one LinkSet per PMID
            linksets = self._request(f"elink pubmed->pmc ({len(chunk)} ids)", lambda c=chunk: Entrez.elink(
                dbfrom="pubmed", db="pmc", linkname="pubmed_pmc", id=c, **self._params()),
                lambda d: _read_xml(d, "elink"))
            for linkset in linksets:
                source = [str(i) for i in linkset.get("IdList", [])]
                targets = [str(link["Id"]) for db in linkset.get("LinkSetDb", [])
                           if db.get("LinkName") == "pubmed_pmc" for link in db.get("Link", [])]
                if len(source) == 1 and targets:
                    links[source[0]] = "PMC" + targets[0].upper().removeprefix("PMC")
        return links

    def _convert(self, kind: str, key: str, term: str) -> str | None:
        """An id conversion through esearch, cached in the store.

        None means no PMID is known; with ``self.offline`` set it means NCBI could not be asked.
        """
        if self.store is not None:
            cached = self.store.recall_id(kind, key)
            if cached is not None:
                return cached or None
            record = self.store.get_by_pmcid(key) if kind == "pmcid" else self.store.get_by_doi(key)
            if record is not None and record.pmid:
                self.store.remember_id(kind, key, record.pmid)
                return record.pmid
        try:
            ids = self.esearch(term, retmax=2)
        except Unreachable:
            return None
        if len(ids) > 1:
            log.warning("%s %s matches several PubMed records %s; not using any", kind, key, ids)
        pmid = ids[0] if len(ids) == 1 else ""
        if self.store is not None:
            self.store.remember_id(kind, key, pmid)
        return pmid or None

    def pmcid_to_pmid(self, pmcid: str) -> str | None:
        """The PMID of a PMC article (cached; known ids work offline)."""
        key = pmcid.strip().upper()
        key = key if key.startswith("PMC") else f"PMC{key}"
        return self._convert("pmcid", key, f"{key}[pmcid]")

    def doi_to_pmid(self, doi: str) -> str | None:
        """The PMID of a DOI (cached; known DOIs work offline)."""
        key = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", doi.strip(), flags=re.I).lower()
        return self._convert("doi", key, f'"{key}"[doi]')

    def ecitmatch(self, citations: Sequence[dict[str, str]]) -> list[str | None]:
        """PMIDs for citations (journal_title, year, volume, first_page, author_name), cached.

        None for no match; with ``self.offline`` set it may also mean NCBI could not be asked.
        """
        fields = ("journal_title", "year", "volume", "first_page", "author_name")
        keys = ["|".join(c.get(f, "").replace("|", " ").strip().lower() for f in fields) for c in citations]
        found: dict[str, str] = {}
        if self.store is not None:
            for key in keys:
                cached = self.store.recall_id("citation", key)
                if cached is not None:
                    found[key] = cached
        ask = list(dict.fromkeys(k for k in keys if k not in found))
        if ask and not self.offline:
            # pre-formatted: Biopython drops tool/email/api_key when bdata is a list of dicts
            bdata = "\r".join(f"{key}|{i}|" for i, key in enumerate(ask))
            try:
                text = self._request(f"ecitmatch ({len(ask)} citations)", lambda: Entrez.ecitmatch(
                    db="pubmed", bdata=bdata, **self._params()), lambda d: d.decode("utf-8", "replace"))
            except Unreachable:
                text = None
            if text is not None:
                answers = {}
                for line in text.splitlines():
                    parts = line.strip().split("|")
                    if len(parts) >= 7 and parts[5].isdigit() and int(parts[5]) < len(ask):
                        answers[ask[int(parts[5])]] = parts[6].strip() if _PMID.match(parts[6].strip()) else ""
                for key in ask:
                    found[key] = answers.get(key, "")
                    if self.store is not None:
                        self.store.remember_id("citation", key, found[key])
        return [found.get(key) or None for key in keys]

    # -- PubMed records ------------------------------------------------
    def _efetch_xml(self, what: str, **params: Any) -> list[Record]:
        return self._request(what, lambda: Entrez.efetch(db="pubmed", retmode="xml", **params, **self._params()),
                             lambda d: parse_pubmed_xml(d, source="pubmed"))

    def _fetch(self, pmids: list[str]) -> tuple[dict[str, Record], dict[str, str]]:
        """Fetch, validate and store PubMed records; those that did not come with the reason.

        Each response is parsed in full before any of it is stored, so a cut
        response never leaves half a batch behind. Up to BATCH ids go in one
        request; more are posted once (epost) and paged from the history server.
        """
        records: dict[str, Record] = {}
        failure = ""
        try:
            for batch in self._batches(pmids):
                fetched_at = now_iso()
                for record in batch:
                    record.fetched_at = fetched_at
                if self.store is not None:
                    self.store.upsert_records(batch)
                records.update({r.pmid: r for r in batch if r.pmid})
        except EntrezError as exc:
            failure = f"unreachable: {exc}" if isinstance(exc, Unreachable) else f"error: {exc}"
        missing = {p: failure or NOT_IN_PUBMED for p in pmids if p not in records}
        if missing and not failure:
            log.info("%d PMIDs not found in PubMed: %s", len(missing), ", ".join(list(missing)[:20]))
        return {p: records[p] for p in pmids if p in records}, missing

    def _batches(self, pmids: list[str]) -> Iterator[list[Record]]:
        if len(pmids) <= BATCH:
            yield self._efetch_xml(f"efetch pubmed ({len(pmids)} ids)", id=",".join(pmids))
            return
        posted = self._request(f"epost pubmed ({len(pmids)} ids)", lambda: Entrez.epost(
            db="pubmed", id=",".join(pmids), **self._params()), lambda d: _read_xml(d, "epost"))
        for start in range(0, len(pmids), HISTORY_PAGE):
            yield self._efetch_xml(
                f"efetch pubmed (history {start}-{min(start + HISTORY_PAGE, len(pmids))} of {len(pmids)})",
                webenv=posted["WebEnv"], query_key=posted["QueryKey"], retstart=start, retmax=HISTORY_PAGE)

    def efetch_pubmed(self, pmids: Sequence[str]) -> list[Record]:
        """PubMed records for these PMIDs, fetched now (and stored if there is a store).

        Raises Unreachable/EntrezError if some could not be fetched (after
        storing those that did arrive); ids PubMed does not have are just absent.
        """
        wanted = _unique(pmids)
        if self.offline:
            raise Unreachable(f"efetch pubmed: {self.offline_reason}")
        records, missing = self._fetch(wanted)
        failed = {p: why for p, why in missing.items() if why != NOT_IN_PUBMED}
        if failed:
            error = Unreachable if self.offline else EntrezError
            raise error(f"efetch pubmed: {len(failed)} of {len(wanted)} ids failed: {next(iter(failed.values()))}")
        return list(records.values())

    def fetch_records(self, pmids: Sequence[str], refresh: bool = False) -> FetchResult:
        """Records for PMIDs, cache-first: the store, then NCBI for the rest (all, if refresh).

        Every requested id ends in ``records`` or in ``unavailable`` with a reason.
        """
        wanted = _unique(pmids)
        result = FetchResult(records={})
        valid = []
        for pmid in wanted:
            if _PMID.match(pmid):
                valid.append(pmid)
            else:
                result.unavailable[pmid] = NOT_A_PMID
        stored = self.store.get_many(valid) if self.store is not None else {}
        to_fetch = valid if refresh else [p for p in valid if p not in stored]
        fetched: dict[str, Record] = {}
        missing: dict[str, str] = {}
        if to_fetch and self.offline:
            missing = {p: self.offline_reason for p in to_fetch}
        elif to_fetch:
            fetched, missing = self._fetch(to_fetch)
            if fetched and self.store is not None:
                fetched.update(self.store.get_many(list(fetched)))  # merged with what the store knew
        for pmid in valid:
            if pmid in fetched:
                result.records[pmid] = fetched[pmid]
                result.fetched += 1
            elif pmid in stored and (not refresh or pmid in missing):
                result.records[pmid] = stored[pmid]  # a refresh that failed keeps the stored copy
                result.from_store += 1
            else:
                result.unavailable[pmid] = missing.get(pmid, NOT_IN_PUBMED)
        if result.unavailable:
            log.info("%d of %d records unavailable", len(result.unavailable), len(wanted))
        return result
