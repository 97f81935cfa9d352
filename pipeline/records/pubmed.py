"""Parsers for NCBI's PubMed (PubmedArticleSet) and PMC (JATS) XML into Records.

The standard library's ElementTree (expat) is used on purpose: it never loads
the DTDs these documents declare, so parsing works offline, and a document cut
short anywhere fails to parse instead of yielding the records read so far. A
document that declares entities is refused (pipeline.safexml), and nesting is
walked without recursion, so no crafted file exhausts memory or the stack.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from pipeline import safexml
from pipeline.datatypes import NOTICE_TYPES, Notice, Record, Section, record_uid


class TruncatedXMLError(ValueError):
    """A response that is cut short or otherwise not a complete, expected document."""


# JATS body elements whose text is not running prose.
_SKIPPED_JATS = {"fig", "table-wrap", "table-wrap-group", "supplementary-material", "disp-formula",
                 "fig-group", "ref-list", "fn-group", "graphic", "media", "alternatives"}
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def _parse(data: bytes, source: str, roots: tuple[str, ...]) -> ET.Element:
    """Parse a whole document or raise TruncatedXMLError naming the source and line (UnsafeXML
    where it declares entities)."""
    if not data or not data.strip():
        raise TruncatedXMLError(f"{source}: empty response")
    try:
        root = safexml.fromstring(data)
    except safexml.UnsafeXML as exc:  # not a cut reply: asking again would not help
        raise safexml.UnsafeXML(f"{source}: {exc}") from None
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":")[0]
        raise TruncatedXMLError(f"{source}: truncated or malformed XML at line {line}, column {column}: "
                                f"{reason}") from exc
    if _local(root.tag) not in roots:
        raise TruncatedXMLError(f"{source}: expected <{'> or <'.join(roots)}>, got <{_local(root.tag)}>")
    return root


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text(element: ET.Element | None) -> str:
    """All text inside an element (inline markup included), whitespace collapsed."""
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _year(text: str) -> int | None:
    match = _YEAR.search(text or "")
    return int(match.group(1)) if match else None


def _norm_pmcid(value: str | None) -> str | None:
    value = (value or "").strip().upper()
    if not value:
        return None
    return value if value.startswith("PMC") else f"PMC{value}"


def _norm_doi(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value or None


def _abstract(parts: Iterable[ET.Element]) -> str:
    """Abstract paragraphs, one per line, labelled parts as 'LABEL: text'."""
    lines = []
    for part in parts:
        text = _text(part)
        label = (part.get("Label") or "").strip().rstrip(":")
        if text or label:
            lines.append(f"{label}: {text}" if label else text)
    return "\n".join(lines)


# ---------------------------------------------------------------- PubMed


def parse_pubmed_xml(data: bytes, source: str = "pubmed", rejected: dict[str, str] | None = None) -> list[Record]:
    """Records from an efetch PubmedArticleSet (PubmedArticle and PubmedBookArticle).

    With `rejected`, an article that cannot be read is left out and its PMID mapped to why,
    so one bad record of a whole, well-formed batch costs only itself."""
    root = _parse(data, source, ("PubmedArticleSet",))
    records = []
    for element in root:
        tag = _local(element.tag)
        try:
            if tag == "PubmedArticle":
                records.append(_pubmed_article(element, source))
            elif tag == "PubmedBookArticle":
                records.append(_pubmed_book_article(element, source))
        except (TruncatedXMLError, AttributeError, TypeError) as exc:
            if rejected is None:
                raise
            pmid = (element.findtext(".//PMID") or "").strip()
            rejected[pmid] = f"PubMed's record {pmid} cannot be read: {exc}"
    return records


def _article_ids(id_list: ET.Element | None) -> tuple[str | None, str | None]:
    """PMCID and DOI from the record's own ArticleIdList (not from its references)."""
    pmcid = doi = None
    if id_list is not None:
        for article_id in id_list.findall("ArticleId"):
            kind = article_id.get("IdType")
            if kind == "pmc" and not pmcid:
                pmcid = _norm_pmcid(article_id.text)
            elif kind == "doi" and not doi:
                doi = _norm_doi(article_id.text)
    return pmcid, doi


def _pub_year(pub_date: ET.Element | None) -> int | None:
    if pub_date is None:
        return None
    return _year(pub_date.findtext("Year") or "") or _year(pub_date.findtext("MedlineDate") or "")


