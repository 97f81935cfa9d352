"""One self-contained HTML page per run: what each document claims, the verdict,
and the sentences from the literature behind it.

The CSVs are for analysis; this page is for a reader (a clinician, a patient
advocate) who wants to see at a glance which claims hold up and why. It needs
no server, no network and no JavaScript. Documents are untrusted input, so
every piece of text goes through Jinja's autoescaping or `markupsafe.escape`.
Apart from the run-time line, the same inputs give the same bytes.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from pipeline.config import TEMPLATES_DIR
from pipeline.datatypes import (RELATED, VERDICTS, ClaimResult, DocSentence, Document, EvidenceItem, Mention, Record,
                                ResolvedReference)
from pipeline.outputs.files import replacing
from pipeline.outputs.runs import Change
from pipeline.records.reference_check import check_reference
from pipeline.relations.qualifiers import evidence_qualifiers
from pipeline.verdicts.calibration import calibrated

REPORT_FILE = "report.html"
STRONGEST = 3  # evidence sentences shown per claim before "more"

# label, symbol (so colour is never the only cue), plain-language meaning
VERDICT_LABELS = {
    "supported": ("supported", "✓", "papers support the claim and none contradict it"),
    "contradicted": ("contradicted", "✗", "papers contradict the claim and none support it"),
    "mixed": ("mixed", "±", "papers on both sides"),
    "no_evidence": ("no evidence", "∅", "records were read but none bears on the claim"),
    "not_checked": ("not checked", "?", "the records needed could not be read"),
}
STATUS_NOTES = {
    "resolved": "the cited record was read",
    "unavailable": "the cited work is known but could not be fetched",
    "unresolved": "nothing identifies the cited work",
}

# chart geometry (px)
LABEL_W, BAR_W, TOTAL_W, ROW_H, BAR_H, TOP, MIN_SEGMENT = 230, 560, 90, 34, 22, 8, 26


@dataclass
class ClaimView:
    result: ClaimResult
    strongest: list[tuple[Record, list[EvidenceItem]]]  # by paper, the paper with the strongest item first
    more: list[tuple[Record, list[EvidenceItem]]]
    citations: list[ResolvedReference | str]  # the reference, or the bare marker when none is known
    species: str  # "human 2, animal 1": papers per species
    years: str  # "2003–2015"

    @property
    def confidence(self) -> float:
        """The verdict's calibrated confidence, the figure claims.csv gives as `verdict_confidence`."""
        return calibrated(self.result)

    @property
    def n_more(self) -> int:
        return sum(len(items) for _, items in self.more)


@dataclass
class SentenceView:
    sentence: DocSentence
    text: Markup
    claims: list[ClaimView] = field(default_factory=list)


@dataclass
class DocumentView:
    document: Document
    anchor: str
    counts: Counter[str]
    sections: list[tuple[str, list[SentenceView]]]
    references: list[ResolvedReference]
    ref_anchors: dict[str, str]  # marker -> id of its row in the references table

    @property
    def source(self) -> str:
        """Where the document came from, without the local folders above the working directory: a
        report is mailed and archived, and "/home/someone/private/..." should not travel with it."""
        path = self.document.path
        if "://" in path or not Path(path).is_absolute():  # as the user gave it
            return path
        try:
            return str(Path(path).resolve().relative_to(Path.cwd()))
        except ValueError:
            return Path(path).name


def highlight(sentence: str, mentions: list[Mention]) -> Markup:
    """The sentence, escaped, with each mention in a `<mark>` of its entity type.

    Mentions whose offsets do not fit the sentence (zero-width topic subjects,
    overlaps, text that does not match) are left unmarked rather than guessed.
    """
    parts: list[str] = []
    at = 0
    for m in sorted({(m.start, m.end): m for m in mentions}.values(), key=lambda m: (m.start, -m.end)):
        if m.start < at or m.end <= m.start or sentence[m.start:m.end] != m.text:
            continue
        title = f"{m.type} {m.id}".strip() + (f" ({m.name})" if m.name else "")
        parts += [escape(sentence[at:m.start]),
                  Markup('<mark class="ent ent-{}" title="{}">{}</mark>').format(
                      m.type.lower(), title, sentence[m.start:m.end])]
        at = m.end
    parts.append(escape(sentence[at:]))
    return Markup("").join(parts)


def record_link(record: Record) -> Markup:
    """A PubMed link for a record with a PMID, else its store key as plain text."""
    if record.pmid:
        return Markup('<a href="https://pubmed.ncbi.nlm.nih.gov/{0}/">PMID {0}</a>').format(record.pmid)
    return escape(record.uid)


def _by_strength(items: list[EvidenceItem]) -> list[EvidenceItem]:
    """Items taking a side before merely related ones, most confident first."""
    return sorted(items, key=lambda i: (i.stance == RELATED, -i.confidence))


def _strongest(result: ClaimResult) -> list[EvidenceItem]:
    """The reconciler's pick when it makes one; else the best sentence of each
    paper, then the next best, so that one paper cannot crowd out the others."""
    picked = getattr(result, "strongest", None)
    if picked and all(isinstance(item, EvidenceItem) for item in picked):
        return list(picked)
    best: dict[str, EvidenceItem] = {}
    for item in result.evidence:  # reconcile lists each paper's items best first
        best.setdefault(item.record.uid, item)
    rest = [i for i in result.evidence if best[i.record.uid] is not i]
    return (_by_strength(list(best.values())) + _by_strength(rest))[:STRONGEST]


