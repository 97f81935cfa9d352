"""What a sentence offers its claims before its clauses are read: the mentions a claim may be
about, and which of the relation extractor's pairs read the way it linked them.

Items that name a KB target with the head noun after them are that target: "Kv1.5, Kir4.1,
Na+, and Ca2+ channels", though a tagger reads "Na" as sodium. The extractor's pairs are vetted
for reading direction ("Altered signaling affects dopamine release" is not dopamine acting on
the receptor before it).
"""
from __future__ import annotations

import re

from pipeline.claims.clauses import CLAUSE, Found
from pipeline.claims.vocabulary import ROLES, STOPS, is_nominal, trigger_at, trigger_in
from pipeline.datatypes import Mention, Relation
from pipeline.entities.dictionary import COORDINATED_HEADS, COORDINATION
from pipeline.entities.kb import KnowledgeBase

_LONG_TERM_DEPRESSION = re.compile(r"(?:long[- ]term\s+|potentiation/)$", re.I)


def claim_mentions(text: str, mentions: list[Mention], kb: KnowledgeBase) -> list[Mention]:
    """Mentions a claim may be about, with the targets head nouns make of them (`_with_heads`): none
    the linker could not ground (claims meet evidence on KB ids; ungrounded words are read as words,
    "GRIA1 (AMPA1)" as one gene), none cut off inside a phrase ("impairment of"), no species, no
    "depression" of long-term depression (LTD), none taking in the sentence's verb (`_without_verbs`);
    and the drugs a target's role names, read by their words (`_by_role`: "COX-2 inhibitors"); a chemical
    read in part as its whole name (`_whole_names`: "15d-PGJ2", "sulindac sulfide")."""
    grounded = [m for m in _with_heads(text, _without_verbs(mentions, kb), kb) if m.id and m.type != "Species"
                and m.text.split()[-1].lower() not in STOPS | {"of"}
                and not (m.type == "Disease" and _LONG_TERM_DEPRESSION.search(text[:m.start]))]
    return _by_role(text, _whole_names(text, grounded, kb))


# A chemical the tagger read in part: a word attached to it ("PGJ2" of "15d-PGJ2", "tacrine" of "bis(7)-tacrine",
# "chlorhexidine" of "chlorhexidine-digluconate"), or a second chemical word after it ("sulindac" and "sulfide" of
# "sulindac sulfide"). A short claim sentence gives the tagger none of the context a paper gives it, and the part
# names another compound. The claim is about the whole name: the concept the KB names so, else the words, which meet
# the cited record where it names them (`reconcile.grounded`). Stereo, charge and isotope marks ("(-)-alprenolol",
# "Ca(2+)", "D,L-propargylglycine", "[3H]") and citation marks leave the part as the tagger read it. On the two
# held-out samples of pharma train claims: 4 verdicts right ("15d-PGJ2", "h[Gly2]-GLP-2"), 2 opposite ones mixed
# (HOP(O)Cl(2), annotated an activator of AChE), 2 right ones no_evidence ("N(5)-methyl inhibits phenylalanine
# hydroxylase", its paper naming "N(5)-substituted" derivatives), and 2 right ones opposite until the words'
# reading read "produced ... inhibitions of" as inhibiting (`reconcile.phrase_relations`).
_TOKEN_BEFORE = re.compile(r"[^\s,;]+$")
_TOKEN_AFTER = re.compile(r"[^\s,;]+")
_MARKS = re.compile(r"\b(?:D|L|DL|R|S|E|Z|cis|trans)\b|\d+[A-Z]?\b|[^A-Za-z0-9]+|\d+")  # "D,L-", "[3H]", "(2+)"
# English joined to a name is no part of it: "SSRI-induced", "drug-free", "post-SSRI", "anti-TNF".
_WORD_AFTER = re.compile(r"-[a-z]+(?:ed|ing|ent|ive|ible|able|like|free|based|type|specific|naive|rich|poor|only|alone|"
                         r"sparing|class|level|dose|positive|negative|users?|therapy|treatment)")
_WORD_BEFORE = re.compile(r"(?:post|pre|anti|non|pro|co|high|low|long|short|self|ultra|over|under|re|multi|semi|sub|"
                          r"super|first|second|third|dual|cross|counter|extra|add|ex|de|neo|pan)-", re.I)


