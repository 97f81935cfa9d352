"""Claims: the pharmacological statements a document makes, found by the same
entity tagger and relation extractor that read the evidence.

Using one machinery for both sides is what lets a claim and an evidence
sentence meet on the same identifiers and relation vocabulary. Blog prose
needs more than entity pairs, though, so the extractor's relations are joined
by what this module reads from clauses:

- "Sertraline also reduces glutamate uptake": an effect the KB lacks is kept as
  text with an empty id (a *text object*) rather than dropped;
- "5-HT2C-mediated inhibition of VTA neurons", "inhibition of Kir4.1 would
  disrupt …": nominal claims, the second read as what Kir4.1 itself does;
- "with Fluoxetine and Fluvoxamine sharing its Kir4.1 inhibition": ellipsis,
  resolved to the earlier claim's relation and object;
- "- REM sleep suppression: …" under an SSRI title: a bullet's head is what the
  document's topic (or its section's drug) does, with the head as object;
- "Kv1.5, Kir4.1, Na+, and Ca2+ channels": items that name a KB target with the
  head noun after them are that target, though a tagger reads "Na" as sodium.

The extractor's pairs are also vetted for reading direction ("Altered signaling
affects dopamine release" is not dopamine acting on the receptor before it).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from pipeline.datatypes import RELATION_POLARITY, Claim, DocSentence, Document, Mention, Relation
from pipeline.entities.dictionary import COORDINATED_HEADS, COORDINATION, EntityTagger
from pipeline.entities.kb import KnowledgeBase
from pipeline.relations.triggers import HEDGE_CUES, NEGATION_CUES, TRIGGER_TABLE, TRIGGERS, RelationExtractor

CLAIM_SENTENCE_KINDS = ("prose", "bullet")
AGENT_TYPES = ("Chemical", "Gene")

# How each kind of claim was found (Relation.extractor of claims not from the extractor).
CLAUSE, NOMINAL, ELLIPSIS, BULLET_HEAD, TOPIC_EFFECT = "clause", "nominal", "ellipsis", "bullet-head", "topic-effect"

# Claim prose says these where papers rarely do; checked before the extractor's triggers.
CLAIM_TRIGGERS: list[tuple[str, str]] = [(t.relation, t.prose_words) for t in TRIGGER_TABLE if t.prose_words]
_TRIGGER_RES = [(rel, re.compile(rf"(?:{pattern})(?![\w-])", re.I)) for rel, pattern in CLAIM_TRIGGERS + TRIGGERS]
# Hedges the relation extractor's cues miss: the conditional, and "we can only hypothesize".
CLAIM_HEDGES = re.compile(r"\b(?:would|can only)\b", re.I)
META_HEDGE = re.compile(r"\b(?:we|I)\b.*\b(?:hypothes|speculat|conjectur)\w*", re.I)
_CONTRACTED_NOT = re.compile(r"n't\b", re.I)
_OPPOSITE = {t.relation: t.opposite for t in TRIGGER_TABLE if t.opposite}
_ON_PROCESS = {t.relation: t.on_process for t in TRIGGER_TABLE if t.on_process}

_AUX = frozenset("is are was were be been being has have had can could may might would will should must do does did "
                 "doesn't don't didn't isn't aren't wasn't weren't cannot can't won't wouldn't couldn't".split())
_LEFT_SKIP = _AUX | frozenset("also often further still not never only to reported shown found thought known said "
                              "suggested proposed believed likely then".split())
_PREPOSITIONS = frozenset("in during between via to from with by for on at through across within among after before "
                          "despite into upon under over without".split())
# Words that end a noun phrase: prepositions, conjunctions, comparisons, relative pronouns.
_STOPS = _PREPOSITIONS | frozenset("as than vs versus compared relative while whereas because since although that "
                                   "which who whose where when if but and or".split())
_DETERMINERS = frozenset("the a an its their his her this these those said multiple certain several some many various "
                         "both all each such other own".split())
_BE = frozenset("is are was were be been being".split())
# Which particle a verb takes before its object: "associated with", "binds to", "effects on".
PARTICLES = {t.relation: t.particles for t in TRIGGER_TABLE if t.particles}
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
# Relations that say which way their object goes; a plain "causes" takes its direction from them.
DIRECTIONAL = frozenset(t.relation for t in TRIGGER_TABLE if t.directional)
# A one-word effect must look like one: a nominalization, an acronym or a compound ("apoptosis", "SCN").
_CONTENTFUL = re.compile(r"(?:tion|sion|ment|ance|ence|ity|ism|sis|ure|age|ogy|ics|ness)s?$|[A-Z0-9]")
_ENZYME = re.compile(r"(?<!cre)ases?$")  # "reductase" is no reduction; "decreases" is
_CELLS = frozenset("neuron neurons cell cells".split())
_GAP_TOKEN = re.compile(r"\w[\w+\-/.']*(?<![\-/.'])|[^\w\s]")
# Nominal trigger words ("inhibition", "blockade", "loss") and role nouns ("antagonist", "inhibitors"): never verbs.
_ROLE_NOUN = re.compile(r"(?:agonist|antagonist|inhibitor|blocker|activator|modulator|stimulator|enhancer|inducer|"
                        r"substrate)s?$")
_NOMINAL = re.compile(rf"(?:tion|sion|ment|ance|ence|ade|ure|ity|ism|sis|age)s?$"
                      rf"|^(?:loss|deficits?|influences?|effects?)$|{_ROLE_NOUN.pattern}")
_LONG_TERM_DEPRESSION = re.compile(r"(?:long[- ]term\s+|potentiation/)$", re.I)
_ADVERBIAL = frozenset({"in particular", "for instance", "for example", "however", "therefore", "thus", "moreover",
                        "in turn", "in addition", "importantly", "notably", "also"})

CLAUSE_CONFIDENCE = 0.7
TEXT_OBJECT_FACTOR = 0.8  # an effect the KB lacks is matched by words, not ids
IMPLICIT_FACTOR = 0.8  # the subject is inferred from the document's structure


@dataclass(frozen=True)
class Topic:
    """What a document is about: the subject of sentences that name none."""

    agent: Mention | None  # the drug or drug class ("SSRI" in "SSRI-Induced Blunted Affect")
    effect: Mention | None = None  # what the title says it does ("Blunted Affect")


def is_drug(mention: Mention, kb: KnowledgeBase) -> bool:
    """A drug class or a member of one; serotonin or glutamate in a heading are not what it is about."""
    if mention.type != "Chemical" or not mention.id:
        return False
    return mention.id.startswith("CLASS:") or bool(kb.parents(mention.id))


def document_topic(document: Document, tagger: EntityTagger, kb: KnowledgeBase) -> Topic:
    """The drug a document's title is about and, after it, the effect the title names."""
    mentions = tagger.tag(document.title)
    agent = next((m for m in mentions if is_drug(m, kb)), None)
    if agent is None:
        return Topic(None)
    effect = next((m for m in mentions if m.type == "Disease" and m.start > agent.start), None)
    return Topic(_anchored(agent), _anchored(effect) if effect else None)


