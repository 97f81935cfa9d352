"""litmine's NCBI E-utilities client, over Biopython's ``Bio.Entrez``.

Why the pieces are there:

* **Base URL, rate and timeout.** ``pipeline.records.routing`` points Bio.Entrez's
  requests at ``Settings.eutils_url`` through the machine-wide rate limiter.
* **Retries.** Biopython retries 429/5xx at once with a fixed sleep and limits
  the rate per process only, so ``Bio.Entrez.max_tries`` is set to 1 and this
  module retries instead, within a time budget (``pipeline.records.retries``):
  429, 5xx, timeouts, refused or dropped connections, incomplete reads,
  truncated or non-XML replies and NCBI's transient ``<ERROR>Search Backend
  failed``. Every attempt passes the shared bucket. Anything else (HTTP 400,
  414, an NCBI error, a reply Biopython rejects) fails that request at once with
  an EntrezError, which callers turn into that item's ``unavailable`` reason.
* **Offline.** An explicit setting keeps the client offline. A fault that
  outlasts a request's whole budget (NCBI out of reach for minutes) takes it
  offline for one more budget's time, so the rest of a run does not wait a
  budget per request; after that, the next request tries once and a success
  brings it back. Offline, everything comes from the store, and what is not
  there is reported unavailable with a reason, never dropped.
* **Secrets.** The API key is passed per request, never logged; URLs and error
  texts are masked before they reach a log or an exception, and no exception
  raised inside a request leaves it with its original (unmasked) cause.
"""
from __future__ import annotations

import http.client
import io
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.error import HTTPError, URLError

from Bio import Entrez
from Bio.Entrez.Parser import CorruptedXMLError, NotXMLError

from pipeline import safexml
from pipeline.config import Settings
from pipeline.datatypes import Record
from pipeline.records.pubmed import TruncatedXMLError, parse_pubmed_xml
from pipeline.records.ratelimit import limiter_for
from pipeline.records.retries import Backoff
from pipeline.records.routing import Route, install, mask, route
from pipeline.records.store import Store, now_iso

log = logging.getLogger("litmine.entrez")

BATCH = 200  # ids per efetch/esummary/elink request, as NCBI recommends
HISTORY_PAGE = 500  # records per efetch page from the history server
# NCBI <ERROR> texts that mean "try again": its search backend timing out or restarting
_TRANSIENT_NCBI = re.compile(r"search backend failed|temporarily unavailable|try again later", re.I)
_PMID = re.compile(r"^[1-9]\d{0,9}$")
_NO_MATCH = ("NOT_FOUND", "AMBIGUOUS")  # ecitmatch's answers for a citation it matches to no single PMID
MISS_DAYS = 30  # a citation PubMed matched to nothing is asked again after this long: it may be indexed since
# Why a requested PMID is missing when NCBI was asked and answered: efetch leaves out a PMID it
# does not have (HTTP 200, an empty PubmedArticleSet), or the id cannot be one.
NOT_IN_PUBMED, NOT_A_PMID = "not found in PubMed", "not a PMID"
T = TypeVar("T")


class EntrezError(RuntimeError):
    """NCBI gave an error that retrying will not fix."""


class Unreachable(EntrezError):
    """NCBI is out of reach (offline, or a fault outlasted the retry budget)."""


class _Transient(Exception):
    """A failed try worth another: the reason (masked) and the server's Retry-After."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


def failure_reason(exc: EntrezError) -> str:
    """What an item that could not be had says about it (the `unavailable` reason)."""
    return f"unreachable: {exc}" if isinstance(exc, Unreachable) else f"error: {exc}"


def is_failure(reason: str) -> bool:
    """Whether an `unavailable` reason is a fault's (failure_reason's), not PubMed's answer or offline mode."""
    return reason.startswith(("unreachable: ", "error: "))


@dataclass
class FetchResult:
    records: dict[str, Record]  # PMID -> Record, from the store or fetched
    unavailable: dict[str, str] = field(default_factory=dict)  # requested id -> why it is missing
    fetched: int = 0
    from_store: int = 0

    @property
    def failures(self) -> dict[str, str]:
        """The unavailable ids that PubMed may well have: those lost to a fault or an offline client."""
        return {p: why for p, why in self.unavailable.items() if why not in (NOT_IN_PUBMED, NOT_A_PMID)}


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
    return max(seconds, 0.0)


