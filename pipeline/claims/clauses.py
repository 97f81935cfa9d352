"""Claims read from a sentence's clauses: "Sertraline also reduces glutamate uptake" (verbal),
"…, causing increased glutamate" (participial), "5-HT2C-mediated inhibition of VTA neurons" and
"inhibition of Kir4.1 would disrupt …" (nominal, the second read as what Kir4.1 itself does),
"Kir4.1 is inhibited by sertraline" (passive).

A sentence is read as units, entity mentions and words between them. From each trigger word
the reader looks left for who acts (past auxiliaries, adverbs and parentheticals, through
coordinated mentions: "GRIA1, GRIA3 and GRIK2"; "it" or "the drug" is the subject it was
given) and right for what is acted on, each conjunct an object. An effect the KB lacks is
kept as text with an empty id (a *text object*) rather than dropped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from pipeline.claims.vocabulary import (ADVERBIALS, AUX, BE, CONTENTFUL, DETERMINERS, DIRECTIONAL,
                                        ENTITY_HEADS, ENTITY_SUFFIXES, EXPOSURE_NOUNS, GENERIC_NOUNS, LEFT_SKIP,
                                        LIGHT_NOUNS, PARTICLES, POSSESSIVES, PREPOSITIONS, ROLE_NOUN, STOPS, composed,
                                        is_nominal, object_text, relation_on, same_entity, trigger_at)
from pipeline.datatypes import RELATION_POLARITY, Mention, Relation
from pipeline.relations.triggers import NEGATION_CUES

AGENT_TYPES = ("Chemical", "Gene")
# How each kind of claim read here was found (Relation.extractor).
CLAUSE, NOMINAL = "clause", "nominal"
CLAUSE_CONFIDENCE = 0.7
TEXT_OBJECT_FACTOR = 0.8  # an effect the KB lacks is matched by words, not ids
IMPLICIT_FACTOR = 0.8  # the subject is inferred from the document's structure
_CONTRACTED_NOT = re.compile(r"n't\b", re.I)
_GAP_TOKEN = re.compile(r"\w[\w+\-/.']*(?<![\-/.'])|[^\w\s]")


def outside(mention: Mention) -> bool:
    """Whether a mention stands for something outside its sentence (an anchored title, heading or antecedent)."""
    return mention.start == mention.end


def anchored(mention: Mention) -> Mention:
    """A mention from outside the sentence (title, heading), as a zero-width span at its start."""
    return Mention(0, 0, mention.text, mention.type, mention.id, mention.name)


# --- reading a sentence as units: entity mentions and words ------------------

@dataclass(frozen=True)
class Unit:
    """An entity mention, or a word or mark between mentions."""

    start: int
    end: int
    text: str
    mention: Mention | None = None

    @property
    def word(self) -> str:
        return "" if self.mention else self.text.lower()


def sentence_units(text: str, mentions: list[Mention]) -> list[Unit]:
    """The sentence as units: each mention one, the words and marks between them one each."""
    units: list[Unit] = []
    pos = 0
    for m in sorted(mentions, key=lambda m: m.start):
        if m.start < pos:
            continue
        units += [Unit(pos + t.start(), pos + t.end(), t.group()) for t in _GAP_TOKEN.finditer(text[pos:m.start])]
        units.append(Unit(m.start, m.end, m.text, m))
        pos = m.end
    units += [Unit(pos + t.start(), pos + t.end(), t.group()) for t in _GAP_TOKEN.finditer(text[pos:])]
    return units


def _negated(text: str) -> bool:
    return bool(NEGATION_CUES.search(text) or _CONTRACTED_NOT.search(text))


# --- the clause reader -----------------------------------------------------------

@dataclass
class _Agent:
    mentions: list[Mention]  # who acts (several when coordinated: "GRIA1, GRIA3 and GRIK2")
    polarity: int | None = None  # set when the agent is what a nominal acts on: "inhibition of Kir4.1" is -1
    text: Mention | None = None  # the noun phrase, when it names no entity ("The glutamatergic system")


@dataclass
class Found:
    """A claim read from a clause, or an extractor's pair kept for a sentence."""

    relation: Relation
    object_end: int = -1  # where a clause's objects end, so that the extractor's pairs can be vetted