def _authors(author_list: ET.Element | None) -> list[str]:
    """"Surname Initials" per author (a group by its name), as a reference list writes them."""
    if author_list is None:
        return []
    names = []
    for author in author_list.findall("Author"):
        surname = _text(author.find("LastName"))
        initials = _text(author.find("Initials")) or "".join(w[0] for w in _text(author.find("ForeName")).split())
        name = f"{surname} {initials}".strip() if surname else _text(author.find("CollectiveName"))
        if name:
            names.append(name)
    return names


def _notices(citation: ET.Element) -> list[Notice]:
    """The record's links to notices about it (NOTICE_TYPES), not the works it cites or comments on."""
    return [Notice(link.get("RefType", ""), (link.findtext("PMID") or "").strip(), _text(link.find("RefSource")))
            for link in citation.findall("CommentsCorrectionsList/CommentsCorrections")
            if link.get("RefType") in NOTICE_TYPES]


def _pubmed_article(element: ET.Element, source: str) -> Record:
    citation = element.find("MedlineCitation")
    article = citation.find("Article") if citation is not None else None
    if citation is None or article is None:
        raise TruncatedXMLError(f"{source}: PubmedArticle without MedlineCitation/Article")
    pmid = (citation.findtext("PMID") or "").strip() or None
    pmcid, doi = _article_ids(element.find("PubmedData/ArticleIdList"))
    if not doi:
        for location in article.findall("ELocationID"):
            if location.get("EIdType") == "doi":
                doi = _norm_doi(location.text)
                break
    year = _pub_year(article.find("Journal/JournalIssue/PubDate"))
    if year is None:
        year = _pub_year(article.find("ArticleDate"))
    return Record(
        uid=record_uid(pmid, pmcid, doi, source),
        title=_text(article.find("ArticleTitle")) or _text(article.find("VernacularTitle")),
        abstract=_abstract(article.findall("Abstract/AbstractText")),
        pmid=pmid, pmcid=pmcid, doi=doi,
        journal=_text(article.find("Journal/Title")) or _text(article.find("Journal/ISOAbbreviation")),
        year=year,
        publication_types=[_text(p) for p in article.findall("PublicationTypeList/PublicationType")],
        mesh_terms=[_text(d) for d in citation.findall("MeshHeadingList/MeshHeading/DescriptorName")],
        source=source,
        authors=_authors(article.find("AuthorList")),
        volume=_text(article.find("Journal/JournalIssue/Volume")),
        pages=_text(article.find("Pagination/MedlinePgn")) or _text(article.find("Pagination/StartPage")),
        notices=_notices(citation),
    )


def _pubmed_book_article(element: ET.Element, source: str) -> Record:
    document = element.find("BookDocument")
    if document is None:
        raise TruncatedXMLError(f"{source}: PubmedBookArticle without BookDocument")
    pmid = (document.findtext("PMID") or "").strip() or None
    pmcid, doi = _article_ids(element.find("PubmedBookData/ArticleIdList"))
    book_title = _text(document.find("Book/BookTitle"))
    return Record(
        uid=record_uid(pmid, pmcid, doi, source),
        title=_text(document.find("ArticleTitle")) or book_title,
        abstract=_abstract(document.findall("Abstract/AbstractText")),
        pmid=pmid, pmcid=pmcid, doi=doi,
        journal=book_title,
        year=_pub_year(document.find("Book/PubDate")),
        publication_types=[_text(p) for p in document.findall("PublicationType")],
        mesh_terms=[_text(d) for d in document.findall("MeshHeadingList/MeshHeading/DescriptorName")],
        source=source,
        authors=_authors(document.find("AuthorList")),
    )


# ---------------------------------------------------------------- PMC / JATS


def parse_pmc_xml(data: bytes, source: str = "pmc") -> list[Record]:
    """Records from a PMC efetch <pmc-articleset> or a single JATS article (.nxml)."""
    root = _parse(data, source, ("pmc-articleset", "article"))
    if _local(root.tag) == "article":
        return [_jats_article(root, source)]
    errors = [_text(e) for e in root.iter() if _local(e.tag) in ("error", "ERROR")]
    articles = [e for e in root if _local(e.tag) == "article"]
    if errors and not articles:
        raise TruncatedXMLError(f"{source}: PMC returned an error: {'; '.join(errors)}")
    return [_jats_article(article, source) for article in articles]