def _whole_names(text: str, mentions: list[Mention], kb: KnowledgeBase) -> list[Mention]:
    """`mentions` with each chemical read in part as its whole name (see above)."""
    found: list[Mention] = []
    for m in sorted(mentions, key=lambda m: m.start):
        if m.type != "Chemical":
            found.append(m)
            continue
        start, end = m.start, m.end
        before = _TOKEN_BEFORE.search(text, max(0, start - 80), start)
        after = _TOKEN_AFTER.match(text, end)
        tail = after.group().rstrip(".") if after else ""  # the word joined after it, less a full stop
        if before and _MARKS.sub("", before.group()) and not _WORD_BEFORE.fullmatch(before.group()):
            start = before.start()
        if _MARKS.sub("", tail) and not _WORD_AFTER.fullmatch(tail):
            end += len(tail)
        last = found[-1] if found else None
        if last is not None and last.type == "Chemical" and text[last.end:m.start] == " ":
            found.pop()  # "sulindac sulfide": one compound
            start = last.start
        start, end = _balanced(text, start, end)
        if (start, end) == (m.start, m.end):
            found.append(m)
            continue
        name = text[start:end]
        concept = next((c for c in kb.lookup(name) if c.type == "Chemical"), None)
        found.append(Mention(start, end, name, "Chemical", concept.id, concept.name) if concept
                     else Mention(start, end, name, "Chemical"))
    return found


def _balanced(text: str, start: int, end: int) -> tuple[int, int]:
    """The span less an opening bracket before it or a closing one after it that it does not pair."""
    pairs = {"(": ")", "[": "]"}
    while start < end and text[start] in pairs and text.count(pairs[text[start]], start, end) < 1:
        start += 1
    while end > start and text[end - 1] in ")]" and text.count("(" if text[end - 1] == ")" else "[", start, end) < 1:
        end -= 1
    return start, end


# A target named with a role noun after it and no drug beside it ("COX-2 inhibitors increase the risk of
# myocardial infarction", "Calcium channel blockers lower blood pressure") names the drugs that act so on
# it: the claim is about them, not about the target, which the role noun read as a verb made the subject
# ("COX-2 inhibits myocardial infarction"). A drug beside the role names that drug ("the 5-HT2 antagonist
# ketanserin", "celecoxib, a COX-2 inhibitor"), which the relation extractor reads as it is.
_ROLE_AFTER = re.compile(r"[\s-]*(?:receptor\s+|channel\s+)?" + ROLES + r"\b", re.I)
_DRUG_BEFORE = re.compile(r"(?:,\s*(?:an?|the)|\(|\bof)\s*$", re.I)


def _by_role(text: str, mentions: list[Mention]) -> list[Mention]:
    """`mentions` with each target named with a role noun and no drug beside it as the drugs so named: a
    chemical read by its words (no KB id: it meets evidence where a sentence names the same words)."""
    found = []
    for i, m in enumerate(mentions):
        role = _ROLE_AFTER.match(text, m.end) if m.type == "Gene" else None
        drugs = [d for d in mentions[max(0, i - 1):i + 2] if d.type == "Chemical"]
        beside = role and any(d.start >= role.end() and not text[role.end():d.start].strip(" (,")
                              or d.end <= m.start and _DRUG_BEFORE.search(text, d.end, m.start) for d in drugs)
        found.append(Mention(m.start, role.end(), text[m.start:role.end()], "Chemical") if role and not beside else m)
    return found


_NAME_WORD = re.compile(r"[A-Za-z][\w-]*")


def _without_verbs(mentions: list[Mention], kb: KnowledgeBase) -> list[Mention]:
    """Mentions cut at a verb they took in. A tagger reading a short sentence may take its verb into
    a name ("pravastatin decreases myopathy" as "decreases myopathy", "cAMP inhibits NHE3" as one
    gene), and the claim is lost. A trigger word in the third person ("decreases", "inhibits"; never
    a noun such as "increase in locomotor activity") is no part of a name: each part keeps the
    mention's concept where the KB names it so, else takes the concept the KB names it by; a lone
    part the KB does not name keeps the mention's."""
    found = []
    for m in mentions:
        verbs = [w.span() for w in _NAME_WORD.finditer(m.text) if w.group().lower().endswith("s")
                 and not is_nominal(w.group()) and trigger_at(m.text, *w.span())]
        if not verbs:
            found.append(m)
            continue
        bounds = [0, *(i for span in verbs for i in span), len(m.text)]
        parts = [(a + len(m.text[a:b]) - len(m.text[a:b].lstrip()), b - len(m.text[a:b]) + len(m.text[a:b].rstrip()))
                 for a, b in zip(bounds[::2], bounds[1::2])]
        parts = [(a, b) for a, b in parts if b > a]
        for a, b in parts:
            concepts = kb.lookup(m.text[a:b])
            concept = next((c for c in concepts if c.id == m.id), concepts[0] if concepts else None)
            if concept is not None:
                found.append(Mention(m.start + a, m.start + b, m.text[a:b], concept.type, concept.id, concept.name))
            elif len(parts) == 1:
                found.append(Mention(m.start + a, m.start + b, m.text[a:b], m.type, m.id, m.name))
    return found


