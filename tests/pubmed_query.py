"""PubMed's search by field-tagged words, over the PubmedArticle elements a fake server holds.

A query of field-tagged words (``ketamine[ti]``, ``"De Luca"[au]``, ``2015:2017[dp]``) joined by
AND, OR, NOT and parentheses is answered as PubMed answers it: a title word matches a word of
the title, an author a surname (whatever the initials), a date a year or a range of years,
operators taken left to right. The matches are ranked by how many of the query's title words
they hold, the fake's stand-in for PubMed's relevance.
"""
from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET

_QUERY_TOKEN = re.compile(r'\(|\)|"[^"]*"\[\w+\]|[^\s()"]+\[\w+\]|[^\s()]+')
_FIELD_TERM = re.compile(r'"?([^"]*?)"?\[(ti|au|dp)\]')


def _words(text: str) -> list[str]:
    """PubMed's index terms of a text, as far as the fake needs: lower case, accents dropped."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return re.findall(r"[a-z0-9]+", "".join(c for c in text if not unicodedata.combining(c)))


class _Query:
    """One query evaluated over one article, left to right as PubMed does; the score counts the
    title words matched."""

    def __init__(self, tokens: list[str], article: ET.Element):
        self.tokens, self.at = tokens, 0
        body = article.find("MedlineCitation/Article")
        self.title = set(_words("".join(body.find("ArticleTitle").itertext())))
        self.authors = {"".join(_words(a.findtext("LastName") or "")) for a in body.iterfind("AuthorList/Author")}
        date = body.find("Journal/JournalIssue/PubDate")
        written = (date.findtext("Year") or date.findtext("MedlineDate") or "") if date is not None else ""
        year = re.search(r"\d{4}", written)
        self.year = int(year.group()) if year else None

    def evaluate(self) -> tuple[bool, int]:
        matched, score = self._operand()
        while self.at < len(self.tokens) and self.tokens[self.at] in ("AND", "OR", "NOT"):
            operator = self.tokens[self.at]
            self.at += 1
            right, more = self._operand()
            matched = (matched and right if operator == "AND" else matched or right if operator == "OR"
                       else matched and not right)
            score += more
        return matched, score

    def _operand(self) -> tuple[bool, int]:
        token = self.tokens[self.at]
        self.at += 1
        if token == "(":
            found = self.evaluate()
            self.at += 1  # the closing parenthesis
            return found
        value, tag = _FIELD_TERM.fullmatch(token).groups()
        if tag == "ti":
            matched = set(_words(value)) <= self.title
            return matched, int(matched)
        if tag == "au":
            return "".join(_words(value)) in self.authors, 0
        first, _, last = value.partition(":")
        return self.year is not None and int(first) <= self.year <= int(last or first), 0


def field_search(term: str, articles: dict[str, ET.Element]) -> list[str] | None:
    """The PMIDs of the articles the query matches, most title words first (then in the order
    held); None for a query that is not all field-tagged words ([ti], [au], [dp])."""
    tokens = _QUERY_TOKEN.findall(term)
    if not tokens or any(t not in ("(", ")", "AND", "OR", "NOT") and not _FIELD_TERM.fullmatch(t) for t in tokens):
        return None
    ranked = []
    for order, (pmid, article) in enumerate(articles.items()):
        matched, score = _Query(tokens, article).evaluate()
        if matched:
            ranked.append((-score, order, pmid))
    return [pmid for *_, pmid in sorted(ranked)]
