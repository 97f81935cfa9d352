"""Evidence strength: what kind of study a paper is, who or what it studied, and what it counts
for in a claim's verdict.

A paper's **study type** comes from PubMed's PublicationType, else from MeSH's study-design
descriptors (Cohort Studies...), else from the words of its title and abstract ("randomized,
double-blind", "a case of", "in rats"); corpus records have only those words. Its **species**
(human; animal, and which where it says; in vitro) comes from MeSH's check tags (Humans,
Animals, Rats...), else from its own words and Species mentions, the title's where it names any
(an animal study's abstract often names patients as its motive). Each says what decided it, so
that a reader can audit it.

The weights are a prior evidence hierarchy, stated, not fitted on any split (no corpus labels
study types). A paper counts once whatever it is; what it counts for is its confidence times:

- REVIEW for a narrative review: it says what others found, and those papers may be read too;
- ANECDOTE for a case report, and INDIRECT for an animal or in-vitro study, for a claim about
  people (one naming them: patients, women, humans...);
- INDIRECT, for a claim naming an animal, for a study of other subjects;
- 1 otherwise: a meta-analysis, a trial, an observational study, a study of unknown kind (nothing
  is held against what is not known) and, for a mechanistic claim (a drug acting on a target, or
  one naming cells), an animal or in-vitro study: there it is the right kind of evidence.

Weights stay in 0-1, so a claim's confidence does too; both sides of a `mixed` verdict keep weight.
A claim naming only a disease is not taken to be about people: on the pharma claims of the train
splits ("cisplatin causes nephrotoxicity", most citing a study in rats), reading it so halved the
confidence of 181 right verdicts resting on animal studies, and the confidence then ranked right
verdicts above wrong ones less well (AUC 0.850 -> 0.701; 0.852 without it). No verdict changed.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

from pipeline.datatypes import Claim, EvidenceItem, ExtractedRecord, Record, Strength
from pipeline.relations.qualifiers import system_cues

REVIEW = 0.7  # a narrative review: second-hand
ANECDOTE = 0.5  # a case report, for a claim about people
INDIRECT = 0.5  # a study of other subjects than the claim's: animals or cells for people, others for an animal

META, RCT, TRIAL, OBSERVATIONAL = "meta-analysis", "randomized controlled trial", "clinical trial", "observational"
CASE_REPORT, NARRATIVE, ANIMAL, IN_VITRO, OTHER = "case report", "review", "animal study", "in vitro", "other"
HUMAN = "human"
PEOPLE, MECHANISM, ANY = "people", "mechanism", "any"  # what a claim is about (Scope.about), or an animal
_CLINICAL = (RCT, TRIAL, OBSERVATIONAL, CASE_REPORT)  # designs of studies of people

# PubMed PublicationTypes per design, the first design that matches deciding ("Case Reports" and
# "Review" together are a case with a review of the literature).
_PUBLICATION_TYPES = (
    (META, ("Meta-Analysis", "Systematic Review")),
    (RCT, ("Randomized Controlled Trial",)),
    (TRIAL, ("Clinical Trial", "Controlled Clinical Trial", "Clinical Trial, Phase I", "Clinical Trial, Phase II",
             "Clinical Trial, Phase III", "Clinical Trial, Phase IV", "Pragmatic Clinical Trial",
             "Equivalence Trial", "Adaptive Clinical Trial", "Clinical Study")),
    (OBSERVATIONAL, ("Observational Study", "Twin Study")),
    (CASE_REPORT, ("Case Reports",)),
    (NARRATIVE, ("Review", "Scoping Review")),
)
# MeSH study-design descriptors ("... as Topic" ones are about such studies, not of one).
_DESIGN_MESH = (OBSERVATIONAL, ("Cohort Studies", "Case-Control Studies", "Cross-Sectional Studies",
                                "Prospective Studies", "Retrospective Studies", "Longitudinal Studies"))
# The words that say a design in a title, and in an abstract where they differ (None: the same):
# a review or a meta-analysis only where the abstract says it of the paper itself ("this review").
_DESIGN_WORDS = (
    (META, re.compile(r"\bmeta-?analys[ie]s\b|\bsystematic review\b|\bpooled analysis\b", re.I),
     re.compile(r"\b(?:this|our|the present|we (?:performed|conducted|undertook|carried out) an?) (?:updated )?"
                r"(?:systematic review|meta-?analysis)\b|\bwe searched (?:MEDLINE|PubMed|Embase|the Cochrane)", re.I)),
    (RCT, re.compile(r"\brandomi[sz]ed,?(?: (?:double|single|triple)-blind(?:ed)?,?| placebo-controlled,?| "
                     r"controlled,?| open-label,?| cross-?over,?| multi-?cent(?:er|re),?| parallel(?:-group)?,?)* "
                     r"(?:clinical |controlled )?(?:trial|study)\b|\brandomly (?:assigned|allocated)\b", re.I), None),
    (TRIAL, re.compile(r"\bclinical trial\b|\bphase (?:I{1,3}|IV|[1-4])\b|\bopen-label\b|\bplacebo-controlled\b|"
                       r"\bdouble-blind", re.I), None),
    (OBSERVATIONAL, re.compile(r"\b(?:case-control|cross-sectional|cohort stud(?:y|ies))\b|\bmatched controls\b|"
                               r"\b(?:population-based|retrospective|prospective|longitudinal|registry|nested) "
                               r"(?:[\w-]+ )?(?:stud(?:y|ies)|analys[ie]s|cohorts?|surveys?|review|data)\b", re.I),
     None),
    (CASE_REPORT, re.compile(r"\bcase reports?\b|\bcase series\b|\ba case of\b|\bwe (?:report|describe|present) "
                             r"(?:a|an|the|two|three|four|\d+) (?:[\w-]+ ){0,4}?(?:cases?|patients?|wom[ae]n|m[ae]n|"
                             r"boys?|girls?|child|infants?|neonates?)\b", re.I), None),
    (NARRATIVE, re.compile(r"(?<!retrospective )(?<!chart )\breview\b|\boverview\b", re.I),
     re.compile(r"\b(?:this|the present|our) review\b|\bwe (?:review|summari[sz]e)\b|\b(?:is|are) reviewed\b|"
                r"\breview (?:of )?the (?:literature|evidence)\b", re.I)),
)
# Animals by name: their MeSH descriptors (a check tag names them, "Rats, Wistar" too), NCBI
# Taxonomy ids (pipeline/data/species.tsv, as the tagger links them) and words.
_ANIMALS = (
    ("rat", ("Rats",), ("10116",), r"rats?|Sprague[- ]Dawley|Wistar|Long[- ]Evans"),
    ("mouse", ("Mice",), ("10090",), r"mouse|mice|murine"),
    ("monkey", ("Macaca", "Macaca mulatta", "Macaca fascicularis", "Haplorhini", "Chlorocebus aethiops"), ("9544",),
     r"monkeys?|macaques?|primates"),
    ("dog", ("Dogs",), ("9615",), r"dogs?|canine"),
    ("pig", ("Swine", "Swine, Miniature"), ("9823",), r"pigs|swine|piglets|minipigs"),
    ("guinea pig", ("Guinea Pigs",), ("10141",), r"guinea pigs?"),
    ("rabbit", ("Rabbits",), ("9986",), r"rabbits?"),
    ("hamster", ("Cricetinae", "Mesocricetus", "Cricetulus"), (), r"hamsters?"),
    ("cat", ("Cats",), (), r"cats|feline"),
    ("sheep", ("Sheep",), (), r"sheep|ewes|lambs"),
    ("zebrafish", ("Zebrafish",), ("7955",), r"zebrafish"),
    ("frog", ("Xenopus laevis", "Xenopus"), ("8355",), r"Xenopus|frogs?"),
    ("fly", ("Drosophila melanogaster", "Drosophila"), ("7227",), r"Drosophila|fruit fl(?:y|ies)"),
    ("worm", ("Caenorhabditis elegans",), ("6239",), r"C\. elegans|Caenorhabditis"),
)
_ANIMAL_WORDS = [(name, re.compile(rf"\b(?:{words})\b", re.I)) for name, _, _, words in _ANIMALS]
_HUMAN_TAXON = "NCBITaxon:9606"
_TAXA = {f"NCBITaxon:{taxon}": name for name, _, taxa, _ in _ANIMALS for taxon in taxa}
_IN_VITRO_MESH = ("In Vitro Techniques", "Cells, Cultured", "Cell Line", "Cell Line, Tumor", "Cell Line, Transformed",
                  "Cell Culture Techniques", "Primary Cell Culture", "Organ Culture Techniques", "HEK293 Cells",
                  "HeLa Cells", "CHO Cells", "COS Cells", "Hep G2 Cells", "PC12 Cells", "Caco-2 Cells", "MCF-7 Cells",
                  "Jurkat Cells")


def _quoted(words: list[str]) -> str:
    return ", ".join(f'"{w}"' for w in words)


def _animal_mesh(term: str) -> str | None:
    """The animal a MeSH descriptor names ("Rats, Sprague-Dawley": rat), None for any other."""
    return next((name for name, headings, _, _ in _ANIMALS
                 if any(term == h or term.startswith(h + ",") for h in headings)), None)


def _species_from_mesh(record: Record) -> tuple[list[str], list[str]]:
    """(species, the check tags that say so) from MeSH; empty when it tags none."""
    found, tags = [], []
    animals = [(name, t) for t in record.mesh_terms if (name := _animal_mesh(t))]
    if "Humans" in record.mesh_terms:
        found, tags = [HUMAN], ["Humans"]
    if animals or "Animals" in record.mesh_terms:
        found += [f"animal ({name})" for name in dict.fromkeys(n for n, _ in animals)] or ["animal"]
        tags += [t for _, t in animals] or ["Animals"]
    if in_vitro := [t for t in record.mesh_terms if t in _IN_VITRO_MESH]:
        found, tags = found + [IN_VITRO], tags + in_vitro[:1]
    return found, tags


def _species_from_words(text: str, mentions: list[str]) -> tuple[list[str], list[str]]:
    """(species, the words that say so) from a title or an abstract and its Species mentions' ids."""
    found, words = [], []
    cues = dict(system_cues(text))
    if HUMAN in cues or _HUMAN_TAXON in mentions:
        found.append(HUMAN)
        words.append(cues.get(HUMAN, "a Species mention"))
    animals = list(dict.fromkeys([name for name, cue in _ANIMAL_WORDS if cue.search(text)]
                                 + [_TAXA[m] for m in mentions if m in _TAXA]))
    if animals or "animal" in cues:
        found += [f"animal ({name})" for name in animals] or ["animal"]
        words.append(cues.get("animal") or next((m.group() for _, cue in _ANIMAL_WORDS if (m := cue.search(text))),
                                                "a Species mention"))
    if IN_VITRO in cues:
        found.append(IN_VITRO)
        words.append(cues[IN_VITRO])
    return found, words


