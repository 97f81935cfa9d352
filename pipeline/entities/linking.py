"""Entity linking (normalization): give each mention a KB id and canonical name.

A mention's candidates come from three sources, all restricted to the mention's type:

1. the corpora - the concept annotators gave that name in the train splits of BC5CDR,
   BioRED and NLM-Gene (TRAIN_SPLITS), which teaches the conventions no vocabulary lists;
2. the dictionary - litmine's name table (pipeline.entities.kb) as the dictionary tagger compiles
   it (pipeline.entities.dictionary): the mention's exact name under the tagger's case rules and
   ranking, else its normalized name or singular ("SSRIs") in the KB;
3. scispaCy's candidate generator over the same KB: TF-IDF character 3-grams of every
   alias, searched exactly (cosine similarity against every alias), for names no
   vocabulary spells that way ("sertralin").

The choice is deliberately simple, in that order: a name the corpora know, else a
dictionary hit (best-named first), else either for the name without a drug's salt, for
the first name a composite mention coordinates ("caspase-3/7") or for the name without
its leading words ("parkinsonian levodopa"), else the ANN candidate with the highest
cosine similarity if it reaches ANN_THRESHOLD, else no id. A one-word name with a capital after a
small letter ("AChE") is a symbol: no source gives it a concept the KB names so only as a word
("Ache", Pain). An abbreviation the text defines
("valproic acid (VPA)") is tried through its long form first. A gene name the dictionary
gives several genes ("p62") then takes the one of them the text names otherwise, one
sense per document ("p62/SQSTM1").

Genes keep their human concept as id; `Linker.gene_species` adds the organism a gene
mention is about and that organism's NCBI Gene id (pipeline.entities.species: mouse Tnf in a mouse
study), from GtoPdb's orthologs and those the train corpora teach (corpus_orthologs).

The scispaCy artifacts the candidates are searched in, and how: pipeline.entities.alias_index.
Names are cached; the names a batch of documents needs searched are searched together
(`Linker.search_ahead`, which the pipeline's linker component calls on each batch).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import scipy.sparse

from pipeline import corpora
from pipeline.codehash import code_hash
from pipeline.config import Settings
from pipeline.corpora import CORPUS_XREFS, NER_TYPES, TRAIN_SPLITS, corpus_ids
from pipeline.datatypes import GoldDocument, Mention
from pipeline.entities import alias_index, species
from pipeline.entities.alias_index import KB_FILE, ExactIndex, build_index, say
from pipeline.entities.dictionary import DictionaryTagger
from pipeline.entities.kb import SALT_WORDS, KnowledgeBase, fold_name, normalize_name, singular_forms, vocabulary_rank
from pipeline.entities.species import HUMAN, GeneSpecies, Orthologs, SpeciesContext, SpeciesMention
from pipeline.models import linker_dir
from pipeline.records.store import Store

# scispaCy is imported where the linker is built or opened (its candidate generator imports scikit-learn,
# 2 s), not by a run that only needs `learned_key`
if TYPE_CHECKING:
    from scispacy.candidate_generation import CandidateGenerator, MentionCandidate

LEARNED = ("lexicon", "orthologs")  # the tables (Linker.tables) the train corpora teach: learned-<key>.json.gz
ANN_K = 30  # neighbours asked of the index per name (scispaCy's default; 100 changed nothing on dev)
# The cosine similarity a nearest-neighbour candidate needs. On BC5CDR + BioRED dev, such links
# at or above 0.75 were right about half the time (206 of 422), those in 0.70-0.75 less than a third.
ANN_THRESHOLD = 0.75

KB_NAME_ATTR = "kb_name"
SPECIES_ATTR = "species"  # a gene's organism, "NCBITaxon:10090" (pipeline.entities.species)
SPECIES_GENE_ATTR = "species_gene_id"  # its NCBI Gene id in that organism (the Span attributes: ner.py)


def write_tables(path: Path, tables: dict[str, list[list[str]]]) -> None:
    """Linker tables as gzipped JSON, whole or not at all, the same bytes for the same tables."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:  # no name
        f.write(json.dumps(tables).encode())  # (a header naming the temporary file made each process's bytes differ)
    os.replace(tmp, path)