def _outside(mention: Mention) -> bool:
    """Whether a mention stands for something outside its sentence (an anchored title, heading or antecedent)."""
    return mention.start == mention.end


def _anchored(mention: Mention) -> Mention:
    """A mention from outside the sentence (title, heading), as a zero-width span at its start."""
    return Mention(0, 0, mention.text, mention.type, mention.id, mention.name)


# --- reading a sentence as units: entity mentions and words ------------------

@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    text: str
    mention: Mention | None = None

    @property
    def word(self) -> str:
        return "" if self.mention else self.text.lower()


def _units(text: str, mentions: list[Mention]) -> list[_Unit]:
    units: list[_Unit] = []
    pos = 0
    for m in sorted(mentions, key=lambda m: m.start):
        if m.start < pos:
            continue
        units += [_Unit(pos + t.start(), pos + t.end(), t.group()) for t in _GAP_TOKEN.finditer(text[pos:m.start])]
        units.append(_Unit(m.start, m.end, m.text, m))
        pos = m.end
    units += [_Unit(pos + t.start(), pos + t.end(), t.group()) for t in _GAP_TOKEN.finditer(text[pos:])]
    return units


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


def _negated(text: str) -> bool:
    return bool(NEGATION_CUES.search(text) or _CONTRACTED_NOT.search(text))


def _same_entity(mention: Mention, words: list[tuple[str, int]]) -> bool:
    """Whether words (with their offsets) around a mention leave it the same entity: suffixes
    after it ("Kir4.1 channels", "oxytocin signaling"), place adjectives before it ("astroglial Kir4.1")."""
    return all(w.lower() in ENTITY_SUFFIXES or (start < mention.start and LOCATIVE.search(w)) for w, start in words)


def _is_nominal(word: str) -> bool:
    return bool(_NOMINAL.search(word.lower()))


def _for_text(relation: str, obj: Mention) -> str:
    """Processes go down or up rather than being inhibited: "REM sleep suppression" decreases REM sleep."""
    if obj.id or obj.text.split()[-1].lower() in _CELLS:
        return relation
    return _ON_PROCESS.get(relation, relation)


def _phrase(text: str) -> str:
    """A phrase as an object's text: lower case first, unless the first word is an acronym or symbol."""
    first = text.split()[0] if text.split() else ""
    if first[:1].isupper() and first[1:] == first[1:].lower() and not any(c.isdigit() for c in first):
        return text[0].lower() + text[1:]
    return text


@dataclass
class _Agent:
    mentions: list[Mention]  # who acts (several when coordinated: "GRIA1, GRIA3 and GRIK2")
    polarity: int | None = None  # set when the agent is what a nominal acts on: "inhibition of Kir4.1" is -1
    text: Mention | None = None  # the noun phrase, when it names no entity ("The glutamatergic system")


