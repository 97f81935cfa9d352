"""Precision and recall of the reference check's `mismatch` and `not_found` on perturbed references.

A bibliography is built from real titles (BC5CDR's, in ../shared/corpora), each with a made-up
first author, year, journal, volume and pages. Each title is cited once, perturbed the way people
mis-cite, and resolved by litmine's own resolver and E-utilities client against the fake server of
tests/fake_eutils.py, which serves the bibliography as PubMed records and answers any other PMID
or DOI as NCBI does (not there). Gold labels:

- ok (the reference names its record): as written; typos in the title; a title cut short; the
  year off by one; the first author without initials; the title in lower case;
- mismatch: the PMID of another record under the citation (swapped_id); another record's PMID
  under a citation with that record's first author and year, so only the title tells
  (swapped_title); a year 2-10 years off; another first author;
- not_found: a PMID or a DOI that no record has (fabricated);
- unavailable: references (of the ok and fabricated kinds) resolved while NCBI is out of reach.

TITLE_MATCH is chosen on the dev seed (BC5CDR development titles): the sweep is printed, the
value taken is the highest F1 with precision at least 0.95 (the middle of a plateau). Figures
are reported on the test seed (BC5CDR test titles), which is never tuned on.

Title search: each title is cited once more as free text, without PMID or DOI, so ECitMatch
(which the fake answers with no match) is followed by the title search. Gold: the entry's PMID
for a reference as written, with typos, cut short, the year off by one or 2-10 years off, the
author without initials or the title in lower case; not_found for a fabricated one: a real title
of the BC5CDR training set, which the fake does not hold, under a made-up author and year
(invented), or the first half of the entry's title joined to the second half of another's under
the entry's own author and year (chimera). TITLE_FOUND is chosen on the dev seed's candidates
(what PubMed's search offers each reference) the same way, by the F1 of finding the right PMID.
On the test seed, a tenth are resolved with NCBI out of reach and must be unavailable; reported
are precision and recall of finding the right PMID, and of not_found, live (through the fake
server) and offline (BM25 over a store holding the bibliography).

    .venv/bin/python benchmarks/reference_check.py   # about 10 minutes: the fake is asked at NCBI's rate
"""
from __future__ import annotations

import argparse
import copy
import random
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Settings, load_settings
from pipeline.datatypes import Document, Reference, ResolvedReference
from pipeline.records.entrez import EntrezClient
from pipeline.records.reference_check import MISMATCH, NOT_FOUND, TITLE_MATCH, check_reference, disagreements
from pipeline.documents.citations import parse_reference_list
from pipeline.records.references import TITLE_SEARCH, resolve_references
from pipeline.records.retries import Backoff
from pipeline.records.store import Store
from pipeline.records.title_search import TITLE_FOUND, best_match, pubmed_candidates, searchable

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fake_eutils import FakeEutils  # noqa: E402

SEEDS = {"dev": ("CDR_DevelopmentSet.PubTator.txt", 1), "test": ("CDR_TestSet.PubTator.txt", 2)}
SURNAMES = ("Smith", "Wang", "Garcia", "Müller", "Kowalski", "Nguyen", "O'Brien", "Rossi", "Tanaka", "Silva",
            "Johansson", "Dubois", "Kim", "Patel", "Ivanova", "van der Berg", "Cohen", "Okafor", "Schmidt", "Li",
            "Haddad", "Novak", "Fischer", "Moreau", "Andersen", "Yilmaz", "Costa", "Sato", "Brown", "De Luca")
JOURNALS = ("J Neurosci", "Br J Pharmacol", "Eur J Pharmacol", "Neuropharmacology", "Lancet", "BMJ",
            "Clin Pharmacol Ther", "J Clin Psychiatry", "Toxicology", "Pharmacol Rev")
OK_KINDS = ("as_written", "typos", "truncated", "year_off_by_one", "no_initials", "lower_case")
MISMATCH_KINDS = ("swapped_id", "swapped_title", "wrong_year", "wrong_author")
FOUND_KINDS = ("fabricated_pmid", "fabricated_doi")
UNREACHABLE_SHARE = 0.1
SWEEP = [round(0.4 + 0.05 * i, 2) for i in range(11)]
FREE_KINDS = ("as_written", "typos", "truncated", "year_off_by_one", "wrong_year", "no_initials", "lower_case")
FABRICATED_KINDS = ("invented", "chimera")
INVENTED_FROM = "CDR_TrainingSet.PubTator.txt"  # titles the fake does not hold
TITLE_SWEEP = [round(0.5 + 0.05 * i, 2) for i in range(10)]