def read_tables(path: Path) -> dict[str, list[list[str]]]:
    return json.loads(gzip.decompress(path.read_bytes()))


# ---------------------------------------------------------------------------- linking


# One word with a capital after a small letter: a symbol ("AChE", "cAMP", "ApoE"), not a word.
_INNER_CAPITAL = re.compile(r"\S*[a-z]\S*[A-Z]\S*")


@dataclass(frozen=True)
class Candidate:
    concept_id: str
    score: float  # 1.0 for a name the corpora or the dictionary know, else the best alias's cosine similarity
    source: str  # "corpus" | "dictionary" | "ann"


@dataclass
class Linker:
    """Links mentions of known type to KB concepts; see the module docstring for how."""

    kb: KnowledgeBase
    tagger: DictionaryTagger
    generator: CandidateGenerator
    lexicon: dict[tuple[str, str], str] = field(default_factory=dict)  # corpus_lexicon
    orthologs: Orthologs = field(default_factory=Orthologs)  # for gene_species
    k: int = ANN_K
    threshold: float = ANN_THRESHOLD
    index: Path | None = None  # the folder of scispaCy artifacts `open` read
    _cache: dict[tuple[str, str], list[Candidate]] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, kb: KnowledgeBase, directory: Path) -> Linker:
        """A linker over the artifacts `build_index` wrote to `directory`, without corpus names."""
        from scispacy.candidate_generation import CandidateGenerator, LinkerPaths
        from scispacy.linking_utils import KnowledgeBase as ScispacyKB

        paths = LinkerPaths.from_directory(directory)
        index = ExactIndex(scipy.sparse.load_npz(paths.tfidf_vectors))
        generator = CandidateGenerator(index, paths.get_tfidf_vectorizer(), paths.get_concept_aliases(),
                                       ScispacyKB(str(Path(directory) / KB_FILE)))
        return cls(kb, DictionaryTagger(kb), generator, index=Path(directory))

    @classmethod
    def load(cls, settings: Settings, kb: KnowledgeBase, progress: bool = True) -> Linker:
        """The linker for `kb`: its index, GtoPdb's rodent orthologs and, when the store has the
        train corpora, what they teach. The index and the taught names are built once (by
        `litmine models build`, else on first use) into the linker's folder and read from it after."""
        directory = build_index(kb, linker_dir(settings, kb), progress=progress)
        linker = cls.open(kb, directory)
        linker.orthologs = Orthologs.from_gtopdb(settings.shared)
        if settings.store_path.exists():
            with Store(settings.store_path) as store:
                linker = linker.taught(store, directory, progress)
        return linker

    def taught(self, store: Store, directory: Path, progress: bool = True) -> Linker:
        """This linker with what the store's train corpora teach (`learn`), read from the file in
        `directory` that holds it for these corpora and this code, written there first if missing."""
        path = Path(directory) / f"learned-{learned_key(store)}.json.gz"
        if path.is_file():
            return self.with_tables(read_tables(path))
        say(progress, "learning the names and orthologs annotated in the train corpora")
        linker = self.learn(store)
        write_tables(path, {name: rows for name, rows in linker.tables().items() if name in LEARNED})
        return linker

    def learn(self, store: Store, exclude: Collection[str] = ()) -> Linker:
        """This linker with the names (corpus_lexicon) and then the orthologs (corpus_orthologs)
        the train corpora teach, leaving out documents in `exclude`."""
        named = replace(self, lexicon=corpus_lexicon(store, self, exclude), _cache={})
        return replace(named, orthologs=replace(self.orthologs, learned=corpus_orthologs(store, named, exclude)))

    def tables(self) -> dict[str, list[list[str]]]:
        """What the linker knows besides its KB and index, as sorted rows: the names the train corpora
        taught, the orthologs they taught, and GtoPdb's."""
        return {"lexicon": sorted([*key, cid] for key, cid in self.lexicon.items()),
                "orthologs": sorted([*key, gene] for key, gene in self.orthologs.learned.items()),
                "gtopdb_orthologs": sorted([*key, gene] for key, gene in self.orthologs.curated.items())}

    def with_tables(self, tables: dict[str, list[list[str]]]) -> Linker:
        """This linker with the tables of `tables()` that `tables` holds."""
        rows = {name: {tuple(row[:-1]): row[-1] for row in table} for name, table in tables.items()}
        return replace(self, lexicon=rows["lexicon"], _cache={}, orthologs=Orthologs(
            rows.get("gtopdb_orthologs", self.orthologs.curated), rows["orthologs"]))

    @property
    def concept_types(self) -> dict[str, str]:
        """Concept id -> litmine type, for every concept the index knows."""
        return {cid: entity.types[0] for cid, entity in self.generator.kb.cui_to_entity.items()}

    def link(self, text: str, spans: list[tuple[int, int, str]],
             abbreviations: dict[str, str] | None = None) -> list[Mention]:
        """One Mention per (start, end, litmine type) span, with id "" where no candidate
        is good enough. `abbreviations` (short -> long form) default to those the text defines."""
        chosen = []
        for (_, _, type_), names in zip(spans, _names(text, spans, abbreviations)):
            best = self.best(names, type_)
            chosen.append(best.concept_id if best else "")
        chosen = self._one_sense(text, spans, chosen)
        mentions = []
        for (start, end, type_), cid in zip(spans, chosen):
            concept = self.kb.concept(cid) if cid else None
            mentions.append(Mention(start, end, text[start:end], type_, concept.id if concept else "",
                                    concept.name if concept else ""))
        return mentions

    def _one_sense(self, text: str, spans: list[tuple[int, int, str]], chosen: list[str]) -> list[str]:
        """`chosen` with each gene name the dictionary gives several genes ("p62": NUP62,
        SQSTM1) linked to the one of them the text names otherwise ("p62/SQSTM1"). Genes
        only: chemical and disease names that several concepts share are mostly related
        concepts a text names side by side ("seizures": Seizures, Epilepsy), and on BC5CDR
        dev the rule only lost links there."""
        names = [normalize_name(text[start:end]) for start, end, _ in spans]
        resolved = list(chosen)
        for i, ((start, end, type_), cid) in enumerate(zip(spans, chosen)):
            senses = [c.concept_id for c in self._dictionary(text[start:end], type_)] if type_ == "Gene" else []
            if len(senses) < 2:
                continue
            elsewhere = {other for other, name in zip(chosen, names) if other and name != names[i]}
            if cid not in elsewhere:
                resolved[i] = next((sense for sense in senses if sense in elsewhere), cid)
        return resolved

    def gene_species(self, text: str, mentions: list[Mention]) -> list[GeneSpecies | None]:
        """For each linked Gene mention, the organism it is about (from the text's cue words and
        its linked Species mentions, pipeline.entities.species) and that organism's NCBI Gene id; None
        for other mentions."""
        context = self.species_context(text, mentions)
        found: list[GeneSpecies | None] = []
        for m in mentions:
            if m.type != "Gene" or not m.id:
                found.append(None)
                continue
            taxon = context.taxon(m.start, m.end)
            if taxon == HUMAN:
                concept = self.kb.concept(m.id)
                found.append(GeneSpecies(taxon, concept.xrefs.get("NCBIGene", "") if concept else ""))
            else:
                found.append(GeneSpecies(taxon, self.orthologs.gene_id(m.id, taxon)))
        return found

    @staticmethod
    def species_context(text: str, mentions: list[Mention]) -> SpeciesContext:
        """The species `text` names: its cue words and its linked Species mentions."""
        tagged = [SpeciesMention(m.start, m.end, m.id) for m in mentions if m.type == "Species"]
        return SpeciesContext.find(text, tagged)

    def best(self, names: list[str], type_: str) -> Candidate | None:
        """The best candidate of this type for any of the names (a long form first): the first
        name that corpora or dictionary know, else such a name left when a drug's salt
        ("metformin hydrochloride" is metformin), all but a composite mention's first name
        ("MMP-2/-9" is MMP-2) or leading words ("parkinsonian levodopa" is levodopa) are
        dropped, else the most similar ANN candidate if good enough."""
        found = [self.candidates(name, type_) for name in names]
        for candidates in found:
            if candidates and candidates[0].source != "ann":
                return candidates[0]
        for name in names:
            for shorter in _shorter_names(name, type_):
                known = self._known(shorter, type_)
                if known:
                    return known[0]
        best = max((c[0] for c in found if c), key=lambda c: c.score, default=None)
        return best if best is not None and best.score >= self.threshold else None

    def candidates(self, name: str, type_: str) -> list[Candidate]:
        """Candidates of this type for a name, best first: the concept annotators gave the name
        in the train corpora, else dictionary hits, else ANN neighbours."""
        key = (name, type_)
        if key not in self._cache:
            self._cache[key] = self._known(name, type_) or self._as_written(name, self._ann(name, type_))
        return self._cache[key]

    def _known(self, name: str, type_: str) -> list[Candidate]:
        """The corpora's concept for the name, else dictionary hits: candidates without ANN."""
        known = self.lexicon.get((normalize_name(name), type_))
        taught = self._as_written(name, [Candidate(known, 1.0, "corpus")] if known else [])
        return taught or self._as_written(name, self._dictionary(name, type_))

    def _dictionary(self, name: str, type_: str) -> list[Candidate]:
        exact = [e.concept_id for e in self.tagger.entries_named(normalize_name(name))
                 if e.type == type_ and e.accepts(fold_name(name), len(name.split()))]
        loose = [c.id for c in self.kb.lookup(name) if c.type == type_]
        return [Candidate(cid, 1.0, "dictionary") for cid in dict.fromkeys(exact + loose)]

    def _as_written(self, name: str, candidates: list[Candidate]) -> list[Candidate]:
        """The candidates, but for a one-word name with a capital after a small letter ("AChE", "cAMP"),
        none that the KB writes under that name only as a word ("ache", "Ache": Pain): such a name is
        a symbol, and the corpora, the KB's loose lookup and the index all fold case."""
        if not candidates or not _INNER_CAPITAL.fullmatch(name):
            return candidates
        norm = normalize_name(name)
        entries = [e for key in (norm, *singular_forms(norm)) for e in self.kb.entries(key)]
        symbols = {e.concept_id for e in entries if not e.name[1:].islower()}
        words = {e.concept_id for e in entries} - symbols
        return [c for c in candidates if c.concept_id not in words]

    def search_ahead(self, documents: Sequence[tuple[str, list[tuple[int, int, str]], dict[str, str] | None]]) -> None:
        """Cache the candidates of every name that `link` of each (text, spans, abbreviations)
        will ask for, the names no corpus or dictionary knows searched in the index together:
        one vectorizer and index call for the documents, not one a name (a name is searched the
        same alone or with others, so links do not change)."""
        wanted: dict[tuple[str, str], None] = {}
        for text, spans, abbreviations in documents:
            for (_, _, type_), names in zip(spans, _names(text, spans, abbreviations)):
                for key in ((name, type_) for name in names if (name, type_) not in self._cache):
                    if known := self._known(*key):
                        self._cache[key] = known
                    else:
                        wanted[key] = None
        names = list(dict.fromkeys(name for name, _ in wanted))
        found = dict(zip(names, self.generator(names, self.k)))
        for name, type_ in wanted:
            self._cache[(name, type_)] = self._as_written(name, self._of_type(found[name], type_))

    def _ann(self, name: str, type_: str) -> list[Candidate]:
        return self._of_type(self.generator([name], self.k)[0], type_)

    def _of_type(self, found: list[MentionCandidate], type_: str) -> list[Candidate]:
        """The index's neighbours of a name that are of the type, most similar first."""
        types = self.generator.kb.cui_to_entity
        scored = [(max(c.similarities), c.concept_id) for c in found if type_ in types[c.concept_id].types]
        scored.sort(key=lambda s: (-round(s[0], 4), vocabulary_rank(s[1]), s[1]))
        return [Candidate(cid, score, "ann") for score, cid in scored]


