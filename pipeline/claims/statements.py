"""Claims that are not drug–target pairs: every check-worthy sentence is a claim.

Why: the triple rules (`pipeline.claims.extract`) read what a sentence says about a drug and its
target, but most of what documents assert is said otherwise ("REM sleep is suppressed by
SSRIs", "1/2000 in the UK have abnormal PrP positivity"). A sentence that states no triple is
checked as itself, with its entities, by the sentence-level verifier. Sentences that assert
nothing checkable on their own are skipped and counted by reason: questions, hypotheses marked
as such, calls for more research, fragments, page furniture, and sentences about what an earlier
sentence named.
"""
from __future__ import annotations

import re
from collections import Counter

from pipeline.claims.extract import CLAIM_SENTENCE_KINDS, extract_claims
from pipeline.claims.vocabulary import is_nominal, trigger_in
from pipeline.datatypes import Claim, DocSentence, Document
from pipeline.entities.dictionary import EntityTagger
from pipeline.entities.kb import KnowledgeBase
from pipeline.relations.triggers import RelationExtractor

# Shorter sentences are labels, captions or fragments, not assertions, but for three words around a
# trigger: on the two held-out samples of pharma train claims, 34 cited "X inhibits Y." sentences whose
# triple no rule reads were skipped as fragments; read as statements, 18 got their right verdict, 6 the
# opposite one, and 10 whose target the cited paper does not name got a side. (Since then a cited one
# naming a drug before its verb takes no side from the sentence model: `verifier.drug_acts`.)
MIN_WORDS = 4
STATEMENT = "statement"  # the claim id suffix of a sentence checked as itself

_HYPOTHESIS = re.compile(r"^\s*(?:we|I)\s+(?:\w+\s+)?(?:hypothes|speculat|conjectur|wonder|ask)\w*|"
                         r"^\s*(?:it is (?:unknown|unclear|not known)|whether)\b|"
                         r"^\s*(?:the )?(?:aim|purpose|objective|goal)s? (?:of|was|is)\b|"
                         r"\b(?:can|could) only (?:hypothes|speculat|guess)\w*|^\s*just a thought\b", re.I)
# A call for more work says what is not known yet: "More rat studies are needed to pinpoint the causes."
_RESEARCH_AGENDA = re.compile(r"\b(?:more|further|additional|future|larger)\s+(?:[\w-]+\s+){0,3}?"
                              r"(?:studies|research|work|trials|investigations?|data)"
                              r"(?:\s+(?:on|of|in|into|involving|with|about|regarding)(?:\s+[\w-]+){1,3}?)?"
                              r"\s+(?:is|are|will be)\s+(?:\w+ly\s+)?(?:needed|required|warranted)\b|"
                              r"\bwarrants? further\b", re.I)
_NAVIGATION = re.compile(r"^\s*(?:click|read more|see (?:also|more)|share|subscribe|sign (?:in|up)|log in|"
                         r"download|contents|table of contents|copyright|all rights reserved|posted (?:on|by))\b|"
                         r"https?://|\bwww\.|\byou can (?:view|see|find|read|download)\b.*\bhere\b", re.I)
# A sentence that opens on what an earlier one named ("All these channels ...", "They ...") does
# not say what it is about: checked alone it would be read against the wrong literature.
_CONTEXT = re.compile(r"^\s*(?:(?:all|both|most|many|some) (?:of )?)?(?:these|those|this|such|they|their|them)\b", re.I)
_WORDS = re.compile(r"[A-Za-z][A-Za-z'-]+")


def skip_reason(sentence: DocSentence) -> str:
    """Why a sentence asserts nothing checkable ("" when it does)."""
    text = sentence.text.strip()
    if sentence.kind not in CLAIM_SENTENCE_KINDS:
        return sentence.kind  # heading, boilerplate
    if text.endswith("?"):
        return "question"
    if _NAVIGATION.search(text):
        return "navigation"
    if _HYPOTHESIS.search(text):
        return "hypothesis"
    if _RESEARCH_AGENDA.search(text):
        return "research agenda"
    words = _WORDS.findall(text)
    if len(words) < MIN_WORDS and not _acts_on(words):
        return "fragment"
    if _CONTEXT.search(text):
        return "needs context"
    return ""


def _acts_on(words: list[str]) -> bool:
    """Whether three words say what one thing does to another: "Tacrolimus inhibits calcineurin"."""
    return len(words) == 3 and bool(trigger_in(words[1])) and not is_nominal(words[1])


def document_claims(document: Document, tagger: EntityTagger, extractor: RelationExtractor,
                    kb: KnowledgeBase) -> tuple[list[Claim], Counter[str]]:
    """The document's triple claims and, for each check-worthy sentence that states none, the
    sentence as a statement claim; with the skipped sentences counted by reason."""
    claims = extract_claims(document, tagger, extractor, kb)
    with_triples = {c.sentence.index for c in claims}
    skipped: Counter[str] = Counter()
    for sentence in document.sentences:
        if sentence.index in with_triples:
            continue
        if reason := skip_reason(sentence):
            skipped[reason] += 1
            continue
        claims.append(Claim(document.name, f"{document.name}:{sentence.index}:{STATEMENT}", sentence, None,
                            entities=[m for m in tagger.tag(sentence.text) if m.id]))
    claims.sort(key=lambda c: c.sentence.index)  # stable: a sentence's triples keep their order
    return claims, skipped