@dataclass
class _Found:
    relation: Relation
    object_end: int = -1  # where a clause's objects end, so that the extractor's pairs can be vetted


@dataclass
class _Reader:
    """Clause readings of one sentence (or a bullet's body, from `start` on)."""

    text: str
    units: list[_Unit]
    index: int
    start: int = 0
    subject: Mention | None = None  # who "it", "its", "the drug" or a verb with nothing before it refers to
    found: list[_Found] = field(default_factory=list)
    _last_agent: tuple[_Agent, int] | None = None  # for participles: ", causing increased glutamate"

    def read(self, fallback: bool) -> list[_Found]:
        """Verbal, participial and nominal claims; with `fallback`, also claims whose subject is
        a plain noun phrase or a disease context ("impairment of X … in neurodegenerative diseases")."""
        units = self.units
        i = 0
        while i < len(units):
            u = units[i]
            if u.mention or u.start < self.start:
                i += 1
                continue
            hit = trigger_at(self.text, u.start, u.end)
            if hit is None:
                i += 1
                continue
            relation, end = hit
            k = i + 1
            while k < len(units) and units[k].start < end:
                k += 1
            after = units[k].word if k < len(units) else ""
            before = units[i - 1].word if i > 0 else ""
            auxiliary = next((v.word for v in reversed(units[:i]) if not v.word.endswith("ly")), "")
            if _is_nominal(u.text) and not _ROLE_NOUN.search(u.word) and after in ("of", "on"):
                self._nominal(i, k + 1, relation, fallback)
            elif u.word.endswith("ing"):  # a participle after a comma goes on the last clause; else a gerund
                if before == "," and self._last_agent:
                    self._claims(self._last_agent[0], relation, k, self._last_agent[1], u.start)
            elif not _is_nominal(u.text) and not self._prenominal(i) and not (
                    auxiliary in ("have", "has", "had") and not u.word.endswith("ed")):  # "have lower activity"
                agent, agent_start, passive = self._agent(i)
                if agent and passive and agent.polarity is None and after == "by":
                    self._passive(agent, relation, k + 1, agent_start, u.start)
                elif agent and (agent.mentions or fallback) and (not passive or relation == "associated_with"):
                    # without "by", a passive says what the subject undergoes ("expression was enhanced")
                    self._last_agent = (agent, agent_start)
                    self._claims(agent, relation, k, agent_start, u.start)
            i = k
        return self.found

    # -- agents

    def _agent(self, i: int) -> tuple[_Agent | None, int, bool]:
        """Who does what the trigger at unit i says, where that starts, and whether the trigger is a
        passive participle ("is inhibited"): the noun phrase before it, past auxiliaries, adverbs and
        parentheticals ("GRIA1 (rs1994862), in particular, was associated"). A noun phrase inside a
        verb's complement ("Monoamines acting on … receptors can reduce") acts on nothing."""
        units, j = self.units, i - 1
        passive = False
        while j >= 0 and units[j].start >= self.start:
            w = units[j].word
            if w in _LEFT_SKIP or (w.endswith("ly") and len(w) > 4):
                passive = passive or (w in _BE and units[i].word.endswith(("ed", "bound")))
                j -= 1
            elif w in (")", "]"):
                j = self._open(j) - 1
            elif w == "," and (k := self._adverbial(j)) is not None:
                j = k - 1
            else:
                break
        if j < 0 or units[j].start < self.start:
            return (_Agent([self.subject]) if self.subject else None), self.start, passive
        np = self._np_left(j)
        agent = self._interpret(np)
        if np and np[0] > 1 and units[np[0] - 1].word in _PREPOSITIONS | {"of"}:  # the phrase hangs off another one
            head = self._np_left(np[0] - 2)
            other = self._interpret(head)
            if other and other.mentions:  # "Elevated 5-HT in amygdala dampens …": the 5-HT acts
                np, agent = head, other
            elif not head or units[head[-1]].word not in ENTITY_HEADS:
                return None, units[np[0]].start, passive  # "patients after troglitazone", "acting on X"
        return agent, units[np[0] if np else j].start, passive

    def _open(self, j: int) -> int:
        """Index of the bracket that the closing bracket at j closes."""
        close = self.units[j].word
        opening = "(" if close == ")" else "["
        depth = 0
        while j >= 0:
            depth += (self.units[j].word == close) - (self.units[j].word == opening)
            if depth == 0:
                return j
            j -= 1
        return 0

    def _adverbial(self, j: int) -> int | None:
        """The index of the comma opening ", in particular," when the comma at j closes it."""
        for k in range(j - 1, max(-1, j - 5), -1):
            if self.units[k].word == ",":
                words = " ".join(u.word for u in self.units[k + 1:j])
                return k if words in _ADVERBIAL else None
        return None

    def _np_left(self, j: int) -> list[int]:
        """Indices of the noun phrase ending at unit j, coordinated mentions included."""
        units, np = self.units, []
        while j >= 0 and units[j].start >= self.start and len(np) < 8:
            u = units[j]
            w = u.word
            if u.mention:
                np.insert(0, j)
                j = self._coordinated(j, np)
                continue
            if w in (")", "]"):
                j = self._open(j) - 1
                continue
            if w == "of" and np:
                np.insert(0, j)
                j -= 1
                continue
            if w in _STOPS or w in _AUX or not w[:1].isalnum() or (w not in _DETERMINERS and trigger_at(
                    self.text, u.start, u.end) and not _is_nominal(w)):
                break
            np.insert(0, j)
            j -= 1
            if w in _DETERMINERS:
                break
        return np

    def _coordinated(self, j: int, np: list[int]) -> int:
        """Extend `np` over mentions coordinated before the mention at j; the index left of them."""
        units = self.units
        k = j - 1
        while k >= 1:
            m = k
            if units[m].word == ")":
                m = self._open(m) - 1
            seps = []
            while m >= 0 and units[m].word in (",", "and", "or"):
                seps.append(m)
                m -= 1
            if m >= 0 and units[m].word == ")":
                m = self._open(m) - 1
            if not seps or m < 0 or not units[m].mention or units[m].start < self.start:
                return k if units[k].word != ")" else self._open(k) - 1
            np.insert(0, m)
            k = m - 1
        return k

    def _interpret(self, np: list[int]) -> _Agent | None:
        """A noun phrase as an agent: an entity (a drug with "treatment" or "doses" after it still is
        the drug), a nominal ("SSRI stimulation of 5-HT2B", "inhibition of Kir4.1"), or plain text."""
        if not np:
            return None
        units = [self.units[k] for k in np]
        words = [u.word for u in units]
        if self.subject and (words in (["it"], ["they"]) or words[0] in POSSESSIVES or (
                words[0] in _DETERMINERS and words[-1] in GENERIC_NOUNS)):
            return _Agent([self.subject])  # "It also inhibits …", "Its effect depends on …"
        for p, u in enumerate(units):
            if not u.mention and _is_nominal(u.text) and (hit := trigger_at(self.text, u.start, u.end)):
                before = [v.mention for v in units[:p] if v.mention and v.mention.type in AGENT_TYPES]
                after = [v.mention for v in units[p + 1:] if v.mention and v.mention.type in AGENT_TYPES]
                if before and p + 1 < len(units) and units[p + 1].word == "of":
                    return _Agent([before[-1]])
                acted_on = after or (before if p == len(units) - 1 else [])
                return _Agent(acted_on, RELATION_POLARITY[hit[0]]) if acted_on else None
        mentions = [u.mention for u in units if u.mention and u.mention.type in AGENT_TYPES]
        last = max((p for p, u in enumerate(units) if u.mention), default=-1)
        tail = {u.word for u in units[last + 1:]}
        of = next((p for p, u in enumerate(units) if u.word == "of"), None)
        headed_by_entity = of is None or (of > 0 and units[of - 1].word in ENTITY_HEADS)  # not "modification of X"
        if mentions and tail <= EXPOSURE_NOUNS | ENTITY_SUFFIXES and headed_by_entity:
            return _Agent(mentions)
        words = [u for u in units if u.word not in _DETERMINERS]
        if not words:
            return None
        return _Agent([], text=self._text_mention(words))

    def _text_mention(self, units: list[_Unit]) -> Mention:
        start, end = units[0].start, units[-1].end
        return Mention(start, end, _phrase(self.text[start:end]), "", "", "")

    # -- objects

    def _prenominal(self, i: int) -> bool:
        """A participle before its noun ("Reduced dopamine release", "increased glutamate") rather
        than a verb: nothing that could act stands before it."""
        u = self.units[i]
        if not u.word.endswith("ed"):
            return False
        before = self.units[i - 1] if i > 0 else None
        if before is None or before.start < self.start:
            return True
        return before.word in _STOPS | _DETERMINERS | {",", "(", ":", ";"} or before.word.endswith("ing")

    def _objects(self, k: int, relation: str = "") -> tuple[list[list[_Unit]], str | None, int]:
        """The conjuncts after a trigger ending before unit k, the relation a participle in front
        of them names ("causing increased glutamate"), and where they end."""
        units, n = self.units, len(self.units)
        if k < n and units[k].word in PARTICLES.get(relation, ()):
            k += 1
        k = self._past_determiners(k)
        override = None
        if k < n and units[k].word.endswith("ed") and (hit := trigger_at(self.text, units[k].start, units[k].end)):
            override = hit[0]
            k += 1
        conjuncts: list[list[_Unit]] = []
        current: list[_Unit] = []
        while k < n and len(current) <= 6:
            u = units[k]
            w = u.word
            if u.mention:
                current.append(u)
            elif w == "(" and current:
                close = next((m for m in range(k, n) if units[m].word == ")"), None)
                if close is None:
                    break
                current += units[k:close + 1]
                k = close
            elif w in (",", "and", "or"):
                m = k
                while m < n and units[m].word in (",", "and", "or"):
                    m += 1
                m = self._past_determiners(m)
                if m >= n or not current:
                    break
                nxt = units[m]
                if not (nxt.mention or (w != "," and nxt.word[:1].isalpha() and nxt.word not in _STOPS | _AUX
                                        and not trigger_at(self.text, nxt.start, nxt.end))):
                    break
                conjuncts.append(current)
                current = []
                k = m - 1
            elif w == "of" and current and k + 1 < n and units[k + 1].word not in _STOPS:
                current.append(u)
            elif w == "-" and current and k + 1 < n and current[-1].end == u.start == units[k + 1].start - 1:
                current.append(u)  # "NMDA-induced neuronal injury" goes on past the mention
            elif (w in _STOPS or w in _AUX or not w[:1].isalnum() or w.endswith("ly") or (
                    trigger_at(self.text, u.start, u.end) and not _is_nominal(w)
                    and not (current and w.endswith("ing")))):  # "the specific binding of" is a noun
                break
            else:
                current.append(u)
            k += 1
        if current:
            conjuncts.append(current)
        end = conjuncts[-1][-1].end if conjuncts else -1
        return conjuncts, override, end

    def _past_determiners(self, k: int) -> int:
        """The index past determiners and light nouns: "the process of LTP" is LTP."""
        units, n = self.units, len(self.units)
        while k < n:
            if units[k].word in _DETERMINERS:
                k += 1
            elif units[k].word in LIGHT_NOUNS and k + 1 < n and units[k + 1].word == "of":
                k += 2
            else:
                return k
        return k

    def _object(self, units: list[_Unit], relation: str, prefix: str) -> tuple[Mention, str] | None:
        """A conjunct as the object and the relation on it: an entity when the conjunct is one
        ("Kir4.1 channels", "astroglial Kir4.1", "the activity of caspase-1"); "N of X" with a nominal
        trigger N as N's relation on X after a plain "causes" ("caused relevant inhibition of 5-HT2A");
        else the conjunct as text, unless it is too slight to be an effect ("site", "concentration-
        dependent") or was cut inside a word."""
        while len(units) > 1 and (units[-1].word in ("of", "-") or units[-1].word in _DETERMINERS):
            units = units[:-1]
        start, end = units[0].start, units[-1].end
        if end < len(self.text) and not (self.text[end].isspace() or self.text[end] in ",.;:)]'\"’”"):
            return None
        entity = self._entity(units)
        if entity is not None and not prefix:
            return replace(entity, start=start, end=end, text=self.text[start:end]), relation
        of = next((p for p, u in enumerate(units) if u.word == "of"), None)
        if of and relation not in DIRECTIONAL and (entity := self._entity(units[of + 1:])) is not None:
            head = units[of - 1]
            if hit := trigger_at(self.text, head.start, head.end):
                return entity, hit[0]
        text = self.text[start:end]
        last = text.split()[-1].split("-")[-1]
        if len(units) == 1 and not (units[0].mention or _CONTENTFUL.search(last)):
            return None
        obj = Mention(start, end, _phrase(f"{prefix}{text}"), "", "", "")
        return obj, _for_text(relation, obj)

    def _entity(self, units: list[_Unit]) -> Mention | None:
        """The one entity a phrase names, past determiners, place adjectives, suffixes ("channels")
        and parentheticals, and through "activity of" / "expression of"."""
        units = [u for u in units if u.word not in _DETERMINERS and u not in self._parenthesized(units)]
        mentions = [u.mention for u in units if u.mention]
        if len(mentions) != 1:
            return None
        rest = [u for u in units if not u.mention]
        if _same_entity(mentions[0], [(u.text, u.start) for u in rest]):
            return mentions[0]
        if len(rest) == 2 and rest[0].word in ENTITY_SUFFIXES and rest[1].word == "of" and units[-1].mention:
            return mentions[0]
        return None

    def _parenthesized(self, units: list[_Unit]) -> list[_Unit]:
        inside, depth = [], 0
        for u in units:
            depth += u.word == "("
            if depth:
                inside.append(u)
            depth -= u.word == ")"
        return inside

    # -- claims

    def _claims(self, agent: _Agent, relation: str, k: int, agent_start: int, trigger_start: int,
                kind: str = CLAUSE) -> None:
        """What the agent does to each conjunct after the trigger; a participle in front of them
        says which way a plain "causes" goes ("causing increased glutamate")."""
        conjuncts, override, end = self._objects(k, relation)
        if override and relation not in DIRECTIONAL:
            relation = override
        if agent.polarity is not None:
            relation = _composed(agent.polarity, relation)
        negated = _negated(self.text[agent_start:trigger_start])
        prefix = ""
        for units in conjuncts:
            if len(units) > 2 and units[1].word == "of" and not units[0].mention:
                prefix = self.text[units[0].start:units[2].start]  # "metabolism of glutamate, glucose and …"
            elif self._entity(units) is None:
                prefix = ""
            read = self._object(units, relation, prefix if units[0].mention else "")
            if read is None:
                continue
            obj, rel = read
            for subject in agent.mentions or [agent.text]:
                if subject is None or subject.key == obj.key:
                    continue
                confidence = CLAUSE_CONFIDENCE * (1 if obj.id else TEXT_OBJECT_FACTOR) * (
                    IMPLICIT_FACTOR if _outside(subject) else 1)
                found = Relation(subject, rel, obj, self.text, self.index, negated=negated,
                                 confidence=round(confidence, 3), extractor=kind)
                self.found.append(_Found(found, end))

    def _passive(self, patient: _Agent, relation: str, k: int, patient_start: int, trigger_start: int) -> None:
        """"Kir4.1 is inhibited by sertraline": the entities after "by" act on the noun phrase before."""
        conjuncts, _, end = self._objects(k)
        negated = _negated(self.text[patient_start:trigger_start])
        for units in conjuncts:
            # "by fluoxetine treatment" is fluoxetine acting; "by PLA2 inhibitors" is not PLA2
            agent = self._entity([u for u in units if u.word not in EXPOSURE_NOUNS])
            if agent is None or agent.type not in AGENT_TYPES:
                continue
            for obj in patient.mentions or [patient.text]:
                if obj is not None and obj.key != agent.key:
                    rel = _for_text(relation, obj)
                    confidence = CLAUSE_CONFIDENCE * (1 if obj.id else TEXT_OBJECT_FACTOR)
                    self.found.append(_Found(Relation(agent, rel, obj, self.text, self.index, negated=negated,
                                                      confidence=round(confidence, 3), extractor=CLAUSE),
                                             object_end=end))

    def _nominal(self, i: int, k: int, relation: str, fallback: bool) -> None:
        """"X-mediated inhibition of Y", "SSRI stimulation of 5-HT2B", "5-HT influences on SCN":
        the entity right before the nominal acts on what follows it. Without one, with `fallback`,
        a disease named after it ("… of glutamate transport in … neurodegenerative diseases") is
        associated with the whole nominal."""
        units, j = self.units, i - 1
        while j >= 0 and units[j].word in ("-", "mediated", "induced", "dependent", "evoked", "'s", "’s"):
            j -= 1
        if j >= 0 and units[j].start >= self.start and units[j].mention and units[j].mention.type in AGENT_TYPES:
            self._claims(_Agent([units[j].mention]), relation, k, units[j].start, units[i].start, NOMINAL)
            return
        if not fallback:
            return
        conjuncts, _, end = self._objects(k)
        disease = next((u.mention for u in units[k:] if u.mention and u.mention.type == "Disease"
                        and u.start >= end and ";" not in self.text[end:u.start]), None)
        if conjuncts and disease:
            nominal = Mention(units[i].start, end, _phrase(self.text[units[i].start:end]), "", "", "")
            found = Relation(disease, "associated_with", nominal, self.text, self.index,
                             confidence=round(CLAUSE_CONFIDENCE * TEXT_OBJECT_FACTOR, 3), extractor=NOMINAL)
            self.found.append(_Found(found))