def _names(text: str, spans: list[tuple[int, int, str]], abbreviations: dict[str, str] | None) -> list[list[str]]:
    """The names each span is linked by: its long form first where `abbreviations` (short -> long
    form; default: those the text defines) make it an abbreviation, then itself."""
    if abbreviations is None:
        from pipeline.entities.abbreviations import find_abbreviations  # imports spaCy: only when linking

        abbreviations = find_abbreviations(text)
    surfaces = [text[start:end] for start, end, _ in spans]
    return [[abbreviations[surface], surface] if surface in abbreviations else [surface] for surface in surfaces]


_CONJUNCTION = re.compile(r"\s*(?:/|,|&|\band\b|\bor\b)\s*")


def _shorter_names(name: str, type_: str) -> Iterator[str]:
    """A chemical's name without its salt, then the first name a composite mention coordinates
    ("caspase-3/7", "SOCS-1 and -3"), then the name without its leading words, longest first."""
    words = name.split()
    if type_ == "Chemical" and len(words) > 1 and words[-1].lower() in SALT_WORDS:
        yield " ".join(words[:-1])
    first = _CONJUNCTION.split(name, maxsplit=1)[0]
    if first and first != name:
        yield first
    for i in range(1, len(words)):
        yield " ".join(words[i:])


# ---------------------------------------------------------------------------- corpus names