def _read_xml(data: bytes, what: str) -> Any:
    """Bio.Entrez.read over a response; partial or non-XML replies and NCBI's transient
    <ERROR>s are retryable, other NCBI <ERROR>s are not."""
    try:
        safexml.check(data)  # Biopython would expand what the prolog declares
        return Entrez.read(io.BytesIO(data), validate=False)
    except (CorruptedXMLError, NotXMLError) as exc:
        raise TruncatedXMLError(f"{what}: {exc}") from exc
    except RuntimeError as exc:
        if _TRANSIENT_NCBI.search(str(exc)):
            raise _Transient(f"{what}: NCBI says: {exc}") from None
        raise EntrezError(f"{what}: NCBI says: {exc}") from exc


def _history_set(data: bytes) -> tuple[str, str]:
    """epost's reply: the history server's WebEnv and query key."""
    posted = _read_xml(data, "epost")
    return posted["WebEnv"], posted["QueryKey"]


def _citation_answers(data: bytes, ask: list[str], what: str) -> dict[str, str]:
    """ecitmatch's reply, one line per citation echoing its key's index: citation key -> PMID, or ""
    for NCBI's NOT_FOUND / AMBIGUOUS. A reply answering none (an error page) is retried."""
    answers = {}
    for line in data.decode("utf-8", "replace").splitlines():
        parts = line.strip().split("|")
        if len(parts) >= 7 and parts[5].isdigit() and int(parts[5]) < len(ask):
            answer = parts[6].strip()
            if _PMID.match(answer):
                answers[ask[int(parts[5])]] = answer
            elif answer.upper().startswith(_NO_MATCH):  # anything else answers nothing: never a cached miss
                answers[ask[int(parts[5])]] = ""
    if not answers:
        raise _Transient(f"{what}: the reply answers none of the citations")
    return answers


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


def _unique(ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(str(i).strip() for i in ids if str(i).strip()))


# ----------------------------------------------------------------- client


