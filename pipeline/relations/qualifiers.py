"""What an evidence sentence says about how a finding was obtained: the amounts, the exposure
and the system studied.

Why: "sertraline inhibits Kir4.1" resting on an IC50 of 2.1 µM in HEK293 cells is not the same
evidence as a finding in patients at therapeutic doses, and a pharmacologist asks for these
first. Read from the sentence alone (the record's species and study type are reported beside
it); each is a short list, empty when the sentence does not say.

- `amounts`: potency values (IC50, EC50, Ki, ...), concentrations (µM, ng/ml) and doses (mg/kg,
  mg/day, mg/m2), as written;
- `exposure`: acute, chronic or repeated, from the words that say so of a treatment
  ("long-term" is chronic, "short-term" and "single dose" acute), else from how long it lasted
  or a daily dose;
- `system`: human, animal or in vitro, from the words that name who or what was studied.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.datatypes import Relation

_NUMBER = r"\d+(?:[.,]\d+)?(?:\s*(?:±|\+/-|-|–|to)\s*\d+(?:[.,]\d+)?)?"
_MASS = r"(?:[kmµμun]?g|micro-?g|mcg)"
_VOLUME_OR_MASS = r"(?:[mµμun]?[lL]|micro-?l|kg|[mµμ]?g|m\(?2\)?|m²|day|d|h|min)"
_MOLAR = r"(?:[pnµμumM]?M|micro-?M|nmol/[lL]|[µμu]mol/[lL]|mmol/[lL])"
_POTENCY = r"(?:IC|EC|ED|LD|TD)\s?\(?50\)?|K[idb]|K\(?[idb]\)?|pK[idb]|pA2|pIC50|pEC50|Km"
# a potency named with its value: "IC50 of 2.1 microM", "Ki = 35 nM", "EC50 values of 3-10 µM"
_POTENCY_VALUE = re.compile(
    rf"\b(?:{_POTENCY})(?:\s+values?)?\s*(?:\([^)]{{0,20}}\)\s*)?(?:of|=|:|was|were|is|are|~|≈|<|>|≤|≥)?\s*"
    rf"(?:approximately\s+|about\s+|~\s*)?{_NUMBER}\s*(?:{_MOLAR}|{_MASS}/{_VOLUME_OR_MASS})?")
# an amount with its unit: "10 microM", "5mg/kg", "20 mg per day", "4.5 microg/0.5 microl", "50mg/kg/day"
_AMOUNT = re.compile(
    rf"(?<![\w.]){_NUMBER}\s*(?:{_MOLAR}|{_MASS}(?:\s*(?:/|per)\s*(?:\d+(?:[.,]\d+)?\s*)?{_VOLUME_OR_MASS}){{0,2}})"
    rf"(?![\w/])")
_LAB_VALUE = re.compile(r"(?:/|per )\s*d[lL]\b|deciliter")  # mg/dl: a laboratory value, not a dose
# An exposure word counts where it qualifies a treatment or a drug ("chronic fluoxetine
# administration", "acute nicotine"), not a disease ("chronic liver damage", "acute interstitial
# nephritis") or an effect's course ("short-term adverse effects").
_TREATMENT = (r"(?:treatments?|treated|administrations?|administered|exposures?|exposed|use|usage|dosing|doses?|"
              r"infusions?|therap(?:y|ies)|intake|ingestion|injections?|injected|applications?|challenges?|"
              r"regimens?|pretreatment|supplementation|supplemented)")
_BEFORE = r"(?:\s+[\w-]+){0,2}?\s+"  # up to two words between: "chronic SSRI treatment"
_EXPOSURE_WORDS = {
    "acute": r"\b(?:acute(?:ly)?|short[- ]?term|short|brief|single)",
    "chronic": r"\b(?:chronic(?:ally)?|long[- ]?term|sub-?chronic|prolonged)",
    "repeated": r"\b(?:repeated(?:ly)?|multiple|daily|twice daily|once daily)",
}
# said of a drug itself, only the words that cannot mean anything else: "acute nicotine", not "the
# short lifetime of IP3"
_ON_A_DRUG = {"acute": r"\bacute(?:ly)?", "chronic": r"\bchronic(?:ally)?", "repeated": r"\brepeated(?:ly)?"}
_REPEATED = re.compile(r"\b(?:once|twice|three times) (?:a |per )?(?:day|daily|week|weekly)\b|"
                       r"\bevery (?:other|second|\d+(?:st|nd|rd|th)?) (?:day|week)s?\b|"
                       rf"\b{_TREATMENT}(?:\s+[\w-]+){{0,2}}?\s+(?:was|were) repeated\b", re.I)
_SPAN = r"(\d+(?:\.\d+)?)[- ]?(day|week|wk|month|year)s?\b"
# words that put a time span outside the treatment: "5 weeks of age", "40 months since cessation of therapy"
_NOT_DURING = r"age\b|follow|observation|life\b|gestation|since\b|after\b|before\b|following\b|post|prior\b|cessation"
# How long a treatment lasted: "3 weeks of administration", "after 1 week of mifepristone",
# "4-month treatment", "treated with risperidone for a mean of 2.9 years", "given orally (50mg/kg/day
# for 5days)", "treated longer than 10 days", "(0.3mg/day; 4 weeks)"; not an age or a follow-up ("5
# weeks of age").
_DURATION = re.compile(
    rf"\b{_SPAN}(?:\s+of)?(?:\s+(?!{_NOT_DURING})[\w-]+){{0,3}}?\s+{_TREATMENT}\b|"
    rf"\b{_SPAN}\s+of\s+(?!{_NOT_DURING})(?P<drug>[\w-]+)|"
    r"\b(?:treated|given|administered|received|exposed|treatment|therapy|daily|supplementation|fed)\b\S*"
    rf"(?:\s+\S+){{0,6}}?\s+(?:for\s+(?:a mean of\s+|at least\s+|up to\s+|about\s+|over\s+)?|"
    rf"(?:longer|more) than\s+){_SPAN}|"
    rf"(?:/\s*d(?:ay)?|\bdaily)\s*[;,]\s*{_SPAN}", re.I)  # "(0.3mg/day; 4 weeks)"
_DAYS = {"day": 1, "week": 7, "wk": 7, "month": 30, "year": 365}
CHRONIC_DAYS = 7  # a week of dosing or more is chronic exposure
_DAILY = re.compile(r"/\s*d(?:ay)?\b|\bper day\b|\bdaily\b", re.I)


def _lasted(sentence: str, drugs: Sequence[str]) -> float:
    """The longest treatment the sentence says lasted, in days (0 when it says none)."""
    longest = 0.0
    for match in _DURATION.finditer(sentence):
        if match.group("drug") and match.group("drug").lower() not in {d.lower() for d in drugs}:
            continue  # "1 week of X" is a treatment only where X is the drug
        number, unit = next((match.group(i), match.group(i + 1)) for i in (1, 3, 6, 8) if match.group(i))
        longest = max(longest, float(number) * _DAYS[unit.lower()])
    return longest


def exposure(sentence: str, drugs: Sequence[str] = ()) -> tuple[str, ...]:
    """Acute, chronic or repeated: what is said of a treatment or of one of `drugs` ("acute
    nicotine"), or how long the treatment lasted (CHRONIC_DAYS or more: chronic, which a daily dose
    for that long is too), or a daily or repeated dose (repeated)."""
    names = "|".join(re.escape(d) for d in drugs if d)
    kinds = [kind for kind, word in _EXPOSURE_WORDS.items()
             if re.search(rf"{word}{_BEFORE}{_TREATMENT}\b", sentence, re.I)
             or names and re.search(rf"{_ON_A_DRUG[kind]}{_BEFORE}(?:{names})\b", sentence, re.I)
             or kind == "acute" and re.search(r"\bacute effects? of\b", sentence, re.I)]
    if _lasted(sentence, drugs) >= CHRONIC_DAYS:
        return ("chronic",)
    if kinds:
        return tuple(kinds)
    repeated = _REPEATED.search(sentence) or any(_DAILY.search(sentence[s:e + 8]) for s, e in amount_spans(sentence))
    return ("repeated",) if repeated else ()


_SYSTEM = (
    ("human", re.compile(r"\b(?:patients?|volunteers?|participants?|(?:healthy )?(?:men|women|adults|children|"
                         r"infants|adolescents|subjects|boys|girls|boy|girl|individuals)|proband|humans|"
                         r"human (?:subjects|volunteers|participants|studies|trials|patients|adults|infants)|"
                         r"parturients|outpatients|inpatients)\b", re.I)),
    ("animal", re.compile(r"\b(?:rats?|mice|mouse|murine|rodents?|monkeys?|primates|rabbits?|guinea pigs?|"
                          r"hamsters?|zebrafish|dogs?|cats|pigs|sheep|animals|animal models?|equine|canine|bovine|"
                          r"porcine|feline|Wistar|Sprague[- ]Dawley|SHRs?)\b", re.I)),
    ("in vitro", re.compile(r"\b(?:in vitro|cultured|cell lines?|cell cultures?|HEK[- ]?293\w*|CHO(?:-K1)? cells|"
                            r"HeLa|PC12|SH-SY5Y|COS-?7|HepG2|MCF-?7|Jurkat|U937|oocytes|(?:brain|hippocampal|"
                            r"cortical|striatal) slices|transfected|microsomes|synaptosomes|homogenates?|"
                            r"isolated (?:[\w-]+ )?(?:cells|hearts?|tissues?|arteries|aortas?|blood vessels|vessels)|"
                            r"(?:purified|recombinant) (?:[\w-]+ )?(?:enzymes?|proteins?)|"
                            r"(?:in|into|from|with) (?:[\w-]+ ){0,3}?cells|cells (?:were|was) \w+ed|"
                            r"[A-Z][A-Z0-9]*-?[0-9][A-Z0-9-]* cells)\b", re.I)),
)


@dataclass(frozen=True)
class Qualifiers:
    """How a finding was obtained, as one evidence sentence says it."""

    amounts: tuple[str, ...] = ()
    exposure: tuple[str, ...] = ()
    system: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line for a reader: "IC50 of 2.1 microM · chronic · in vitro" ("" when nothing is said)."""
        return " · ".join(", ".join(part) for part in (self.amounts, self.exposure, self.system) if part)


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