# NLM-Gene's genes carry NCBI Gene ids, as BioRED's do: their concepts translate the same way.
ID_CORPUS = {"nlm_gene": "biored"}


def gold_ids(identifiers: str) -> set[str]:
    """A gold identifier string's ids: composite mentions list several ("D001|D002", "3162,3163")."""
    return {i for i in re.split(r"[|,;]", identifiers) if i and i != "-1"}


def corpus_concepts(kb: KnowledgeBase, corpus: str, concept_types: dict[str, str]) -> dict[str, dict[str, str]]:
    """By litmine type, corpus id -> the KB concept that translates to it (the concept that
    is that id itself first, then by vocabulary): the inverse of corpus_ids."""
    xrefs = CORPUS_XREFS[corpus]
    found: dict[str, dict[str, str]] = {t: {} for t in xrefs}
    ranked = sorted((vocabulary_rank(cid), cid) for cid, t in concept_types.items() if t in xrefs)
    for _, cid in ranked:
        type_ = concept_types[cid]
        for value in corpus_ids(kb, corpus, Mention(0, 0, "", type_, cid)):
            if cid.partition(":")[2] == value:
                found[type_][value] = cid
            else:
                found[type_].setdefault(value, cid)
    return found


def learned_key(store: Store) -> str:
    """What the linker learns depends on: the train splits' annotations and the code that reads them."""
    fingerprints = [store.gold_fingerprint(corpus, split) for corpus, split in TRAIN_SPLITS]
    code = code_hash(sys.modules[__name__], alias_index, species, corpus_ids,
                     *((corpora, name) for name in ("CORPUS_XREFS", "NER_TYPES", "TRAIN_SPLITS")))
    return hashlib.sha256("|".join([*fingerprints, code]).encode()).hexdigest()[:12]