@dataclass
class Entry:
    pmid: str
    title: str
    surname: str
    initials: str
    year: int
    journal: str
    volume: str
    pages: str

    @property
    def doi(self) -> str:
        return f"10.5555/bench.{self.pmid}"


@dataclass
class Case:
    marker: str
    kind: str
    gold: str  # ok | mismatch | not_found | unavailable
    reference: Reference


def titles(name: str) -> list[tuple[str, str]]:
    path = load_settings().shared / "corpora" / "bc5cdr" / name
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        pmid, kind, text = (line.split("|", 2) + ["", ""])[:3]
        if kind == "t" and len(text.split()) >= 4:
            found.append((pmid, text.strip()))
    return found


def bibliography(name: str, rng: random.Random) -> list[Entry]:
    entries = []
    for pmid, title in titles(name):
        start = rng.randint(1, 2000)
        entries.append(Entry(pmid, title if title.endswith((".", "?", "!")) else f"{title}.", rng.choice(SURNAMES),
                             rng.choice("ABCDEFGHJKLMNPRSTW") + rng.choice(["", "A", "J", "M"]),
                             rng.randint(1975, 2020), rng.choice(JOURNALS), str(rng.randint(1, 120)),
                             f"{start}-{start + rng.randint(2, 15)}"))
    return entries


def typos(title: str, rng: random.Random) -> str:
    """One to three slips of the keyboard in the title's longer words."""
    words = title.split()
    for _ in range(rng.randint(1, 3)):
        long = [i for i, w in enumerate(words) if len(w) > 4]
        if not long:
            break
        i = rng.choice(long)
        word, at = words[i], rng.randrange(1, len(words[i]) - 2)
        edit = rng.choice(("swap", "drop", "double"))
        words[i] = (word[:at] + word[at + 1] + word[at] + word[at + 2:] if edit == "swap"
                    else word[:at] + word[at + 1:] if edit == "drop" else word[:at] + word[at] + word[at:])
    return " ".join(words)


def truncated(title: str, rng: random.Random) -> str:
    """The title cut to 40-80% of its words (three at least)."""
    words = title.split()
    return " ".join(words[:max(3, int(len(words) * rng.uniform(0.4, 0.8)))]) + "..."


def cite(entry: Entry, title: str | None = None, surname: str | None = None, year: int | None = None,
         initials: bool = True, ident: str = "", free: bool = False) -> str:
    """A Vancouver reference: "Smith J, et al. Title. J Neurosci. 2001;12:100-10. PMID: 1", without
    an id when `free`."""
    author = surname or entry.surname
    author = f"{author} {entry.initials}" if initials else author
    text = (f"{author}, et al. {title or entry.title} {entry.journal}. {year or entry.year};{entry.volume}:"
            f"{entry.pages}.")
    return text if free else f"{text} {ident or f'PMID: {entry.pmid}'}"


def perturbed(entries: list[Entry], rng: random.Random) -> list[Case]:
    cases = []
    kinds = OK_KINDS + MISMATCH_KINDS + FOUND_KINDS
    for n, entry in enumerate(entries, 1):
        kind = rng.choice(kinds)
        other = rng.choice([e for e in entries if e is not entry])
        ident = f"doi:{entry.doi}" if rng.random() < 0.2 else ""
        raw = {
            "as_written": lambda: cite(entry, ident=ident),
            "typos": lambda: cite(entry, typos(entry.title, rng), ident=ident),
            "truncated": lambda: cite(entry, truncated(entry.title, rng), ident=ident),
            "year_off_by_one": lambda: cite(entry, year=entry.year + rng.choice((-1, 1)), ident=ident),
            "no_initials": lambda: cite(entry, initials=False, ident=ident),
            "lower_case": lambda: cite(entry, entry.title.lower(), ident=ident),
            "swapped_id": lambda: cite(entry, ident=f"PMID: {other.pmid}"),
            "swapped_title": lambda: cite(other, entry.title),
            "wrong_year": lambda: cite(entry, year=entry.year + rng.choice((-1, 1)) * rng.randint(2, 10), ident=ident),
            "wrong_author": lambda: cite(entry, surname=rng.choice([s for s in SURNAMES if s != entry.surname]),
                                         ident=ident),
            "fabricated_pmid": lambda: cite(entry, ident=f"PMID: {rng.randint(40_000_000, 49_999_999)}"),
            "fabricated_doi": lambda: cite(entry, ident=f"doi:10.5555/invented.{rng.randint(10**6, 10**7)}"),
        }[kind]()
        gold = "ok" if kind in OK_KINDS else MISMATCH if kind in MISMATCH_KINDS else NOT_FOUND
        ref = Reference(str(n), raw)
        for field_name, value in _ids(raw):
            setattr(ref, field_name, value)
        ref.resolved_by = "pmid" if ref.pmid else "doi"
        cases.append(Case(str(n), kind, gold, ref))
    return cases