def amount_spans(sentence: str) -> list[tuple[int, int]]:
    """Where the sentence states potency values, concentrations and doses, in order; a potency's
    value is not counted again as a bare amount."""
    found = _spans(_POTENCY_VALUE, sentence)
    found += [span for span in _spans(_AMOUNT, sentence)
              if not any(s <= span[0] < e for s, e in found) and _has_unit(sentence[span[0]:span[1]])
              and not _LAB_VALUE.search(sentence[span[0]:span[1] + 16])]
    return sorted(found)


def _has_unit(text: str) -> bool:
    return bool(re.search(r"[A-Za-zµμ]", text))


def system_cues(text: str) -> list[tuple[str, str]]:
    """Who or what a text says was studied: (human, animal or in vitro, the first words that say
    so), in that order; the record-level evidence strength reads a title or abstract by it too."""
    return [(kind, match.group()) for kind, cue in _SYSTEM if (match := cue.search(text))]


def qualifiers(sentence: str, drugs: Sequence[str] = ()) -> Qualifiers:
    """The amounts, exposure and system one evidence sentence states (`drugs`: the names it gives
    the drugs the evidence is about)."""
    return Qualifiers(tuple(re.sub(r"\s+", " ", sentence[s:e].strip()) for s, e in amount_spans(sentence)),
                      exposure(sentence, drugs), tuple(kind for kind, _ in system_cues(sentence)))


def evidence_qualifiers(sentence: str, relation: Relation | None) -> Qualifiers:
    """An evidence sentence's qualifiers, its relation's subject being the drug it is about."""
    return qualifiers(sentence, [relation.subject.text] if relation else [])