def _composed(polarity: int, relation: str) -> str:
    """What X does when "inhibition of X" does `relation`: the opposite; "activation of X": the same."""
    if polarity > 0:
        return relation
    if polarity < 0 and relation in _OPPOSITE:
        return _OPPOSITE[relation]
    return "modulates"


# --- vetting the extractor's pairs --------------------------------------------

def _reads_right(rel: Relation, text: str, found: list[_Found]) -> bool:
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
        if nominal and _is_nominal(nominal.group(1)) and trigger_in(nominal.group(1)):
            lead = between[:nominal.start(1)]
            if not re.fullmatch(r"\s*(?:-?\s*(?:mediated|induced|dependent)\s*|['’]s\s*)?", lead):
                return False
        clauses = [f for f in found if f.relation.subject.start == s.start and f.relation.extractor == CLAUSE]
        if clauses and all(f.object_end <= o.start for f in clauses):
            return False
    return True


def _claim_mentions(text: str, mentions: list[Mention], kb: KnowledgeBase) -> list[Mention]:
    """Mentions a claim may be about, with the targets head nouns make of them (`_with_heads`): none
    the linker could not ground (claims meet evidence on KB ids; ungrounded words are read as words,
    "GRIA1 (AMPA1)" as one gene), none cut off inside a phrase ("impairment of"), no species, no
    "depression" of long-term depression (LTD)."""
    return [m for m in _with_heads(text, mentions, kb) if m.id and m.type != "Species"
            and m.text.split()[-1].lower() not in _STOPS | {"of"}
            and not (m.type == "Disease" and _LONG_TERM_DEPRESSION.search(text[:m.start]))]


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


