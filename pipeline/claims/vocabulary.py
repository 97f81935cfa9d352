"""The words claims are read by: trigger words and how the relations they name turn, and the
function words, nouns and word shapes that bound a claim's noun phrases.

The trigger words are litmine's one table of them (`pipeline.relations.triggers.TRIGGER_TABLE`):
claim prose is read by the words papers use, after the words it says where papers rarely do, and
a relation turns (to its opposite, or on a process rather than an entity) as the table says.
"""
from __future__ import annotations

import re

from pipeline.datatypes import Mention
from pipeline.relations.triggers import TRIGGER_TABLE, TRIGGERS

# Claim prose says these where papers rarely do; checked before the extractor's triggers.
CLAIM_TRIGGERS: list[tuple[str, str]] = [(t.relation, t.prose_words) for t in TRIGGER_TABLE if t.prose_words]
_TRIGGER_RES = [(rel, re.compile(rf"(?:{pattern})(?![\w-])", re.I)) for rel, pattern in CLAIM_TRIGGERS + TRIGGERS]
# Which particle a verb takes before its object: "associated with", "binds to", "effects on".
PARTICLES = {t.relation: t.particles for t in TRIGGER_TABLE if t.particles}
# Relations that say which way their object goes; a plain "causes" takes its direction from them.
DIRECTIONAL = frozenset(t.relation for t in TRIGGER_TABLE if t.directional)
_OPPOSITE = {t.relation: t.opposite for t in TRIGGER_TABLE if t.opposite}
_ON_PROCESS = {t.relation: t.on_process for t in TRIGGER_TABLE if t.on_process}

AUX = frozenset("is are was were be been being has have had can could may might would will should must do does did "
                "doesn't don't didn't isn't aren't wasn't weren't cannot can't won't wouldn't couldn't".split())
LEFT_SKIP = AUX | frozenset("also often further still not never only to reported shown found thought known said "
                            "suggested proposed believed likely then".split())
PREPOSITIONS = frozenset("in during between via to from with by for on at through across within among after before "
                         "despite into upon under over without".split())
# Words that end a noun phrase: prepositions, conjunctions, comparisons, relative pronouns.
STOPS = PREPOSITIONS | frozenset("as than vs versus compared relative while whereas because since although that "
                                 "which who whose where when if but and or".split())
DETERMINERS = frozenset("the a an its their his her this these those said multiple certain several some many various "
                        "both all each such other own".split())
BE = frozenset("is are was were be been being".split())
ADVERBIALS = frozenset({"in particular", "for instance", "for example", "however", "therefore", "thus", "moreover",
                        "in turn", "in addition", "importantly", "notably", "also"})
# Nouns after a drug that name taking it: "SSRI treatment", "higher SSRI doses".
EXPOSURE_NOUNS = frozenset("treatment treatments therapy use exposure administration dose doses dosing".split())
# Words after an entity that still name the entity ("Kir4.1 currents", "oxytocin signaling"), unlike
# processes that are effects of their own ("dopamine release", "glutamate uptake").
ENTITY_SUFFIXES = frozenset("channel channels receptor receptors signaling signalling function activity activation "
                            "sensitivity expression level levels current currents mrna protein proteins gene genes"
                            .split())
# Bullet heads that describe the phenomenon rather than name a mechanism ("Onset pattern").
DESCRIPTOR_HEADS = frozenset("pattern patterns relationship relationships variation variations onset course dynamics "
                             "correlates prevalence incidence risk timing duration".split())
# A bullet head that is only a brain region means that region's activity ("Insular cortex: Dampened …").
REGION_WORDS = frozenset("cortex striatum amygdala habenula hippocampus thalamus hypothalamus nucleus nuclei accumbens "
                         "network area gyrus insula cerebellum".split())
LIGHT_NOUNS = frozenset("process processes".split())
# Heads of a noun phrase that still stand for the entity after "of" or "in": "effects of caffeine",
# "the polymorphism in GRIA1".
ENTITY_HEADS = EXPOSURE_NOUNS | ENTITY_SUFFIXES | frozenset(
    "effect effects action actions polymorphism polymorphisms variant variants mutation mutations allele alleles "
    "concentration concentrations".split())