def _by_paper(items: list[EvidenceItem]) -> list[tuple[Record, list[EvidenceItem]]]:
    """Items under their paper, so that its title and provenance are shown once."""
    papers: dict[str, tuple[Record, list[EvidenceItem]]] = {}
    for item in items:
        papers.setdefault(item.record.uid, (item.record, []))[1].append(item)
    return list(papers.values())


def _papers(result: ClaimResult) -> tuple[str, str]:
    """Species ("human 2, animal 1") and years ("2003–2015") of the papers behind the evidence."""
    counts, years = result.species_counts, result.year_range
    span = f"{years[0]}–{years[-1]}" if years and years[0] != years[-1] else str(years[0]) if years else ""
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())), span


def _claim_view(result: ClaimResult, by_marker: dict[str, ResolvedReference]) -> ClaimView:
    strongest = _strongest(result)
    more = [i for i in result.evidence if all(i is not s for s in strongest)]
    citations = [by_marker.get(m, m) for m in result.claim.citations]
    return ClaimView(result, _by_paper(strongest), _by_paper(more), citations, *_papers(result))


def _anchor(name: str, used: set[str]) -> str:
    """An id safe in a URL fragment, unique within the page."""
    base = "doc-" + "".join(c if c.isalnum() else "-" for c in name.lower())
    anchor, n = base, 2
    while anchor in used:
        anchor, n = f"{base}-{n}", n + 1
    used.add(anchor)
    return anchor


def _document_view(document: Document, results: list[ClaimResult], references: list[ResolvedReference],
                   anchor: str) -> DocumentView:
    """Claims grouped by section, then by sentence, in document order."""
    by_marker = {r.marker: r for r in references}
    sentences: dict[int, SentenceView] = {}
    for result in sorted(results, key=lambda r: r.claim.sentence.index):
        sentence = result.claim.sentence
        view = sentences.get(sentence.index)
        if view is None:
            mentions = [m for r in results if r.claim.sentence.index == sentence.index
                        for m in ((r.claim.relation.subject, r.claim.relation.object) if r.claim.relation
                                  else r.claim.entities)]
            view = sentences[sentence.index] = SentenceView(sentence, highlight(sentence.text, mentions))
        view.claims.append(_claim_view(result, by_marker))
    sections: dict[str, list[SentenceView]] = {}
    for view in sentences.values():
        sections.setdefault(view.sentence.section, []).append(view)
    counts = Counter(r.verdict for r in results)
    ref_anchors = {r.marker: f"{anchor}-ref-{n}" for n, r in enumerate(references)}
    return DocumentView(document, anchor, counts, list(sections.items()), references, ref_anchors)


def _chart(views: list[DocumentView]) -> dict[str, object]:
    """Bar geometry for the stacked verdict chart: one bar per document, scaled to the largest.

    Every segment is at least wide enough to carry its count, so no verdict is
    told by colour alone.
    """
    widest = max((sum(v.counts.values()) for v in views), default=0) or 1
    scale = (BAR_W - MIN_SEGMENT * len(VERDICTS)) / widest
    rows = []
    for n, view in enumerate(views):
        x, segments = LABEL_W, []
        for verdict in VERDICTS:
            count = view.counts[verdict]
            if count:
                w = max(MIN_SEGMENT, scale * count)
                segments.append({"verdict": verdict, "count": count, "x": round(x, 2), "w": round(w, 2)})
                x += w
        name = view.document.name
        rows.append({"view": view, "y": TOP + n * ROW_H, "segments": segments, "end": round(x, 2),
                     "label": name if len(name) <= 30 else name[:29] + "…", "total": sum(view.counts.values())})
    return {"rows": rows, "width": LABEL_W + BAR_W + TOTAL_W, "height": TOP * 2 + max(len(rows), 1) * ROW_H,
            "bar_h": BAR_H}


def render_report(documents: list[Document], results: list[ClaimResult], references: list[ResolvedReference],
                  generated: datetime, changes: list[Change] | None = None) -> str:
    """The page as a string; `generated` is the only input that is not the run's data. `changes`
    (since the previous run of the same documents; None for a first run) open the page."""
    used: set[str] = set()
    views = [_document_view(d, [r for r in results if r.claim.document == d.name],
                            [r for r in references if r.document == d.name], _anchor(d.name, used))
             for d in documents]
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["highlight"] = lambda rel: highlight(rel.sentence, [rel.subject, rel.object])
    env.filters["record_link"] = record_link
    env.filters["reference_check"] = check_reference
    env.filters["qualifiers"] = lambda item: evidence_qualifiers(item.sentence, item.relation).summary()
    return env.get_template("report.html").render(
        generated=generated.strftime("%Y-%m-%d %H:%M UTC"), documents=views, chart=_chart(views),
        totals=Counter(r.verdict for r in results), n_claims=len(results), verdicts=VERDICTS,
        labels=VERDICT_LABELS, status_notes=STATUS_NOTES, changes=changes)


def write_report(out: Path, documents: list[Document], results: list[ClaimResult],
                 references: list[ResolvedReference], changes: list[Change] | None = None) -> Path:
    """Write `out/report.html` and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / REPORT_FILE
    with replacing(path) as handle:
        handle.write(render_report(documents, results, references, datetime.now(timezone.utc), changes))
    return path