# --- bullets -------------------------------------------------------------------

def _bullet_head(text: str) -> int | None:
    """Where a bullet's "head: " ends, when it has a short one."""
    colon = text.find(": ")
    if colon <= 0 or len(text[:colon].split()) > 8:
        return None
    return colon


def _head_claim(sentence: DocSentence, head_end: int, units: list[_Unit], subject: Mention,
                topic: Topic, body_found: list[_Found]) -> list[_Found]:
    """The claim a mechanism bullet's head makes about the bullet's subject: "REM sleep
    suppression: …" → subject decreases "REM sleep". The relation comes from the head's trigger,
    else the trigger the body opens with ("Amygdala reactivity: Diminished response …"), else its
    first directional trigger, else "modulates". A head that describes the phenomenon ("Onset
    pattern") stands for the topic's effect; under a genetic one, the genes are associated with it."""
    text = sentence.text
    head = text[:head_end]
    body_start = head_end + 2
    words = list(re.finditer(r"[\w+][\w+\-/.']*(?<![\-/.'])", head))
    if not words:
        return []
    if words[-1].group().lower() in DESCRIPTOR_HEADS and topic.effect is not None:
        if body_found:
            return []
        genes = [u.mention for u in units if u.mention and u.mention.type == "Gene" and u.start >= body_start]
        if genes and GENETIC_CUES.search(text):
            return [_Found(Relation(g, "associated_with", topic.effect, text, sentence.index,
                                    confidence=round(CLAUSE_CONFIDENCE * IMPLICIT_FACTOR, 3), extractor=TOPIC_EFFECT))
                    for g in dict.fromkeys(genes)]
        return [_Found(Relation(subject, "causes", topic.effect, text, sentence.index,
                                confidence=round(CLAUSE_CONFIDENCE * IMPLICIT_FACTOR, 3), extractor=TOPIC_EFFECT))]
    relation = None
    kept = []
    for w in words:
        hit = trigger_at(head, w.start(), w.end())
        if hit and (w is words[0] or w is words[-1]):
            relation = relation or hit[0]
        elif w.group().lower() not in HEAD_FILLERS:
            kept.append(w)
    if not kept:
        return []
    body = text[body_start:]
    if relation is None:
        leading = " ".join(body.split()[:2])
        relation = trigger_in(leading)
    if relation is None:
        directional = [rel for w in re.finditer(r"[\w-]+", body)
                       if (hit := trigger_at(body, w.start(), w.end())) and (rel := hit[0]) in DIRECTIONAL]
        relation = directional[0] if directional else "modulates"
    start, end = kept[0].start(), kept[-1].end()
    mentions = [u.mention for u in units if u.mention and u.start >= start and u.end <= end]
    phrase = head[start:end]
    core = [w for w in kept if not any(m.start <= w.start() < m.end for m in mentions)]
    if len(mentions) == 1 and _same_entity(mentions[0], [(w.group(), w.start()) for w in core]):
        obj = replace(mentions[0], start=start, end=end, text=_phrase(phrase) if core else mentions[0].text)
    else:
        if kept[-1].group().lower() in REGION_WORDS:
            phrase += " activity"
        obj = Mention(start, end, _phrase(phrase), "", "", "")
    if any(f.relation.object.key == obj.key for f in body_found) or \
            obj.key == subject.key:
        return []
    confidence = CLAUSE_CONFIDENCE * IMPLICIT_FACTOR * (1 if obj.id else TEXT_OBJECT_FACTOR)
    return [_Found(Relation(subject, _for_text(relation, obj), obj, text, sentence.index,
                            confidence=round(confidence, 3), extractor=BULLET_HEAD))]