@dataclass
class ClauseReader:
    """Clause readings of one sentence (or a bullet's body, from `start` on)."""

    text: str
    units: list[Unit]
    index: int
    start: int = 0
    subject: Mention | None = None  # who "it", "its", "the drug" or a verb with nothing before it refers to
    found: list[Found] = field(default_factory=list)
    _last_agent: tuple[_Agent, int] | None = None  # for participles: ", causing increased glutamate"

    def read(self, fallback: bool) -> list[Found]:
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
            if is_nominal(u.text) and not ROLE_NOUN.search(u.word) and after in ("of", "on"):
                self._nominal(i, k + 1, relation, fallback)
            elif u.word.endswith("ing"):  # a participle after a comma goes on the last clause; else a gerund
                if before == "," and self._last_agent:
                    self._claims(self._last_agent[0], relation, k, self._last_agent[1], u.start)
            elif not is_nominal(u.text) and not self._prenominal(i) and not (
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
            if w in LEFT_SKIP or (w.endswith("ly") and len(w) > 4):
                passive = passive or (w in BE and units[i].word.endswith(("ed", "bound")))
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
        if np and np[0] > 1 and units[np[0] - 1].word in PREPOSITIONS | {"of"}:  # the phrase hangs off another one
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
                return k if words in ADVERBIALS else None
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
            if w in STOPS or w in AUX or not w[:1].isalnum() or (w not in DETERMINERS and trigger_at(
                    self.text, u.start, u.end) and not is_nominal(w)):
                break
            np.insert(0, j)
            j -= 1
            if w in DETERMINERS:
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
                words[0] in DETERMINERS and words[-1] in GENERIC_NOUNS)):
            return _Agent([self.subject])  # "It also inhibits …", "Its effect depends on …"
        for p, u in enumerate(units):
            if not u.mention and is_nominal(u.text) and (hit := trigger_at(self.text, u.start, u.end)):
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
        words = [u for u in units if u.word not in DETERMINERS]
        if not words:
            return None
        return _Agent([], text=self._text_mention(words))

    def _text_mention(self, units: list[Unit]) -> Mention:
        start, end = units[0].start, units[-1].end
        return Mention(start, end, object_text(self.text[start:end]), "", "", "")

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
        return before.word in STOPS | DETERMINERS | {",", "(", ":", ";"} or before.word.endswith("ing")

    def _objects(self, k: int, relation: str = "") -> tuple[list[list[Unit]], str | None, int]:
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
        conjuncts: list[list[Unit]] = []
        current: list[Unit] = []
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
                if not (nxt.mention or (w != "," and nxt.word[:1].isalpha() and nxt.word not in STOPS | AUX
                                        and not trigger_at(self.text, nxt.start, nxt.end))):
                    break
                conjuncts.append(current)
                current = []
                k = m - 1
            elif w == "of" and current and k + 1 < n and units[k + 1].word not in STOPS:
                current.append(u)
            elif w == "-" and current and k + 1 < n and current[-1].end == u.start == units[k + 1].start - 1:
                current.append(u)  # "NMDA-induced neuronal injury" goes on past the mention
            elif (w in STOPS or w in AUX or not w[:1].isalnum() or w.endswith("ly") or (
                    trigger_at(self.text, u.start, u.end) and not is_nominal(w)
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
            if units[k].word in DETERMINERS:
                k += 1
            elif units[k].word in LIGHT_NOUNS and k + 1 < n and units[k + 1].word == "of":
                k += 2
            else:
                return k
        return k

    def _object(self, units: list[Unit], relation: str, prefix: str) -> tuple[Mention, str] | None:
        """A conjunct as the object and the relation on it: an entity when the conjunct is one
        ("Kir4.1 channels", "astroglial Kir4.1", "the activity of caspase-1"); "N of X" with a nominal
        trigger N as N's relation on X after a plain "causes" ("caused relevant inhibition of 5-HT2A");
        else the conjunct as text, unless it is too slight to be an effect ("site", "concentration-
        dependent") or was cut inside a word."""
        while len(units) > 1 and (units[-1].word in ("of", "-") or units[-1].word in DETERMINERS):
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
        if len(units) == 1 and not (units[0].mention or CONTENTFUL.search(last)):
            return None
        obj = Mention(start, end, object_text(f"{prefix}{text}"), "", "", "")
        return obj, relation_on(relation, obj)

    def _entity(self, units: list[Unit]) -> Mention | None:
        """The one entity a phrase names, past determiners, place adjectives, suffixes ("channels")
        and parentheticals, and through "activity of" / "expression of"."""
        units = [u for u in units if u.word not in DETERMINERS and u not in self._parenthesized(units)]
        mentions = [u.mention for u in units if u.mention]
        if len(mentions) != 1:
            return None
        rest = [u for u in units if not u.mention]
        if same_entity(mentions[0], [(u.text, u.start) for u in rest]):
            return mentions[0]
        if len(rest) == 2 and rest[0].word in ENTITY_SUFFIXES and rest[1].word == "of" and units[-1].mention:
            return mentions[0]
        return None

    def _parenthesized(self, units: list[Unit]) -> list[Unit]:
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
            relation = composed(agent.polarity, relation)
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
                    IMPLICIT_FACTOR if outside(subject) else 1)
                found = Relation(subject, rel, obj, self.text, self.index, negated=negated,
                                 confidence=round(confidence, 3), extractor=kind)
                self.found.append(Found(found, end))

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
                    rel = relation_on(relation, obj)
                    confidence = CLAUSE_CONFIDENCE * (1 if obj.id else TEXT_OBJECT_FACTOR)
                    self.found.append(Found(Relation(agent, rel, obj, self.text, self.index, negated=negated,
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
            nominal = Mention(units[i].start, end, object_text(self.text[units[i].start:end]), "", "", "")
            found = Relation(disease, "associated_with", nominal, self.text, self.index,
                             confidence=round(CLAUSE_CONFIDENCE * TEXT_OBJECT_FACTOR, 3), extractor=NOMINAL)
            self.found.append(Found(found))
