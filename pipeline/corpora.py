"""Facts about the gold corpora litmine learns from and is scored on, in one place: the
entity types each annotates, the splits the linker learns from, how each names concepts,
and its relation vocabulary as litmine's relations.

Training, linking and evaluation all read these; keeping them here means none of those
stages has to import another to learn them.
"""
from __future__ import annotations

from pipeline.datatypes import Mention
from pipeline.entities.kb import Concept, KnowledgeBase


# corpus type -> litmine type. Types mapped to None are annotated but not litmine's
# (NLM-Gene's protein domains and unnormalized "Other" gene-like names, BioRED's cell
# lines): their spans are left out of the loss rather than taught as non-entities.
NER_TYPES: dict[str, dict[str, str | None]] = {
    "bc5cdr": {"Chemical": "Chemical", "Disease": "Disease"},
    "biored": {"ChemicalEntity": "Chemical", "DiseaseOrPhenotypicFeature": "Disease", "GeneOrGeneProduct": "Gene",
               "SequenceVariant": "Variant", "OrganismTaxon": "Species", "CellLine": None},
    "nlm_gene": {"Gene": "Gene", "GENERIF": "Gene", "STARGENE": "Gene", "Other": None, "Domain": None},
    "drugprot": {"CHEMICAL": "Chemical", "GENE-Y": "Gene", "GENE-N": "Gene", "GENE": "Gene"},
    "chemprot": {"CHEMICAL": "Chemical", "GENE-Y": "Gene", "GENE-N": "Gene"},
}


# The train splits whose annotations the linker learns from (names, orthologs; pipeline.entities.linking),
# never dev or test.
TRAIN_SPLITS = (("bc5cdr", "train"), ("biored", "train"), ("nlm_gene", "train"))


# Which KB cross-reference names a concept in each document-level corpus, by litmine type.
CORPUS_XREFS = {
    "bc5cdr": {"Chemical": "MESH", "Disease": "MESH"},
    "biored": {"Chemical": "MESH", "Disease": "MESH", "Gene": "NCBIGene", "Species": "NCBITaxon"},
}


def corpus_ids(kb: KnowledgeBase, corpus: str, mention: Mention) -> tuple[str, ...]:
    """Every id a tagged mention's concept has in the corpus's vocabulary ("D012345", "3766"),
    the one it stands for first (`corpus_id`), or () if it has none.

    A concept without a cross-reference into that vocabulary (an HPO phenotype, a DrugBank drug
    MeSH lacks) falls back to the best-named concept of the same type that has one, by the
    mention's text, then the text without its leading words, then the concept's name:
    "nausea" (HP:0002017) is MeSH D009325, "complete heart block" (HP:0001709) is "heart
    block", D006327.
    """
    xref = CORPUS_XREFS.get(corpus, {}).get(mention.type)
    if not xref or not mention.id:
        return ()
    found = _xref_ids(kb.concept(mention.id), mention.id, xref)
    if found:
        return found
    concept = kb.concept(mention.id)
    words = mention.text.split()
    for name in (*(" ".join(words[i:]) for i in range(len(words))), concept.name if concept else ""):
        for candidate in kb.lookup(name) if name else []:
            if candidate.type == mention.type:
                found = _xref_ids(candidate, candidate.id, xref)
                if found:
                    return found
    return ()


def corpus_id(kb: KnowledgeBase, corpus: str, mention: Mention) -> tuple[str, ...]:
    """The one corpus id a tagged mention stands for, as a 0- or 1-tuple.

    A drug's cross-references list several MeSH ids: the drug's descriptor and supplementary
    concepts for its salts and brands (dexamethasone: D003907, C018038, C004180, ...).
    Counting them all would make one mention several concepts, each a false relation; the
    first descriptor is the drug itself (BC5CDR dev, end to end: 40.3 -> 45.0 CID F1).
    """
    return corpus_ids(kb, corpus, mention)[:1]


def _xref_ids(concept: Concept | None, concept_id: str, xref: str) -> tuple[str, ...]:
    """The concept's ids in an xref vocabulary, MeSH descriptors (D...) before supplementary
    concepts (C...), each kept in the vocabulary's order."""
    prefix, _, local = concept_id.partition(":")
    if prefix.upper() == xref.upper():
        return (local,)
    values = [v.split(":")[-1] for v in (concept.xrefs.get(xref, "") if concept else "").split("|") if v]
    return tuple(sorted(values, key=lambda v: xref.upper() == "MESH" and not v.startswith("D")))