HEAD_FILLERS = frozenset("effect effects change changes alteration alterations".split())
LOCATIVE = re.compile(r"(?:al|ic|ar)$", re.I)  # "prefrontal dopamine" is dopamine, in a place
# Noun phrases that point back to the drug named before: "It also inhibits …", "the active metabolite".
POSSESSIVES = frozenset("its their".split())
GENERIC_NOUNS = frozenset("drug drugs compound compounds agent agents metabolite medication medications".split())
GENETIC_CUES = re.compile(r"\b(?:polymorphism|variant|genotype|allele|SNP)s?\b", re.I)
# A one-word effect must look like one: a nominalization, an acronym or a compound ("apoptosis", "SCN").
CONTENTFUL = re.compile(r"(?:tion|sion|ment|ance|ence|ity|ism|sis|ure|age|ogy|ics|ness)s?$|[A-Z0-9]")
_ENZYME = re.compile(r"(?<!cre)ases?$")  # "reductase" is no reduction; "decreases" is
_CELLS = frozenset("neuron neurons cell cells".split())
# The roles a drug is named by at its target ("the PI3K inhibitor LY294002", "COX-2 inhibitors"), a regex group.
ROLES = r"(inhibitor|antagonist|blocker|agonist|activator|inducer|stimulator)s?"
# Nominal trigger words ("inhibition", "blockade", "loss") and role nouns ("antagonist", "inhibitors"): never verbs.
ROLE_NOUN = re.compile(r"(?:agonist|antagonist|inhibitor|blocker|activator|modulator|stimulator|enhancer|inducer|"
                       r"substrate)s?$")
_NOMINAL = re.compile(rf"(?:tion|sion|ment|ance|ence|ade|ure|ity|ism|sis|age)s?$"
                      rf"|^(?:loss|deficits?|influences?|effects?)$|{ROLE_NOUN.pattern}")


# --- trigger words -----------------------------------------------------------------

def trigger_at(text: str, start: int, end: int) -> tuple[str, int] | None:
    """The relation a trigger word at `start` names and where the trigger ends; it must cover the
    word ending at `end` ("treatment" is no trigger in "treatment-resistant")."""
    word = text[start:end].lower()
    if word in EXPOSURE_NOUNS or word.endswith(("ly", "ory", "ive")) or _ENZYME.search(word):
        return None  # exposure ("SSRI treatment"), adverbs, adjectives ("regulatory"), enzymes ("reductase")
    for relation, pattern in _TRIGGER_RES:
        match = pattern.match(text, start)
        if match and match.end() >= end:
            return relation, match.end()
    return None


def trigger_in(text: str) -> str | None:
    """The relation named by the first trigger word of a phrase, if any."""
    for word in re.finditer(r"[\w-]+", text):
        found = trigger_at(text, word.start(), word.end())
        if found:
            return found[0]
    return None


def is_nominal(word: str) -> bool:
    """Whether a word is a noun a trigger or role can take ("inhibition", "loss", "antagonists"),
    and so never a verb."""
    return bool(_NOMINAL.search(word.lower()))


# --- how relations turn ------------------------------------------------------------

def relation_on(relation: str, obj: Mention) -> str:
    """Processes go down or up rather than being inhibited: "REM sleep suppression" decreases REM sleep."""
    if obj.id or obj.text.split()[-1].lower() in _CELLS:
        return relation
    return _ON_PROCESS.get(relation, relation)


def composed(polarity: int, relation: str) -> str:
    """What X does when "inhibition of X" does `relation`: the opposite; "activation of X": the same."""
    if polarity > 0:
        return relation
    if polarity < 0 and relation in _OPPOSITE:
        return _OPPOSITE[relation]
    return "modulates"


# --- what a phrase names -----------------------------------------------------------

def same_entity(mention: Mention, words: list[tuple[str, int]]) -> bool:
    """Whether words (with their offsets) around a mention leave it the same entity: suffixes
    after it ("Kir4.1 channels", "oxytocin signaling"), place adjectives before it ("astroglial Kir4.1")."""
    return all(w.lower() in ENTITY_SUFFIXES or (start < mention.start and LOCATIVE.search(w)) for w, start in words)


def object_text(text: str) -> str:
    """A phrase as an object's text: lower case first, unless the first word is an acronym or symbol."""
    first = text.split()[0] if text.split() else ""
    if first[:1].isupper() and first[1:] == first[1:].lower() and not any(c.isdigit() for c in first):
        return text[0].lower() + text[1:]
    return text
