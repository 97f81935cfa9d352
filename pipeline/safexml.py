"""XML from outside (NCBI's replies, imported files, Word documents) parsed without its entities.

Entity declarations are how XML attacks work: an external entity reads a local file or a URL
into the document (XXE), nested ones expand a few hundred bytes into gigabytes ("billion
laughs"). The XML litmine reads never needs one: PubMed, PMC and BioC files name a DTD but
declare nothing inline, Word parts have no DOCTYPE. So a document whose prolog declares any
entity is refused before it is parsed, and the standard library's parser (expat, which never
loads a DTD or external entity) reads the rest. This is defusedxml's ``forbid_entities`` rule,
checked with expat itself up to the root element only, so the C parser keeps its speed.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.parsers import expat


class UnsafeXML(ValueError):
    """XML that declares entities."""


class _Root(Exception):
    """The prolog is over: the root element starts."""


def check(data: bytes | str) -> None:
    """Raise UnsafeXML if the document's prolog declares an entity. A document malformed before
    its root passes: the parser that reads it then says where."""
    parser = expat.ParserCreate()

    def declared(name: str, is_parameter: int, *_: object) -> None:
        raise UnsafeXML(f"declares the XML entity {'%' if is_parameter else '&'}{name}; (entity declarations "
                        "are refused: they can read local files or expand without limit)")

    def root(*_: object) -> None:
        raise _Root

    parser.EntityDeclHandler = declared
    parser.StartElementHandler = root
    try:
        parser.Parse(data, True)
    except _Root:
        return
    except expat.ExpatError:
        return


def fromstring(data: bytes | str) -> ET.Element:
    """ElementTree's root of a document that declares no entity (UnsafeXML), or ET.ParseError."""
    check(data)
    return ET.fromstring(data)