def free_text(entries: list[Entry], invented: list[str], rng: random.Random) -> list[Case]:
    """Each entry cited once as free text, without ids, perturbed or fabricated (see the docstring)."""
    cases = []
    for n, entry in enumerate(entries, 1):
        kind = rng.choice(FREE_KINDS + FABRICATED_KINDS)
        other = rng.choice([e for e in entries if e is not entry])
        words, others = entry.title.split(), other.title.split()
        raw = {
            "as_written": lambda: cite(entry, free=True),
            "typos": lambda: cite(entry, typos(entry.title, rng), free=True),
            "truncated": lambda: cite(entry, truncated(entry.title, rng), free=True),
            "year_off_by_one": lambda: cite(entry, year=entry.year + rng.choice((-1, 1)), free=True),
            "wrong_year": lambda: cite(entry, year=entry.year + rng.choice((-1, 1)) * rng.randint(2, 10), free=True),
            "no_initials": lambda: cite(entry, initials=False, free=True),
            "lower_case": lambda: cite(entry, entry.title.lower(), free=True),
            "invented": lambda: cite(entry, rng.choice(invented), rng.choice(SURNAMES), rng.randint(1975, 2020),
                                     free=True),
            "chimera": lambda: cite(entry, " ".join(words[:len(words) // 2] + others[len(others) // 2:]), free=True),
        }[kind]()
        (reference,) = parse_reference_list([f"{n}. {raw}"]).values()
        cases.append(Case(str(n), kind, NOT_FOUND if kind in FABRICATED_KINDS else entry.pmid, reference))
    return cases


def _ids(raw: str) -> list[tuple[str, str]]:
    tail = raw.rsplit(". ", 1)[-1]
    return [("pmid", tail[6:])] if tail.startswith("PMID: ") else [("doi", tail[4:].lower())]


def _article(template: ET.Element, entry: Entry) -> ET.Element:
    """A real PubmedArticle rewritten to stand for the entry."""
    article = copy.deepcopy(template)
    citation = article.find("MedlineCitation")
    citation.find("PMID").text = entry.pmid
    body = citation.find("Article")
    title = body.find("ArticleTitle")
    for markup in list(title):  # the template's "<i>TERT</i> gene region ...", which would stay behind
        title.remove(markup)
    title.text = entry.title
    body.find("Journal/JournalIssue/PubDate/Year").text = str(entry.year)
    body.find("Journal/JournalIssue/Volume").text = entry.volume
    body.find("Pagination/MedlinePgn").text = entry.pages
    authors = body.find("AuthorList")
    for author in list(authors)[1:]:
        authors.remove(author)
    authors.find("Author/LastName").text = entry.surname
    authors.find("Author/Initials").text = entry.initials
    for links in citation.findall("CommentsCorrectionsList"):
        citation.remove(links)
    id_list = article.find("PubmedData/ArticleIdList")
    id_list.clear()
    ET.SubElement(id_list, "ArticleId", IdType="pubmed").text = entry.pmid
    ET.SubElement(id_list, "ArticleId", IdType="doi").text = entry.doi
    return article


def serving(entries: list[Entry]) -> FakeEutils:
    """A started fake E-utilities server holding the bibliography, and nothing else."""
    fake = FakeEutils(only_known=True).start()
    template = fake.by_pmid["27797938"]
    fake.by_pmid = {e.pmid: _article(template, e) for e in entries}
    fake.ids = {("doi", e.doi): e.pmid for e in entries}
    return fake


def client_for(data: Path, url: str, store: Store, offline: bool = False) -> EntrezClient:
    settings = Settings(data=data, eutils_url=url, ncbi_api_key="benchmark", ncbi_email="benchmark@example.org")
    return EntrezClient(settings, store, offline=offline, backoff=Backoff(budget=0.05, base=0.01))


def resolve(cases: list[Case], entries: list[Entry], rng: random.Random) -> list[tuple[Case, ResolvedReference]]:
    """Resolve every case through the fake E-utilities; a share of them with NCBI out of reach."""
    fake = serving(entries)
    unreachable = [c for c in cases if c.gold != MISMATCH and rng.random() < UNREACHABLE_SHARE]
    for case in unreachable:
        case.gold = "unavailable"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            resolved = []
            for group, url in ((unreachable, "http://127.0.0.1:9/"),
                               ([c for c in cases if c not in unreachable], fake.url)):
                with Store(Path(tmp) / "litmine.sqlite") as store:
                    client = client_for(Path(tmp), url, store)
                    document = Document("bench.txt", "bench", "", "", [], {c.marker: c.reference for c in group}, "")
                    found = {r.marker: r for r in resolve_references(document, client)}
                resolved += [(c, found[c.marker]) for c in group]
    finally:
        fake.stop()
    return resolved


def resolve_offline(cases: list[Case], entries: list[Entry]) -> list[tuple[Case, ResolvedReference]]:
    """Resolve the cases offline, from a store holding the bibliography's records (fetched first)."""
    fake = serving(entries)
    try:
        with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "litmine.sqlite") as store:
            client_for(Path(tmp), fake.url, store).fetch_records([e.pmid for e in entries])
            document = Document("bench.txt", "bench", "", "", [], {c.marker: c.reference for c in cases}, "")
            found = {r.marker: r for r in resolve_references(document, client_for(Path(tmp), fake.url, store, True))}
    finally:
        fake.stop()
    return [(c, found[c.marker]) for c in cases]


def candidates(cases: list[Case], entries: list[Entry]) -> list[tuple[Case, list]]:
    """What PubMed's title search offers each case, for the sweep of TITLE_FOUND."""
    fake = serving(entries)
    try:
        with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "litmine.sqlite") as store:
            client = client_for(Path(tmp), fake.url, store)
            return [(case, pubmed_candidates(case.reference.citation, client)[0]
                     if searchable(case.reference.citation) else []) for case in cases]
    finally:
        fake.stop()


def found_as(case: Case, ref: ResolvedReference) -> str:
    """What a free-text case came to: the PMID its title search found, not_found, unavailable or none."""
    if ref.record is not None and ref.resolved_by == TITLE_SEARCH:
        return ref.pmid or ""
    return check_reference(ref)[0] or "none"


def found_scores(pairs: list[tuple[str, str]]) -> tuple[float, float, int, int, int]:
    """Finding the right PMID over (gold, outcome): precision, recall, right, found, gold PMIDs."""
    gold_ids = [g for g, _ in pairs if g.isdigit()]
    found = [(g, p) for g, p in pairs if p.isdigit()]
    right = sum(g == p for g, p in found)
    return (right / len(found) if found else 1.0), (right / len(gold_ids) if gold_ids else 1.0), right, \
        len(found), len(gold_ids)


def title_sweep(offered: list[tuple[Case, list]]) -> float:
    """Print finding and not_found per TITLE_FOUND value; the best finding F1, the middle of a plateau."""
    found: dict[float, float] = {}
    print("TITLE_FOUND  found P   R     F1    not_found P   R")
    for threshold in TITLE_SWEEP:
        pairs = []
        for case, records in offered:
            record = best_match(case.reference.citation, records, title_found=threshold)
            pairs.append((case.gold, record.pmid if record else NOT_FOUND))
        p, r, *_ = found_scores(pairs)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        np_, nr, _, _ = scores(pairs, NOT_FOUND)
        print(f"{threshold:>11.2f}  {p:>7.3f} {r:.3f} {f1:.3f}  {np_:>11.3f} {nr:.3f}")
        found[threshold] = round(f1, 3)
    best = [t for t, f1 in found.items() if f1 == max(found.values())]
    return best[len(best) // 2]


def title_report(resolved: list[tuple[Case, ResolvedReference]], label: str) -> None:
    pairs = [(case.gold, found_as(case, ref)) for case, ref in resolved]
    p, r, right, found, gold = found_scores(pairs)
    print(f"{label}: right PMID precision {p:.3f}  recall {r:.3f}  ({right} right of {found} found; {gold} to find)")
    p, r, tp, gold = scores(pairs, NOT_FOUND)
    print(f"{label}: not_found  precision {p:.3f}  recall {r:.3f}  ({tp} of {gold} found)")
    by_kind: dict[str, Counter[str]] = {}
    for (case, _), (gold_label, outcome) in zip(resolved, pairs):
        gold_label = "pmid" if gold_label.isdigit() else gold_label
        outcome = ("right pmid" if outcome == case.gold else "wrong pmid") if outcome.isdigit() else outcome
        by_kind.setdefault(f"{case.kind} ({gold_label})", Counter())[outcome] += 1
    for kind, counts in sorted(by_kind.items()):
        print(f"  {kind:<38} " + ", ".join(f"{outcome} {n}" for outcome, n in counts.most_common()))


def scores(pairs: list[tuple[str, str]], label: str) -> tuple[float, float, int, int]:
    """Precision, recall, true positives and gold positives of one label over (gold, predicted)."""
    tp = sum(g == label and p == label for g, p in pairs)
    predicted, gold = sum(p == label for _, p in pairs), sum(g == label for g, _ in pairs)
    return (tp / predicted if predicted else 1.0), (tp / gold if gold else 1.0), tp, gold


def sweep(resolved: list[tuple[Case, ResolvedReference]]) -> float:
    """Print mismatch precision/recall per TITLE_MATCH value; the best F1 with precision >= 0.95,
    the middle one of a plateau of equals (the farthest from both edges where it falls off)."""
    found: dict[float, float] = {}
    print("TITLE_MATCH  mismatch P   R     F1")
    for threshold in SWEEP:
        pairs = []
        for case, ref in resolved:
            record = ref.record
            said = record is not None and disagreements(ref.raw, record.title, record.authors, record.year,
                                                        title_match=threshold)
            pairs.append((case.gold, MISMATCH if said else "other"))
        p, r, _, _ = scores(pairs, MISMATCH)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(f"{threshold:>11.2f}  {p:>10.3f} {r:.3f} {f1:.3f}")
        if p >= 0.95:
            found[threshold] = round(f1, 3)
    best = [t for t, f1 in found.items() if f1 == max(found.values())]
    return best[len(best) // 2]


def report(resolved: list[tuple[Case, ResolvedReference]]) -> None:
    pairs = [(case.gold, check_reference(ref)[0]) for case, ref in resolved]
    for label in (MISMATCH, NOT_FOUND):
        p, r, tp, gold = scores(pairs, label)
        print(f"{label:<10} precision {p:.3f}  recall {r:.3f}  ({tp} of {gold} found)")
    by_kind: dict[str, Counter[str]] = {}
    for (case, _), (_, predicted) in zip(resolved, pairs):
        by_kind.setdefault(f"{case.kind} ({case.gold})", Counter())[predicted] += 1
    for kind, counts in sorted(by_kind.items()):
        print(f"  {kind:<38} " + ", ".join(f"{check or 'none'} {n}" for check, n in counts.most_common()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.parse_args()
    results, free, entries_of, free_rng = {}, {}, {}, {}
    invented = [title for _, title in titles(INVENTED_FROM)]
    for split, (name, seed) in SEEDS.items():
        rng = random.Random(seed)
        entries = entries_of[split] = bibliography(name, rng)
        results[split] = resolve(perturbed(entries, rng), entries, rng)
        free_rng[split] = random.Random(seed + 100)  # its own, so the references above stay as they were
        free[split] = free_text(entries, invented, free_rng[split])
    print(f"dev seed ({len(results['dev'])} references, BC5CDR development titles):")
    chosen = sweep(results["dev"])
    print(f"chosen on dev: {chosen}; pipeline.records.reference_check.TITLE_MATCH = {TITLE_MATCH}")
    print(f"\ntest seed ({len(results['test'])} references, BC5CDR test titles), reported:")
    report(results["test"])
    print(f"\ntitle search, dev seed ({len(free['dev'])} free-text references):")
    chosen = title_sweep(candidates(free["dev"], entries_of["dev"]))
    print(f"chosen on dev: {chosen}; pipeline.records.title_search.TITLE_FOUND = {TITLE_FOUND}")
    live = resolve(free["test"], entries_of["test"], free_rng["test"])
    print(f"\ntitle search, test seed ({len(live)} free-text references), reported:")
    title_report(live, "live")
    unreachable = [found_as(c, r) for c, r in live if c.gold == "unavailable"]
    print(f"live, NCBI out of reach: unavailable {unreachable.count('unavailable')} of {len(unreachable)}")
    title_report(resolve_offline([c for c in free["test"] if c.gold != "unavailable"], entries_of["test"]), "offline")


if __name__ == "__main__":
    main()