_HEAD_AFTER = re.compile(r"[^\s,;:()\[\]]*\s+(\w+)")  # the rest of a word, then the next one: "Na" + "+ channels"


def _with_heads(text: str, mentions: list[Mention], kb: KnowledgeBase) -> list[Mention]:
    """Mentions with the targets a head noun makes of them: "Na+ channels", and each item of
    "Kv1.5, Kir4.1, Na+, and Ca2+ channels" or "NMDA and AMPA receptors" that names a KB target
    together with the head. A tagger that reads the items alone takes "Na" for sodium and "NMDA"
    for the ligand; "Kir4.1", which names no other target with "channels", stays what it is."""
    mentions = sorted(mentions, key=lambda m: m.start)
    for m in list(mentions):
        inside = re.search(r"\s(\w+)$", m.text)  # "Ca2+ channels": tagged with its head
        after = _HEAD_AFTER.match(text, m.end)
        if inside and inside.group(1).lower() in COORDINATED_HEADS:
            head = inside.group(1)
        elif after and after.group(1).lower() in COORDINATED_HEADS:
            head = after.group(1)
            mentions = _as_target(text, mentions, m.start, after.end(), text[m.start:after.end()], kb)
        else:
            continue
        left = m.start
        while (item := COORDINATION.search(text, max(0, left - 40), left)) and item.end() == left:
            left = item.start(1)
            mentions = _as_target(text, mentions, left, item.end(1), f"{item.group(1)} {head}", kb)
    return mentions


def _as_target(text: str, mentions: list[Mention], start: int, end: int, name: str,
               kb: KnowledgeBase) -> list[Mention]:
    """`mentions` with the span start-end as the target the KB calls `name`, if it has one and
    the span cuts no mention."""
    target = next((c for c in kb.lookup(name) if c.type == "Gene"), None)
    covered = [m for m in mentions if m.start < end and m.end > start]
    if target is None or any(m.start < start or m.end > end for m in covered):
        return mentions
    found = Mention(start, end, text[start:end], target.type, target.id, target.name)
    return sorted([m for m in mentions if m not in covered] + [found], key=lambda m: m.start)


# --- vetting the extractor's pairs --------------------------------------------

def reads_right(rel: Relation, text: str, found: list[Found]) -> bool:
    """Whether a pair the extractor linked can be read that way in prose.

    The subject must come first unless the sentence is passive ("by"), names the subject by its
    role ("the 5-HT2 antagonist ketanserin") or starts a relative clause ("which sertraline
    inhibits"); the pair must not straddle a bullet's "head: body" or a semicolon; a drug's
    "treatment" is exposure, not treating; a nominal "inhibition of Y" takes as its agent only
    what stands right before it; and a subject whose own clause was read must have the object
    among that clause's objects.
    """
    s, o = rel.subject, rel.object
    lo, hi = sorted((s, o), key=lambda m: m.start)
    between = text[lo.end:hi.start]
    if re.search(r"[;:]", between):
        return False
    if s.start > o.start and not (re.search(r"\bby\b", between)
                                  or re.search(r"(?:inhibitor|blocker|antagonist|agonist|activator|modulator|"
                                               r"substrate|ligand)s?\b", between, re.I)
                                  or re.search(r"\b(?:which|that)\s*$", between)):
        return False
    if rel.relation == "treats" and re.match(r"[\s-]*(?:treatment|therapy)\b", text[s.end:], re.I):
        return False
    if s.start < o.start:
        nominal = re.search(r"\b(\w+)\s+(?:of|on)\s+(?:the\s+)?$", between)
        if nominal and is_nominal(nominal.group(1)) and trigger_in(nominal.group(1)):
            lead = between[:nominal.start(1)]
            if not re.fullmatch(r"\s*(?:-?\s*(?:mediated|induced|dependent)\s*|['’]s\s*)?", lead):
                return False
        clauses = [f for f in found if f.relation.subject.start == s.start and f.relation.extractor == CLAUSE]
        if clauses and all(f.object_end <= o.start for f in clauses):
            return False
    return True