def _jats_article(article: ET.Element, source: str) -> Record:
    meta = article.find("front/article-meta")
    if meta is None:
        raise TruncatedXMLError(f"{source}: JATS article without front/article-meta")
    ids: dict[str, str] = {}
    for article_id in meta.findall("article-id"):
        ids.setdefault(article_id.get("pub-id-type") or "", (article_id.text or "").strip())
    pmid = ids.get("pmid") or None
    pmcid = _norm_pmcid(ids.get("pmc") or ids.get("pmcid"))
    doi = _norm_doi(ids.get("doi"))
    journal_meta = article.find("front/journal-meta")
    journal = ""
    if journal_meta is not None:
        journal = (_text(journal_meta.find("journal-title-group/journal-title"))
                   or _text(journal_meta.find("journal-title"))
                   or _text(journal_meta.find("journal-id")))
    local_id = ids.get("publisher-id") or ids.get("manuscript") or None
    return Record(
        uid=record_uid(pmid, pmcid, doi, source, local_id),
        title=_text(meta.find("title-group/article-title")),
        abstract=_jats_abstract(meta),
        pmid=pmid, pmcid=pmcid, doi=doi,
        journal=journal,
        year=_jats_year(meta),
        publication_types=[article.get("article-type")] if article.get("article-type") else [],
        sections=_jats_body(article.find("body")),
        source=source,
    )


def _jats_year(meta: ET.Element) -> int | None:
    """Year of the print, then electronic, then collection date, then any other date."""
    years: dict[str, int] = {}
    for pub_date in meta.findall("pub-date"):
        year = _year(pub_date.findtext("year") or "")
        kind = pub_date.get("pub-type") or pub_date.get("date-type") or pub_date.get("publication-format") or ""
        if year is not None:
            years.setdefault(kind, year)
    for kind in ("ppub", "print", "epub", "electronic", "collection", "epub-ppub", "pub"):
        if kind in years:
            return years[kind]
    return next((y for k, y in years.items() if k != "pmc-release"), None) or next(iter(years.values()), None)


def _jats_abstract(meta: ET.Element) -> str:
    """The main abstract (not graphical/teaser ones): sections as 'TITLE: text'."""
    abstracts = [a for a in meta.findall("abstract") if not a.get("abstract-type")] or meta.findall("abstract")
    if not abstracts:
        return ""
    lines = []
    for child in abstracts[0]:
        tag = _local(child.tag)
        if tag == "sec":
            title = _text(child.find("title")).rstrip(":").strip()
            body = " ".join(_text(p) for p in child if _local(p.tag) != "title")
            lines.append(f"{title}: {body}" if title else body)
        elif tag == "p":
            lines.append(_text(child))
    return "\n".join(line for line in lines if line.strip())


def _jats_body(body: ET.Element | None) -> list[Section]:
    """One Section per top-level <sec>; loose paragraphs become an untitled Section."""
    if body is None:
        return []
    sections: list[Section] = []
    loose: list[str] = []
    for child in body:
        tag = _local(child.tag)
        if tag == "sec":
            text = "\n".join(_block_lines(child, top=True))
            title = _text(child.find("title"))
            if text:
                sections.append(Section(title=title, text=text))
        elif tag not in _SKIPPED_JATS:
            loose.extend(_block_lines(child, top=False) if tag != "p" else [_text(child)])
    loose = [line for line in loose if line]
    if loose:
        sections.insert(0, Section(title="", text="\n".join(loose)))
    return sections


def _block_lines(element: ET.Element, top: bool) -> list[str]:
    """Paragraph lines of a section in document order; nested section titles become their own
    lines. Walked with a stack of its own: a crafted file nests <sec> deeper than Python recurses."""
    lines: list[str] = []
    stack = [(iter(element), top)]
    while stack:
        children, at_top = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        tag = _local(child.tag)
        if tag in _SKIPPED_JATS or (tag == "title" and at_top):
            continue
        if tag in ("sec", "list", "list-item", "boxed-text", "def-list", "statement"):
            stack.append((iter(child), False))
        elif text := _text(child):
            lines.append(text)
    return lines