def _design(record: Record, no_people: bool) -> tuple[str, str]:
    """(study design, what says so) from PubMed, else its words; ("", "") when nothing says. A design
    only words say is no clinical one in a paper studying only animals or cells ("randomly assigned" rats)."""
    for design, types in _PUBLICATION_TYPES:
        if said := [t for t in types if t in record.publication_types]:
            return design, f"PublicationType {_quoted(said[:1])}"
    design, headings = _DESIGN_MESH
    if said := [t for t in headings if t in record.mesh_terms]:
        return design, f"MeSH {_quoted(said[:1])}"
    for design, in_title, in_abstract in _DESIGN_WORDS:
        for part, cue in (("title", in_title.search(record.title)),
                          ("abstract", (in_abstract or in_title).search(record.abstract))):
            if cue and not (no_people and design in _CLINICAL):
                return design, f'{part} "{cue.group()}"'
    return "", ""


def _species(record: Record, extracted: ExtractedRecord | None) -> tuple[list[str], str]:
    """(species, what says so): MeSH's check tags, else the title's words and Species mentions,
    else the abstract's."""
    species, tags = _species_from_mesh(record)
    if species:
        return species, f"MeSH {_quoted(tags)}"
    sentences = extracted.sentences if extracted is not None else []
    for part, text in (("title", record.title), ("abstract", record.abstract)):
        taxa = [m.id for sentence, mentions in sentences if (sentence in record.title) == (part == "title")
                for m in mentions if m.type == "Species"]
        species, words = _species_from_words(text, taxa)
        if species:
            return species, f"{part} {_quoted(words)}"
    return [], ""


