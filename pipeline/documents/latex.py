"""A LaTeX manuscript as plain text with headings, for the text reader (pipeline.documents.reading).

Only what a manuscript's prose needs: the body between \\begin{document} and \\end{document},
comments, math, figures and tables left out, \\title and \\section-style commands as headings,
\\item as bullets, formatting commands unwrapped, and the citation commands of natbib and
BibLaTeX (\\cite, \\citep, \\citet, \\parencite, \\textcite, \\autocite, \\footcite …) written as
Pandoc citations ("[@smith2019; @lee2020]") that pipeline.documents.citations reads. The files
that \\bibliography and \\addbibresource name are kept for the reader to load.
"""
from __future__ import annotations

import re

from pipeline.documents.markup import PlainText

_CITE = re.compile(r"\\([a-zA-Z]*cite[a-zA-Z]*|nocite)\*?(?:\s*\[[^\]]*\]){0,2}\s*\{([^}]*)\}")
_NARRATIVE = {"citet", "Citet", "textcite", "Textcite", "citeauthor", "Citeauthor"}  # "Smith (2019) showed"
_HEADING = re.compile(r"\\(?:title|part|chapter|(?:sub){0,2}section|paragraph)\*?(?:\[[^\]]*\])?"
                      r"\{((?:[^{}]|\{[^{}]*\})*)\}")
_BIBLIOGRAPHY = re.compile(r"\\(?:bibliography|addbibresource)(?:\[[^\]]*\])?\{([^}]*)\}")
_DROPPED_ENVIRONMENTS = re.compile(
    r"\\begin\{(equation|align|gather|multline|eqnarray|displaymath|math|figure|table|tabular|verbatim|lstlisting"
    r"|thebibliography|tikzpicture)(\*?)\}.*?\\end\{\1\2\}", re.S)
_UNWRAPPED = re.compile(
    r"\\(?:emph|textbf|textit|textsc|texttt|textrm|textsf|underline|mbox|text|url|mathrm)\{([^{}]*)\}")
_ESCAPES = {r"\%": "%", r"\&": "&", r"\_": "_", r"\#": "#", r"\$": "$", r"\{": "{", r"\}": "}", "~": " ",
            "---": "—", "--": "–", "``": "“", "''": "”", r"\,": " ", r"\ ": " "}


def from_latex(text: str) -> PlainText:
    """The manuscript's prose; headings from \\title and sectioning commands (the title the first)."""
    out = PlainText("")
    text = re.sub(r"(?<!\\)%.*", "", text)  # comments
    out.bibliography = [name.strip() for m in _BIBLIOGRAPHY.finditer(text) for name in m.group(1).split(",")
                        if name.strip()]
    body = re.search(r"\\begin\{document\}(.*?)(?:\\end\{document\}|$)", text, re.S)
    title = re.search(r"\\title(?:\[[^\]]*\])?\{((?:[^{}]|\{[^{}]*\})*)\}", text)
    text = body.group(1) if body else text
    if title and r"\maketitle" in text:
        text = text.replace(r"\maketitle", f"\\title{{{title.group(1)}}}", 1)
    text = _DROPPED_ENVIRONMENTS.sub("", text)
    text = re.sub(r"\$\$.*?\$\$|\\\[.*?\\\]", "", text, flags=re.S)
    text = re.sub(r"(?<!\\)\$[^$]*\$", "", text)
    text = _CITE.sub(_citation, text)
    text = _HEADING.sub(lambda m: f"\n\n\x00{_inline(m.group(1))}\n\n", text)
    text = re.sub(r"\\item(?:\[[^\]]*\])?\s*", "\n- ", text)
    text = _BIBLIOGRAPHY.sub("", text)
    text = re.sub(r"\\(?:begin|end)\{[^}]*\}(?:\[[^\]]*\])?|\\(?:label|ref|eqref|cref|bibliographystyle)\{[^}]*\}",
                  "", text)
    text = re.sub(r"\\\\(?:\[[^\]]*\])?|\\par\b|\\newline\b", "\n\n", text)
    lines: list[str] = []
    pos = 0
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = re.sub(r"[ \t]*\n[ \t]*(?!- )", " ", paragraph.strip())
        if not paragraph:
            continue
        if paragraph.startswith("\x00"):
            paragraph = paragraph[1:].strip()
            out.headings.add(pos)
            out.title = out.title or paragraph
        paragraph = _inline(paragraph)
        lines.append(paragraph)
        pos += len(paragraph) + 2
    out.text = "\n\n".join(lines)
    return out


def _citation(m: re.Match[str]) -> str:
    """A citation command as Pandoc writes it: "[@a; @b]", or "@a and @b" for a narrative one."""
    keys = [f"@{key.strip()}" for key in m.group(2).split(",") if key.strip()]
    return " and ".join(keys) if m.group(1) in _NARRATIVE else "[" + "; ".join(keys) + "]"


def _inline(text: str) -> str:
    """Formatting commands unwrapped, escapes and dashes as characters, other commands dropped."""
    previous = None
    while previous != text:
        previous, text = text, _UNWRAPPED.sub(r"\1", text)
    text = re.sub(r"\\href\{[^}]*\}\{([^}]*)\}", r"\1", text)
    for escape, char in _ESCAPES.items():
        text = text.replace(escape, char)
    text = re.sub(r"\\[a-zA-Z]+\*?(?:\[[^\]]*\])?", "", text)
    return re.sub(r"[ \t]{2,}", " ", text.replace("{", "").replace("}", "")).strip()