def train_documents(store: Store, linker: Linker, exclude: Collection[str] = (), annotating: str = ""
                    ) -> Iterator[tuple[GoldDocument, dict[str, str | None], dict[str, dict[str, str]]]]:
    """The documents of TRAIN_SPLITS (of the corpora that annotate the litmine type `annotating`
    if given) not in `exclude`, each with its corpus's types -> litmine types and, by litmine
    type, corpus id -> KB concept (corpus_concepts, where a mouse or rat gene GtoPdb knows
    stands for its human ortholog)."""
    tables: dict[str, dict[str, dict[str, str]]] = {}
    for corpus, split in TRAIN_SPLITS:
        if annotating and annotating not in NER_TYPES[corpus].values():
            continue
        id_corpus = ID_CORPUS.get(corpus, corpus)
        if id_corpus not in tables:
            tables[id_corpus] = corpus_concepts(linker.kb, id_corpus, linker.concept_types)
            if "Gene" in tables[id_corpus]:
                tables[id_corpus]["Gene"] = {**linker.orthologs.human_concepts(), **tables[id_corpus]["Gene"]}
        for doc in store.gold_documents(corpus, split):
            if doc.doc_id not in exclude:
                yield doc, NER_TYPES[corpus], tables[id_corpus]


def corpus_lexicon(store: Store, linker: Linker, exclude: Collection[str] = ()) -> dict[tuple[str, str], str]:
    """(normalized name, type) -> concept for the names annotators linked in TRAIN_SPLITS
    (the majority concept where they disagree), leaving out documents in `exclude`.

    These teach the linker the corpora's conventions no vocabulary lists ("toxicity" is
    MeSH's "Drug-Related Side Effects and Adverse Reactions", "dyskinesia" in a drug
    context its "Dyskinesia, Drug-Induced"); a mouse gene's names teach its human
    ortholog's ("AT1a", mouse Agtr1a, is AGTR1). Mentions whose ids no KB concept carries
    or that name several concepts ("breast and ovarian cancer") teach nothing.
    """
    counts: dict[tuple[str, str], Counter[str]] = {}
    for doc, types, concepts in train_documents(store, linker, exclude):
        for e in doc.entities:
            type_ = types.get(e.type)
            found = {concepts[type_][i] for i in gold_ids(e.identifiers) if i in concepts.get(type_, {})}
            if len(found) == 1:
                counts.setdefault((normalize_name(e.text), type_), Counter())[found.pop()] += 1
    return {key: counter.most_common(1)[0][0] for key, counter in counts.items()}


