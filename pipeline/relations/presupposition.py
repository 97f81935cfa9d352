"""What a noun phrase takes for granted: "X-induced Y" says that X causes Y whatever the clause
around it says of something else.

"Edaravone suppresses streptomycin-induced vestibulotoxicity" is about edaravone; of streptomycin
it presupposes that it causes vestibulotoxicity. "Metamizol did not potentiate morphine-induced
constipation" negates the potentiation, not the constipation. The relation models, which read the
whole sentence, give such pairs the main clause's verb (streptomycin "treats" vestibulotoxicity)
and its negation: the commonest way a cited paper came to contradict a true claim on the pharma
claims of the corpora's train splits. `with_presupposed` replaces what an extractor said of a
chemical and the effect its compound names with what the compound says.

Read:
- "X-induced Y", "X-associated Y", "X (10 mg/kg)-evoked Y": X causes Y (a disease) or, for a
  gene, what the words around Y say ("X-induced Y expression" increases, "X-induced reduction of
  Y", "X-induced Y inhibition" decrease it);
- "Y induced by X", "Y was caused by X": the same, in the passive.
"""
from __future__ import annotations

import re
from pipeline.datatypes import Mention, Relation
from pipeline.relations.triggers import NOMINAL_WINDOW, TRIGGER_TABLE, first_trigger

PRESUPPOSED = "presupposed"  # Relation.extractor suffix of a relation a compound decided
CONFIDENCE = 0.8  # a compound's reading, when the extractor was less sure of the pair

_CAUSED = r"(?:induced|associated|related|evoked|provoked|triggered|caused|mediated|elicited)"
# between the chemical and its participle: the rest of its name ("-digluconate"), a parenthesis
# such as a dose, a hyphen
_GLUED = re.compile(rf"^[\w-]{{0,20}}?(?:\s*\([^()]{{0,40}}\))?\s*[-–]?\s*{_CAUSED}\b", re.I)
_PASSIVE = re.compile(rf"^\s*(?:(?:was|were|is|are|being|been)\s+)?{_CAUSED}\s+by\s+(?:the\s+|an?\s+)?$", re.I)
# what may stand between the participle and the effect: modifiers, not a phrase of its own
_MODIFIERS = re.compile(r"^[\s\w-]{0,40}$")
_PHRASE_WORD = re.compile(r"\b(?:in|of|with|by|from|after|during|for|to|on|at|than|that|which|was|were|is|are)\b", re.I)
_GENE_OUTPUT = re.compile(r"^\s*(?:gene\s+|protein\s+|mRNA\s+)?(?:expression|production|release|secretion|"
                          r"synthesis|levels?|phosphorylation|activity|transcription|transactivation|mRNA)\b", re.I)
_DIRECTIONAL = {t.relation for t in TRIGGER_TABLE if t.directional}


def _gene_direction(sentence: str, gene: Mention, before: str) -> str | None:
    """Which way a gene goes in an effect phrase: a direction word before it ("reduction of") or
    right after it ("inhibition"), else up when its output follows ("expression"), else unknown."""
    for text, offset in ((before, 0), (sentence[gene.end:gene.end + NOMINAL_WINDOW], gene.end)):
        found = first_trigger(text, offset)
        if found and found[0] in _DIRECTIONAL:
            return found[0]
    return "increases" if _GENE_OUTPUT.match(sentence[gene.end:]) else None


def presupposed(sentence: str, chemical: Mention, effect: Mention) -> str | None:
    """The relation a compound in `sentence` states between a chemical and an effect (a disease
    or a gene), or None when no compound joins them."""
    if chemical.type != "Chemical" or effect.type not in ("Disease", "Gene"):
        return None
    if chemical.end <= effect.start:  # "X-induced ... Y"
        glued = _GLUED.match(sentence[chemical.end:effect.start])
        between = sentence[chemical.end + glued.end():effect.start] if glued else ""
        if glued is None or not _MODIFIERS.match(between) or _PHRASE_WORD.search(between):
            return None
    elif effect.end <= chemical.start:  # "Y induced by X", "reduction in Y activity induced by X"
        gap = sentence[effect.end:chemical.start]
        tail = gap.split(None, 1)
        if not (_PASSIVE.match(gap) or (len(tail) == 2 and _PASSIVE.match(" " + tail[1]))):
            return None
        between = sentence[max(0, effect.start - NOMINAL_WINDOW):effect.start]
    else:
        return None
    if effect.type == "Disease":
        found = first_trigger(between, 0)
        return found[0] if found and found[0] in _DIRECTIONAL else "causes"
    return _gene_direction(sentence, effect, between)


def with_presupposed(sentence: str, mentions: list[Mention], relations: list[Relation],
                     sentence_index: int) -> list[Relation]:
    """`relations` with what each chemical-effect compound of the sentence presupposes in place of
    what an extractor said of that pair: never negated or hedged, since the clause around a
    compound does not reach it."""
    decided: dict[tuple[str, str], Relation] = {}
    for chemical in mentions:
        for effect in mentions:
            relation = presupposed(sentence, chemical, effect) if chemical is not effect else None
            if relation is None:
                continue
            said = [r for r in relations if r.subject.key == chemical.key and r.object.key == effect.key]
            confidence = max([CONFIDENCE, *(r.confidence for r in said if r.relation == relation)])
            extractor = (said[0].extractor if said else "compound") + f"+{PRESUPPOSED}"
            decided[(chemical.key, effect.key)] = Relation(
                subject=chemical, relation=relation, object=effect, sentence=sentence, sentence_index=sentence_index,
                negated=False, hedged=False, confidence=round(confidence, 3), extractor=extractor)
    kept = [r for r in relations if (r.subject.key, r.object.key) not in decided]
    return kept + list(decided.values())