# Each corpus's entity types as litmine's types.
ENTITY_TYPES = {
    "CHEMICAL": "Chemical", "GENE": "Gene", "GENE-Y": "Gene", "GENE-N": "Gene",
    "Chemical": "Chemical", "Disease": "Disease",
    "ChemicalEntity": "Chemical", "GeneOrGeneProduct": "Gene", "DiseaseOrPhenotypicFeature": "Disease",
    "SequenceVariant": "Variant", "OrganismTaxon": "Species", "CellLine": "CellLine",
}


DRUGPROT_TYPES = ("INHIBITOR", "DIRECT-REGULATOR", "SUBSTRATE", "ACTIVATOR", "INDIRECT-UPREGULATOR",
                  "INDIRECT-DOWNREGULATOR", "ANTAGONIST", "PRODUCT-OF", "PART-OF", "AGONIST",
                  "AGONIST-ACTIVATOR", "SUBSTRATE_PRODUCT-OF", "AGONIST-INHIBITOR")


CHEMPROT_GROUPS = ("CPR:3", "CPR:4", "CPR:5", "CPR:6", "CPR:9")


BIORED_TYPES = ("Association", "Positive_Correlation", "Negative_Correlation", "Bind", "Cotreatment",
                "Comparison", "Drug_Interaction", "Conversion")


# Corpus type -> litmine relation. BioRED's correlations depend on what they join (BIORED_VOCABULARY).
VOCABULARY: dict[str, dict[str, str]] = {
    "drugprot": {
        "INHIBITOR": "inhibits", "ACTIVATOR": "activates", "AGONIST": "agonist_of",
        "AGONIST-ACTIVATOR": "agonist_of", "AGONIST-INHIBITOR": "agonist_of", "ANTAGONIST": "antagonist_of",
        "DIRECT-REGULATOR": "binds", "INDIRECT-UPREGULATOR": "increases", "INDIRECT-DOWNREGULATOR": "decreases",
        "SUBSTRATE": "substrate_of", "SUBSTRATE_PRODUCT-OF": "substrate_of", "PRODUCT-OF": "associated_with",
        "PART-OF": "associated_with",
    },
    "chemprot": {"CPR:3": "activates", "CPR:4": "inhibits", "CPR:5": "agonist_of", "CPR:6": "antagonist_of",
                 "CPR:9": "substrate_of"},
    "bc5cdr": {"CID": "causes"},
}


# BioRED: (type, the pair's litmine types sorted) -> relation; types absent here map to "associated_with"
# (pairs between two chemicals, Cotreatment, Comparison, Drug_Interaction, Conversion are not emitted).
BIORED_VOCABULARY: dict[tuple[str, tuple[str, str]], str] = {
    ("Positive_Correlation", ("Chemical", "Disease")): "causes",
    ("Negative_Correlation", ("Chemical", "Disease")): "treats",
    ("Positive_Correlation", ("Chemical", "Gene")): "increases",
    ("Negative_Correlation", ("Chemical", "Gene")): "decreases",
    ("Positive_Correlation", ("Disease", "Gene")): "increases",
    ("Negative_Correlation", ("Disease", "Gene")): "decreases",
    ("Positive_Correlation", ("Disease", "Variant")): "increases",
    ("Negative_Correlation", ("Disease", "Variant")): "decreases",
    ("Bind", ("Chemical", "Gene")): "binds",
}


# The (subject, object) order litmine states each pair in; the extractor emits only these pairs.
SUBJECT_FIRST = [("Chemical", "Gene"), ("Chemical", "Disease"), ("Gene", "Disease"), ("Variant", "Disease"),
                 ("Chemical", "Variant")]


EMITTED = frozenset(frozenset(p) for p in SUBJECT_FIRST)


def to_vocabulary(corpus: str, label: str, types: tuple[str, str]) -> str | None:
    """The litmine relation a corpus label stands for between mentions of these types, or None
    where litmine has none (BioRED's chemical–chemical types)."""
    if corpus == "biored":
        if types == ("Chemical", "Chemical") or label not in BIORED_TYPES[:4]:
            return None
        return BIORED_VOCABULARY.get((label, tuple(sorted(types))), "associated_with")
    return VOCABULARY[corpus].get(label)