def corpus_orthologs(store: Store, linker: Linker, exclude: Collection[str] = ()) -> dict[tuple[str, str], str]:
    """(human gene concept, taxon) -> the gene id annotators gave the mentions of that species
    (by pipeline.entities.species) that the linker links to that concept in TRAIN_SPLITS (the majority
    where they differ), leaving out documents in `exclude`: the mouse and rat genes GtoPdb
    does not list. Only ids no KB concept or GtoPdb ortholog carries teach.
    """
    counts: dict[tuple[str, str], Counter[str]] = {}
    for doc, types, concepts in train_documents(store, linker, exclude, annotating="Gene"):
        entities = [(e, types.get(e.type)) for e in doc.entities if types.get(e.type) in ("Gene", "Species")]
        mentions = linker.link(doc.text, [(e.start, e.end, type_) for e, type_ in entities])
        context = linker.species_context(doc.text, mentions)
        for (e, type_), m in zip(entities, mentions):
            ids = gold_ids(e.identifiers)
            if type_ == "Gene" and m.id and len(ids) == 1 and not ids & concepts["Gene"].keys():
                taxon = context.taxon(m.start, m.end)
                if taxon != HUMAN:
                    counts.setdefault((m.id, taxon), Counter())[ids.pop()] += 1
    return {key: counter.most_common(1)[0][0] for key, counter in counts.items()}