class EntrezClient:
    """Cache-first access to PubMed through Bio.Entrez, polite to NCBI and honest offline."""

    def __init__(self, settings: Settings, store: Store | None = None, offline: bool | None = None,
                 backoff: Backoff | None = None, timeout: float = 60.0):
        self.settings = settings
        self.store = store
        self.explicitly_offline: bool = settings.offline if offline is None else offline
        self.backoff = backoff or Backoff(budget=settings.retry_budget)
        self.outage = ""  # why NCBI is out of reach, after a fault outlasted a request's budget
        self._retry_at = 0.0  # backoff.clock() time from which a request tries again after an outage
        self.limiter = limiter_for(settings)
        self._route = Route(settings.eutils_url, self.limiter, timeout, settings.ncbi_api_key)
        install()

    @property
    def offline(self) -> bool:
        """Explicitly offline, or within an outage's wait (see the module docstring)."""
        return self.explicitly_offline or (bool(self.outage) and self.backoff.clock() < self._retry_at)

    @property
    def offline_reason(self) -> str:
        return "offline" if self.explicitly_offline or not self.outage else f"unreachable: {self.outage}"

    # -- plumbing ------------------------------------------------------
    def _params(self) -> dict[str, str | None]:
        """Identity sent with every request (Biopython drops empty values)."""
        return {"tool": self.settings.ncbi_tool or "litmine", "email": self.settings.ncbi_email or None,
                "api_key": self.settings.ncbi_api_key or None}

    def _mask(self, text: str) -> str:
        return mask(text, self.settings.ncbi_api_key)

    def _request(self, what: str, call: Callable[[], Any], parse: Callable[[bytes], T]) -> T:
        """One E-utility call, retried within the budget; the parsed, validated response.

        After an outage the first request tries once: the budget was spent on the outage already."""
        if self.offline:
            raise Unreachable(f"{what}: {self.offline_reason}")
        started = self.backoff.clock()
        deadline = started if self.outage else started + self.backoff.budget
        attempt = 0
        while True:
            attempt += 1
            try:
                result = self._try(what, call, parse)
            except _Transient as exc:
                last = exc
            else:
                if self.outage:
                    log.warning("NCBI answers again after: %s", self.outage)
                    self.outage = ""
                return result
            delay = self.backoff.next_delay(attempt, last.retry_after, deadline)
            if delay is None:
                break
            log.warning("%s: %s; retry %d in %.2f s", what, last, attempt, delay)
            self.backoff.sleep(delay)
        self.outage = (f"gave up after {attempt} {'try' if attempt == 1 else 'tries'} in "
                       f"{self.backoff.clock() - started:.0f} s, last: {last}")
        self._retry_at = self.backoff.clock() + self.backoff.budget
        log.warning("NCBI out of reach, working offline for %.0f s: %s", self.backoff.budget, self.outage)
        raise Unreachable(f"{what}: {self.outage}")

    def _try(self, what: str, call: Callable[[], Any], parse: Callable[[bytes], T]) -> T:
        """One try: the parsed response, a _Transient to retry, or an EntrezError; every message masked
        and no exception chained to one that is not (a urllib error's text may hold the request URL)."""
        token = route.set(self._route)
        try:
            handle = call()
            try:
                data = handle.read()
            finally:
                handle.close()
            return parse(data.encode() if isinstance(data, str) else data)
        except HTTPError as exc:
            exc.close()
            if exc.code == 429 or exc.code >= 500:
                raise _Transient(self._mask(f"HTTP {exc.code} {exc.reason}"), _retry_after(exc)) from None
            raise EntrezError(self._mask(f"{what}: HTTP {exc.code} {exc.reason}")) from None
        except URLError as exc:  # refused, DNS, TLS (an OSError): a hiccup until it outlasts the budget
            if not isinstance(exc.reason, OSError):  # "unknown url type", "no host given"
                raise EntrezError(self._mask(f"{what}: {exc.reason}")) from None
            reason = "timed out" if isinstance(exc.reason, TimeoutError) else \
                f"cannot connect to {self.settings.eutils_url}: {exc.reason}"
            raise _Transient(self._mask(reason)) from None
        except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, IncompleteRead
            reason = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
            raise _Transient(self._mask(reason)) from None
        except (TruncatedXMLError, _Transient) as exc:
            raise _Transient(self._mask(str(exc))) from None
        except EntrezError as exc:
            raise EntrezError(self._mask(str(exc))) from None
        except Exception as exc:  # a reply Biopython or litmine rejects, or a request urllib cannot make
            raise EntrezError(self._mask(f"{what}: {type(exc).__name__}: {exc}")) from None
        finally:
            route.reset(token)

    # -- E-utilities ---------------------------------------------------
    def esearch(self, term: str, retmax: int = 20, db: str = "pubmed", sort: str = "relevance",
                added_since: str | None = None) -> list[str]:
        """Ids matching an Entrez query, best first: PubMed's own order is newest first, so
        the default asks for its relevance ranking ("" keeps NCBI's default). `added_since`
        ("2026/12/01") keeps to what PubMed added (its Entrez date) since that day."""
        options = {"sort": sort} if sort else {}
        if added_since:
            options |= {"datetype": "edat", "mindate": added_since, "maxdate": "3000"}
        return self._request(f"esearch {db}", lambda: Entrez.esearch(
            db=db, term=term, retmax=retmax, **options, **self._params()),
            lambda d: [str(i) for i in _read_xml(d, f"esearch {db}")["IdList"]])

    def esummary(self, ids: Sequence[str], db: str = "pubmed") -> list[dict]:
        """Document summaries (Biopython's dicts), BATCH ids per request."""
        summaries: list[dict] = []
        for chunk in _chunks(_unique(ids), BATCH):
            summaries += self._request(f"esummary {db} ({len(chunk)} ids)", lambda c=chunk: Entrez.esummary(
                db=db, id=",".join(c), **self._params()),
                lambda d: [dict(item) for item in _read_xml(d, f"esummary {db}")])
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
        """An id conversion through esearch, cached in the store; raises EntrezError when NCBI
        could not answer.

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
        if self.offline:
            return None
        ids = self.esearch(term, retmax=2)
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
        Only NCBI's answers are cached, a miss (NOT_FOUND, AMBIGUOUS) for MISS_DAYS when online: a
        reply that leaves a citation unanswered, or answers it with anything else, raises
        EntrezError (after caching the rest), one that answers none is retried.
        """
        fields = ("journal_title", "year", "volume", "first_page", "author_name")
        keys = ["|".join(c.get(f, "").replace("|", " ").strip().lower() for f in fields) for c in citations]
        found: dict[str, str] = {}
        if self.store is not None:
            misses_since = None if self.offline else (datetime.now(timezone.utc) - timedelta(days=MISS_DAYS))
            for key in keys:
                cached = self.store.recall_id("citation", key, misses_since)
                if cached is not None:
                    found[key] = cached
        ask = list(dict.fromkeys(k for k in keys if k not in found))
        if ask and not self.offline:
            # pre-formatted: Biopython drops tool/email/api_key when bdata is a list of dicts
            bdata = "\r".join(f"{key}|{i}|" for i, key in enumerate(ask))
            what = f"ecitmatch ({len(ask)} citations)"
            answers = self._request(what, lambda: Entrez.ecitmatch(db="pubmed", bdata=bdata, **self._params()),
                                    lambda d: _citation_answers(d, ask, what))
            for key, pmid in answers.items():
                found[key] = pmid
                if self.store is not None:
                    self.store.remember_id("citation", key, pmid)
            if len(answers) < len(ask):
                raise EntrezError(f"{what}: NCBI's reply left {len(ask) - len(answers)} unanswered")
        return [found.get(key) or None for key in keys]

    # -- PubMed records ------------------------------------------------
    def _efetch_xml(self, what: str, **params: Any) -> tuple[list[Record], dict[str, str]]:
        """A batch's records, and the PMIDs of those PubMed sent but litmine could not read, with why."""
        def parse(data: bytes) -> tuple[list[Record], dict[str, str]]:
            rejected: dict[str, str] = {}
            return parse_pubmed_xml(data, source="pubmed", rejected=rejected), rejected

        return self._request(what, lambda: Entrez.efetch(db="pubmed", retmode="xml", **params, **self._params()),
                             parse)

    def _fetch(self, pmids: list[str]) -> tuple[dict[str, Record], dict[str, str]]:
        """Fetch, validate and store PubMed records; those that did not come with the reason.

        Each response is parsed in full before any of it is stored, so a cut
        response never leaves half a batch behind. Up to BATCH ids go in one
        request; more are posted once (epost) and paged from the history server.
        """
        records: dict[str, Record] = {}
        rejected: dict[str, str] = {}
        failure = ""
        try:
            for batch, bad in self._batches(pmids):
                rejected.update({pmid: self._mask(f"error: {why}") for pmid, why in bad.items()})
                fetched_at = now_iso()
                for record in batch:
                    record.fetched_at = fetched_at
                if self.store is not None:
                    self.store.upsert_records(batch)
                records.update({r.pmid: r for r in batch if r.pmid})
        except EntrezError as exc:
            failure = failure_reason(exc)
        missing = {p: failure or rejected.get(p, NOT_IN_PUBMED) for p in pmids if p not in records}
        if rejected:
            log.warning("%d records PubMed sent could not be read: %s", len(rejected), "; ".join(rejected.values()))
        if missing and not failure:
            log.info("%d PMIDs not found in PubMed: %s", len(missing), ", ".join(list(missing)[:20]))
        return {p: records[p] for p in pmids if p in records}, missing

    def _batches(self, pmids: list[str]) -> Iterator[tuple[list[Record], dict[str, str]]]:
        if len(pmids) <= BATCH:
            yield self._efetch_xml(f"efetch pubmed ({len(pmids)} ids)", id=",".join(pmids))
            return
        webenv, query_key = self._request(f"epost pubmed ({len(pmids)} ids)", lambda: Entrez.epost(
            db="pubmed", id=",".join(pmids), **self._params()),
            _history_set)
        for start in range(0, len(pmids), HISTORY_PAGE):
            yield self._efetch_xml(
                f"efetch pubmed (history {start}-{min(start + HISTORY_PAGE, len(pmids))} of {len(pmids)})",
                webenv=webenv, query_key=query_key, retstart=start, retmax=HISTORY_PAGE)

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
