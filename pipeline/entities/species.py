"""Species-aware gene identifiers: which organism a gene mention is about, and that
organism's NCBI Gene id for the gene.

litmine's KB is human-only (HGNC), so the linker gives a mouse paper's "Tnf" the human
concept TNF. That concept stays the mention's id, so that claims and evidence meet on one
identifier, but corpora and databases that key genes by NCBI Gene id (BioRED, NLM-Gene)
expect the mouse gene, 21926. As GNormPlus does (SR4GN), the species comes from context:

1. the nearest species mention in the gene's sentence: a prefix ("mouse Tnf", "human TNF")
   or what follows ("PEMT knockout mice");
2. else the document's: the one its title (first sentence) names, else the one it mentions
   most, a rodent on a tie (a study's animals are its subject, its "patients" usually the
   motivation); human when it names none.

Only human, mouse and rat are told apart (TAXA): litmine has gene ids for no other species,
and a mouse study's E. coli lipopolysaccharide does not make its genes bacterial. Writing
conventions ("Tnf" for rodents, "TNF" for human) were tried as a further cue and changed
nothing on BioRED dev: rodent papers use both.

The mouse or rat gene is the ortholog GtoPdb lists for the human concept (about 2,800
targets), else the one the train corpora annotate for it (pipeline.entities.linking.corpus_orthologs).
"""
from __future__ import annotations

import csv
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.documents.sentences import split_sentences
from pipeline.entities.kb import INPUTS

HUMAN = "NCBITaxon:9606"
MOUSE = "NCBITaxon:10090"
RAT = "NCBITaxon:10116"
TAXA = (HUMAN, MOUSE, RAT)

# Words that say which organism a study is about, species names or not ("patients", "Wistar").
_CUES = {
    HUMAN: r"humans?|patients?|Homo sapiens|(?:wo)?m[ae]n|child(?:ren)?|infants?|individuals|subjects|volunteers"
           r"|participants",
    MOUSE: r"mouse|mice|murine|Mus musculus|C57BL/?6J?|BALB/c",
    RAT: r"rats?|Rattus(?: norvegicus)?|Sprague[- ]Dawley|Wistar|Long[- ]Evans",
}
_CUE = re.compile("|".join(f"(?P<t{taxon.partition(':')[2]}>\\b(?:{words})\\b)" for taxon, words in _CUES.items()),
                  re.IGNORECASE)


@dataclass(frozen=True)
class SpeciesMention:
    start: int
    end: int
    taxon: str  # "NCBITaxon:10090"


@dataclass(frozen=True)
class GeneSpecies:
    """The organism a gene mention is about and that organism's NCBI Gene id for it
    ("" where no ortholog is known)."""

    taxon: str
    gene_id: str


def species_cues(text: str) -> list[SpeciesMention]:
    """Mentions of human, mouse and rat by the words in _CUES, which a species tagger may
    miss or not count as species ("patients", "Wistar")."""
    return [SpeciesMention(m.start(), m.end(), f"NCBITaxon:{m.lastgroup[1:]}") for m in _CUE.finditer(text)]


@dataclass
class SpeciesContext:
    """The species a text mentions, to decide which one each of its gene mentions is about."""

    text: str
    species: list[SpeciesMention]  # of TAXA, in text order
    sentences: list[tuple[int, int]] = field(init=False)
    dominant: str = field(init=False)

    def __post_init__(self) -> None:
        self.sentences = split_sentences(self.text)
        counts = Counter(m.taxon for m in self.species)
        title_end = self.sentences[0][1] if self.sentences else 0
        in_title = {m.taxon for m in self.species if m.end <= title_end}
        self.dominant = max(TAXA, key=lambda t: (t in in_title, counts[t], t != HUMAN)) if counts else HUMAN

    @classmethod
    def find(cls, text: str, tagged: Iterable[SpeciesMention] = ()) -> SpeciesContext:
        """The context of `text` from its tagged species mentions and the cue words (a tagged
        mention wins where both start), keeping those of TAXA."""
        by_start: dict[int, SpeciesMention] = {}
        for m in [*tagged, *species_cues(text)]:
            by_start.setdefault(m.start, m)
        return cls(text, sorted((m for m in by_start.values() if m.taxon in TAXA), key=lambda m: m.start))

    def taxon(self, start: int, end: int) -> str:
        """The species of the mention at start..end (see the module docstring)."""
        first, last = self._sentence(start)
        inside = [m for m in self.species if first <= m.start and m.end <= last]
        if inside:
            return min(inside, key=lambda m: m.start - end if m.start >= end else start - m.end).taxon
        return self.dominant

    def _sentence(self, offset: int) -> tuple[int, int]:
        i = bisect_right([start for start, _ in self.sentences], offset) - 1
        return self.sentences[i] if i >= 0 else (0, len(self.text))


@dataclass(frozen=True)
class Orthologs:
    """(human gene concept, taxon) -> that species' NCBI Gene id: GtoPdb's first, else what
    the train corpora teach."""

    curated: dict[tuple[str, str], str] = field(default_factory=dict)
    learned: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def from_gtopdb(cls, shared: Path) -> Orthologs:
        """The mouse and rat Entrez ids GtoPdb gives its targets, keyed by the target's HGNC
        concept. Where it lists several (paralogs, in no fixed order) the lowest, the oldest
        record: Agtr1a 11607 for AGTR1, not Agtr1b 11608."""
        ids: dict[tuple[str, str], str] = {}
        with (shared / INPUTS["gtopdb_targets"]).open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                for taxon, column in ((MOUSE, "Mouse Entrez Gene"), (RAT, "Rat Entrez Gene")):
                    entrez = min((i for i in row[column].split("|") if i.isdigit()), key=int, default="")
                    for hgnc in filter(None, row["HGNC id"].split("|") if entrez else []):
                        ids.setdefault((f"HGNC:{hgnc}", taxon), entrez)
        return cls(ids)

    def gene_id(self, concept_id: str, taxon: str) -> str:
        key = (concept_id, taxon)
        return self.curated.get(key) or self.learned.get(key, "")

    def human_concepts(self) -> dict[str, str]:
        """GtoPdb's mouse and rat gene ids -> their human concept: what a rodent gene's
        annotated names teach about the human one."""
        return {gene_id: concept for (concept, _), gene_id in self.curated.items()}