def assess(record: Record, extracted: ExtractedRecord | None = None) -> Strength:
    """A paper's study type and species, and what decided them (`weigh` gives its weight for a
    claim); `extracted`, where at hand, adds the record's Species mentions to its words."""
    species, species_basis = _species(record, extracted)
    kinds = {s.partition(" (")[0] for s in species}
    study_type, basis = _design(record, bool(kinds) and HUMAN not in kinds)
    if not study_type and "animal" in kinds and HUMAN not in kinds:
        study_type = ANIMAL
    elif not study_type and kinds == {IN_VITRO}:
        study_type = IN_VITRO
    elif not study_type and (kinds or record.publication_types):
        study_type = OTHER  # a primary study of people, or one PubMed types as no design ("Journal Article")
        basis = "" if kinds else f"PublicationType {_quoted(record.publication_types[:1])}"
    return Strength(study_type, tuple(species), "; ".join(p for p in (basis, species_basis) if p))


@dataclass(frozen=True)
class Scope:
    """What a claim is about, as far as evidence strength goes: PEOPLE, an animal ("rat", or
    "animal" where it says not which), MECHANISM or ANY; `why` says what in the claim decided it."""

    about: str
    why: str = ""


def _animal_named(text: str) -> tuple[str, str] | None:
    """(the first animal a text names, its word), None when it names none."""
    return next(((name, match.group()) for name, cue in _ANIMAL_WORDS if (match := cue.search(text))), None)