# --- ellipsis --------------------------------------------------------------------

ELLIPSIS_REACH = 40  # how far after a drug its cue of shared action may stand ("… and Fluvoxamine sharing")
_ELLIPSIS = re.compile(r"\b(?:shar(?:e|es|ed|ing)|likewise|similarly|as well|too)\b", re.I)
_ELLIPSIS_BEFORE = re.compile(r"\b(?:as (?:do|does|did)|like|and so (?:do|does|did))\s+$", re.I)


def _ellipses(text: str, index: int, units: list[_Unit], found: list[_Found]) -> list[_Found]:
    """"Sertraline inhibits Kir4.1 …, with Fluoxetine and Fluvoxamine sharing its Kir4.1 inhibition":
    a drug that is the subject of nothing, next to a cue of shared action, does what an earlier
    drug of the sentence does, to the objects the cue's phrase names (all of them if it names none)."""
    subjects = {f.relation.subject.start for f in found}
    added: list[_Found] = []
    for n, u in enumerate(units):
        m = u.mention
        if not m or m.type != "Chemical" or m.start in subjects:
            continue
        clause_end = next((v.start for v in units[n:] if v.word in (";", ".")), len(text))
        cue = _ELLIPSIS.search(text, u.end, min(clause_end, u.end + ELLIPSIS_REACH))
        if cue and not re.search(r"[,;:]", text[u.end:cue.start()]):
            named = {v.mention.key for v in units if v.mention and cue.end() <= v.start < clause_end}
        elif _ELLIPSIS_BEFORE.search(text, 0, u.start):
            named = set()
        else:
            continue
        earlier = [f for f in found if f.relation.subject.start < m.start and f.relation.subject.type == "Chemical"]
        if not earlier:
            continue
        first = earlier[0].relation.subject.start
        for f in earlier:
            rel = f.relation
            if rel.subject.start == first and (not named or rel.object.key in named):
                copy = replace(rel, subject=m, sentence_index=index, confidence=round(rel.confidence * 0.9, 3),
                               extractor=ELLIPSIS)
                added.append(_Found(copy))
    return added


