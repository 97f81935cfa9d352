"""Markdown and HTML as plain text, with the lines the markup marks as headings, the
title, the hyperlinks' targets (which may be PMIDs, PMCIDs or DOIs) and the bibliography
files a Pandoc front matter names."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from pipeline.datatypes import Reference
from pipeline.documents.citations import NUMERIC_MARKER


@dataclass
class PlainText:
    """A document's text without markup (plain text is its own), with what the markup said about it."""

    text: str
    headings: set[int] = field(default_factory=set)  # start offsets of lines the markup marks as headings
    title: str = ""
    links: list[tuple[int, str]] = field(default_factory=list)  # (offset, URL) of hyperlinks: targets may be ids
    # references kept apart from the text (Word's footnotes, a manuscript's bibliography) by marker
    references: dict[str, Reference] = field(default_factory=dict)
    bibliography: list[str] = field(default_factory=list)  # bibliography files the document names


_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_MD_SETEXT = re.compile(r"^\s{0,3}(?:=+|-+)\s*$")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|<(https?://[^>\s]+)>")
_MD_EMPHASIS = re.compile(r"\*\*(.+?)\*\*|__(.+?)__|~~(.+?)~~|`([^`]*)`"
                          r"|(?<![\w*])\*(?![\s*])(.+?)(?<![\s*])\*(?![\w*])|(?<!\w)_(?![\s_])(.+?)(?<![\s_])_(?!\w)")


_FRONT_MATTER = re.compile(r"---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|$)", re.S)


def from_markdown(text: str) -> PlainText:
    """Markdown without its syntax: ATX and setext headings, code blocks (blanked), blockquotes,
    emphasis and links; the first heading is the title. A Pandoc or Quarto front matter's title
    and bibliography files are kept, the rest blanked."""
    out = PlainText("")
    if front := _FRONT_MATTER.match(text):
        out.title, out.bibliography = _front_matter(front.group(1))
        text = "\n" * front.group().count("\n") + text[front.end():]
    lines: list[str] = []
    pos, in_code = 0, False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_code, line = not in_code, ""
        elif in_code:
            line = ""
        elif _MD_SETEXT.match(line) and lines and lines[-1].strip():
            out.headings.add(pos - len(lines[-1]) - 1)
            out.title = out.title or lines[-1].strip()
            line = ""
        else:
            line = re.sub(r"^\s*>\s?", "", line)  # blockquote
            heading = _MD_HEADING.match(line)
            line = _md_inline(heading.group(1) if heading else line, pos, out.links)
            if heading:
                out.headings.add(pos)
                out.title = out.title or line.strip()
        lines.append(line)
        pos += len(line) + 1
    out.text = "\n".join(lines)
    return out


def _front_matter(yaml: str) -> tuple[str, list[str]]:
    """The title and the bibliography files of a YAML front matter ("bibliography: refs.bib", or a list)."""
    title = re.search(r"^title:\s*[\"']?(.*?)[\"']?\s*$", yaml, re.M)
    files: list[str] = []
    if m := re.search(r"^bibliography:[ \t]*(.*)\n((?:[ \t]+-.*\n)*)", yaml, re.M):
        inline = m.group(1).strip().strip("[]")
        files = [f.strip(" \"'") for f in inline.split(",") if f.strip(" \"'")]
        files += [item.strip().lstrip("-").strip(" \"'") for item in m.group(2).splitlines() if item.strip()]
    return (title.group(1).strip() if title else ""), files


def _md_inline(line: str, offset: int, links: list[tuple[int, str]]) -> str:
    """The line without emphasis and link syntax; link targets go to `links`."""
    line = _MD_EMPHASIS.sub(lambda m: next(g for g in m.groups() if g is not None), line)
    text, pos = "", 0
    for m in _MD_LINK.finditer(line):
        label = m.group(3) or m.group(1)
        if NUMERIC_MARKER.fullmatch(f"[{label}]"):
            label = f"[{label}]"  # "[4](#ref-4)" stays a citation marker
        text += line[pos:m.start()]
        links.append((offset + len(text), m.group(2) or m.group(3)))
        text += label
        pos = m.end()
    return text + line[pos:]


_SKIP_TAGS = {"script", "style", "nav", "footer", "aside", "noscript", "template", "form", "svg", "iframe",
              "button", "select", "head"}
_BLOCK_TAGS = {"p", "div", "section", "article", "main", "header", "blockquote", "pre", "ul", "ol", "li",
               "table", "tr", "br", "hr", "dl", "dt", "dd", "figure", "figcaption", "caption", "address",
               "h1", "h2", "h3", "h4", "h5", "h6"}
_HTML_BULLET = re.compile(r"- |\d+\. ")


class _HTMLText(HTMLParser):
    """Collects an HTML page's visible text as blocks, its headings, title and links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, bool]] = []  # (text, is a heading)
        self.links: list[tuple[int, int, str]] = []  # (block index, offset in block, URL)
        self.title = self.h1 = ""
        self._buffer = ""
        self._skip = 0
        self._in_title = False
        self._heading = ""
        self._lists: list[int] = []  # item counters of open lists; -1 for unordered

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        if tag == "title":
            self._in_title = True
        if self._skip:
            return
        if tag in _BLOCK_TAGS:
            self._flush()
        if tag in ("ul", "ol"):
            self._lists.append(0 if tag == "ol" else -1)
        elif tag == "li":
            if self._lists and self._lists[-1] >= 0:
                self._lists[-1] += 1
            self._buffer = f"{self._lists[-1]}. " if self._lists and self._lists[-1] > 0 else "- "
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = tag
        elif tag == "a" and (href := dict(attrs).get("href")):
            self.links.append((len(self.blocks), len(self._buffer), href))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif not self._skip and tag in _BLOCK_TAGS:
            self._flush()
            if tag in ("li", "ul", "ol"):
                self._buffer = ""  # an empty item's bullet
            if tag in ("ul", "ol") and self._lists:
                self._lists.pop()

    def handle_decl(self, decl: str) -> None:
        """No HTML parser expands a DOCTYPE's entities, but a page that declares one is a crafted XML attack."""
        if re.search(r"<!ENTITY", decl, re.I):
            raise ValueError("declares XML entities in its DOCTYPE (refused: entity declarations can read "
                             "local files or expand without limit)")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            data = re.sub(r"\s+", " ", data)
            self._buffer += data.lstrip() if not self._buffer or self._buffer.endswith(" ") else data

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        if _HTML_BULLET.fullmatch(self._buffer):
            return  # keep a list item's bullet for its first block
        text = self._buffer.strip()
        if text:
            self.blocks.append((text, bool(self._heading)))
            if self._heading == "h1" and not self.h1:
                self.h1 = text
        self._buffer, self._heading = "", ""


def from_html(text: str) -> PlainText:
    """An HTML page's visible text, a blank line between blocks; the title is its first <h1>, else its <title>."""
    parser = _HTMLText()
    parser.feed(text)
    parser.close()
    out = PlainText("", title=parser.h1 or re.sub(r"\s+", " ", parser.title).strip())
    starts: list[int] = []
    pos = 0
    for block, is_heading in parser.blocks:
        starts.append(pos)
        if is_heading:
            out.headings.add(pos)
        pos += len(block) + 2
    out.text = "\n\n".join(block for block, _ in parser.blocks)
    out.links = [(starts[i] + min(offset, len(parser.blocks[i][0])), url)
                 for i, offset, url in parser.links if i < len(starts)]
    return out