def claim_scope(claim: Claim) -> Scope:
    """A claim naming people or an animal is about them (both: ANY); else one naming cells, or a
    drug acting on a target, is MECHANISM; else ANY (a disease alone says not whose: see the module)."""
    cues = dict(system_cues(claim.text))
    animal = _animal_named(claim.text) or (("animal", cues["animal"]) if "animal" in cues else None)
    if HUMAN in cues:
        return Scope(ANY, "names people and animals") if animal else Scope(PEOPLE, f'names "{cues[HUMAN]}"')
    if animal:
        return Scope(animal[0], f'names "{animal[1]}"')
    if IN_VITRO in cues:
        return Scope(MECHANISM, f'names "{cues[IN_VITRO]}"')
    if claim.relation is not None and claim.relation.object.type in ("Gene", "Variant"):
        return Scope(MECHANISM, "a drug acting on a target")
    return Scope(ANY)


def _studies(strength: Strength, animal: str) -> bool:
    """Whether a paper studied the animal a claim names (one that says not which animal matches any)."""
    return any(s in ("animal", f"animal ({animal})") or (animal == "animal" and s.startswith("animal"))
               for s in strength.species)


def weigh(strength: Strength, scope: Scope) -> Strength:
    """The paper's strength with the weight it counts at for a claim of this scope (see the module)."""
    weight, why = 1.0, []
    if strength.study_type == NARRATIVE:
        weight, why = REVIEW, [NARRATIVE]
    kinds = strength.kinds
    if scope.about == PEOPLE and strength.study_type == CASE_REPORT:
        weight, why = weight * ANECDOTE, [*why, CASE_REPORT]
    elif kinds and (HUMAN not in kinds if scope.about == PEOPLE else
                    scope.about not in (MECHANISM, ANY) and not _studies(strength, scope.about)):
        weight, why = weight * INDIRECT, [*why, f"a study of {' and '.join(strength.species)}"]
    if weight == 1.0:
        return strength
    claim = {MECHANISM: "", ANY: "", PEOPLE: ", for a claim about people"}.get(scope.about,
                                                                           f", for a claim about the {scope.about}")
    return replace(strength, weight=round(weight, 3), weighed=", ".join(why) + claim)


_NOT_PRIMARY_HUMAN = {NARRATIVE: ("review", "reviews"), CASE_REPORT: ("case report", "case reports"),
                      ANIMAL: ("animal study", "animal studies"), IN_VITRO: ("in vitro study", "in vitro studies")}


def strength_note(evidence: list[EvidenceItem], sides: set[str]) -> str:
    """What kind of evidence decided a verdict, where it is not primary human evidence: "evidence
    from 2 animal studies", "evidence from 1 review (of 3 papers)"; `sides` are the verdict's."""
    deciding = {e.record.uid: e.strength for e in evidence if e.stance in sides and e.counted}
    counts = Counter(s.study_type for s in deciding.values() if s.study_type in _NOT_PRIMARY_HUMAN)
    if not counts:
        return ""
    parts = [f"{n} {_NOT_PRIMARY_HUMAN[kind][n > 1]}" for kind, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    rest = "" if sum(counts.values()) == len(deciding) else f" (of {len(deciding)} papers)"
    return f"evidence from {', '.join(parts)}{rest}"