# --- the document ------------------------------------------------------------------

def _hedged(text: str) -> bool:
    return bool(HEDGE_CUES.search(text) or CLAIM_HEDGES.search(text))


def _section_subjects(document: Document, tagger: EntityTagger, kb: KnowledgeBase, topic: Topic) -> dict[str, Mention]:
    """The implicit subject under each heading: the drug the heading names, else the title's."""
    subjects: dict[str, Mention] = {}
    for sentence in document.sentences:
        if sentence.section in subjects:
            continue
        drug = next((m for m in tagger.tag(sentence.section) if is_drug(m, kb)), None)
        subject = _anchored(drug) if drug else topic.agent
        if subject is not None:
            subjects[sentence.section] = subject
    return subjects


def _sentence_claims(sentence: DocSentence, tagger: EntityTagger, extractor: RelationExtractor, kb: KnowledgeBase,
                     subject: Mention | None, antecedent: Mention | None,
                     topic: Topic) -> Iterator[Relation]:
    """The claims of one sentence, in reading order. `subject` is
    what the section's bullets are about; `antecedent` the drug the sentence before was about."""
    text = sentence.text
    mentions = _claim_mentions(text, tagger.tag(text), kb)
    units = _units(text, mentions)
    head_end = _bullet_head(text) if sentence.kind == "bullet" else None
    body_start = head_end + 2 if head_end is not None else 0
    context = subject if sentence.kind == "bullet" else antecedent
    named = [u.mention for u in units if u.mention and u.end <= body_start]
    if head_end is not None and len(named) == 1 and named[0].type == "Chemical" and named[0].text == text[:head_end]:
        context, subject = named[0], None  # "Norfluoxetine: the active metabolite inhibits CYP2D6"
    found = _Reader(text, units, sentence.index, body_start, context).read(fallback=False)
    extracted = [_Found(r) for r in extractor.extract(text, sentence.index, mentions) if _reads_right(r, text, found)]
    if head_end is not None and subject is not None:
        found += _head_claim(sentence, head_end, units, subject, topic, extracted + found)
    if not extracted and not found and sentence.markers:
        found = _Reader(text, units, sentence.index, body_start, context).read(fallback=True)
    everything = extracted + found
    everything += _ellipses(text, sentence.index, units, everything)
    best: dict[tuple[str, str], _Found] = {}  # one claim per pair, a directional one before a neutral one
    for f in everything:
        key = (f.relation.subject.key, f.relation.object.key)
        kept = best.get(key)
        if kept is None or (kept.relation.polarity == 0 and f.relation.polarity != 0):
            best[key] = f
    entity_objects = [f.relation for f in best.values() if f.relation.object.id]
    for f in sorted(best.values(), key=lambda f: (f.relation.subject.start, f.relation.object.start,
                                                  f.relation.relation)):
        rel = f.relation
        if not rel.object.id and any(e.subject.start == rel.subject.start and
                                     rel.object.start <= e.object.start < rel.object.end for e in entity_objects):
            continue  # "reduces Kir4.1 currents" is the Kir4.1 claim already
        yield replace(rel, hedged=rel.hedged or _hedged(text))


def extract_claims(document: Document, tagger: EntityTagger, extractor: RelationExtractor,
                   kb: KnowledgeBase) -> list[Claim]:
    """Every claim in the document's prose and bullets; a claimless "we can only hypothesize"
    marks the claims before it in its section as hedged."""
    topic = document_topic(document, tagger, kb)
    subjects = _section_subjects(document, tagger, kb, topic)
    claims: list[Claim] = []
    antecedent: Mention | None = None
    for sentence in document.sentences:
        if sentence.kind not in CLAIM_SENTENCE_KINDS:
            antecedent = None if sentence.kind == "heading" else antecedent
            continue
        found = list(_sentence_claims(sentence, tagger, extractor, kb, subjects.get(sentence.section), antecedent,
                                      topic))
        named = [r.subject for r in found if r.subject.type == "Chemical" and not _outside(r.subject)]
        antecedent = _anchored(named[0]) if named else antecedent
        if not found and META_HEDGE.search(sentence.text):
            claims = [replace(c, relation=replace(c.relation, hedged=True)) if c.sentence.section == sentence.section
                      else c for c in claims]
        for n, relation in enumerate(found):
            claims.append(Claim(document.name, f"{document.name}:{sentence.index}:{n}", sentence, relation,
                                _outside(relation.subject)))
    return claims
