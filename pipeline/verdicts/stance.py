"""Stance features: does a piece of evidence say what a claim says, or the opposite?

Why: a claim and its evidence usually share their nouns; what separates "supports" from
"contradicts" is a handful of words - which way an effect goes (increase / decrease), a
negation, an antonym (benign / malignant), a number. These features compare exactly those
between a claim and its evidence sentences, as sparse ``{name: value}`` dicts a linear model
(DictVectorizer + LogisticRegression) learns from. They know nothing about SciFact.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.relations.triggers import HEDGE_CUES, NEGATION_CUES

# Direction words, matched on the start of a lower-case token with its hyphens removed
# (stems of four letters or fewer only with a short ending: "slowed" but not "moreover").
UP_STEMS = ("increas", "elevat", "higher", "highest", "more", "greater", "enhanc", "augment", "promot",
            "stimulat", "activat", "induc", "accelerat", "upregul", "raise", "raising", "boost", "gain",
            "expan", "overexpress", "amplif", "exacerbat", "potentiat", "facilitat", "strengthen", "rise",
            "rose", "larger", "faster", "excess", "abundan", "overestimat", "accumul", "enrich", "worsen",
            "aggravat", "improv", "benefi", "longer", "maximi", "extend", "prolong")
DOWN_STEMS = ("decreas", "reduc", "lower", "lowest", "less", "fewer", "diminish", "attenuat", "inhibit",
              "suppress", "block", "impair", "slow", "downregul", "declin", "loss", "lose", "lost", "deplet",
              "shrink", "smaller", "scarce", "underestimat", "abolish", "prevent", "weaken", "deficien",
              "drop", "fall", "limit", "restrict", "delay", "lack", "absen", "ameliorat", "alleviat",
              "shorter", "minimi", "shorten", "halt", "disrupt", "deterior", "rare")
# Word pairs that say opposite things without being up or down (matched on token starts).
ANTONYMS = (("positiv", "negativ"), ("benign", "malignan"), ("essential", "dispensab"),
            ("requir", "dispensab"), ("necessar", "unnecessar"), ("sensitiv", "resist"),
            ("susceptib", "resist"), ("men", "women"), ("male", "female"), ("young", "old"),
            ("early", "late"), ("earlier", "later"), ("strong", "weak"), ("stabl", "unstabl"),
            ("stabili", "destabili"), ("effectiv", "ineffectiv"), ("harm", "benefi"),
            ("detriment", "benefi"), ("protect", "damag"), ("protect", "risk"), ("surviv", "death"),
            ("agonist", "antagonist"), ("activat", "inactivat"), ("gain", "loss"), ("present", "absent"),
            ("all", "none"), ("always", "never"), ("major", "minor"), ("common", "rare"),
            ("frequent", "rare"), ("safe", "unsafe"), ("same", "differ"), ("similar", "differ"),
            ("upstream", "downstream"), ("vivo", "vitro"), ("increas", "decreas"), ("increas", "reduc"),
            ("higher", "lower"), ("more", "less"), ("more", "fewer"), ("enhanc", "impair"),
            ("promot", "inhibit"), ("promot", "suppress"), ("activat", "inhibit"), ("activat", "suppress"),
            ("accelerat", "slow"), ("accelerat", "delay"), ("upregul", "downregul"), ("improv", "worsen"),
            ("overestimat", "underestimat"), ("induc", "inhibit"), ("induc", "prevent"),
            ("stimulat", "inhibit"), ("larger", "smaller"), ("faster", "slower"), ("longer", "shorter"),
            ("abundan", "scarce"), ("expan", "shrink"), ("hyper", "hypo"), ("excess", "deficien"),
            ("associat", "unrelat"), ("correlat", "unrelat"), ("depend", "independ"), ("requir", "independ"),
            ("younger", "older"))
# Claim words that deny an effect or a link outright.
DENIAL = re.compile(r"\b(?:not|no|never|none|neither|nor|unrelated|unaffected|unchanged|independent|"
                    r"dispensable|unnecessary|fails?|failed|cannot|lacks?|absent|without|irrelevant|"
                    r"only|solely|exclusively)\b", re.I)
# Wordings of "no effect" / "no difference", which a claim and its evidence may share.
NULL_EFFECT = re.compile(
    r"\b(?:no|not|non)[- ]?significant\w*|\bnot (?:significantly|statistically)|\bno (?:statistically )?"
    r"(?:significant )?(?:difference|effect|change|association|correlation|relationship|benefit|impact)s?\b|"
    r"\bdid not (?:differ|change|affect|alter|improve|reduce|increase)|"
    r"\b(?:similar|comparable|unchanged|unaffected|unrelated|independent)\b|"
    r"\bnot (?:associated|correlated|related|linked)", re.I)
COMPARATIVE = re.compile(r"\b(?:more|less|fewer|greater|higher|lower|better|worse|than|superior|"
                         r"inferior|outperform\w*)\b", re.I)
_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?")
_SHORT_ENDINGS = "(?:s|es|ed|er|en|ing|ly)?$"
_SIGN = {1: "+", -1: "-"}
_NEGATION_WINDOW = 4  # a negation flips direction words at most this many tokens after it


def tokens(text: str) -> list[str]:
    """Lower-case word tokens with inner hyphens removed ("up-regulated" -> "upregulated")."""
    return [t.replace("-", "") for t in _TOKEN.findall(text.lower())]


def _lexicon(stems: Iterable[str]) -> re.Pattern[str]:
    """A pattern matching a token that starts with a stem (short stems: the stem plus a short ending)."""
    stems = sorted(set(stems), key=len, reverse=True)
    long = [re.escape(s) for s in stems if len(s) > 4]
    short = [f"{re.escape(s)}{_SHORT_ENDINGS}" for s in stems if len(s) <= 4]
    return re.compile("|".join(long + short))


_UP, _DOWN = _lexicon(UP_STEMS), _lexicon(DOWN_STEMS)
_ANTONYMS = [(_lexicon([a]), _lexicon([b])) for a, b in ANTONYMS]
_NEGATORS = frozenset({"fail", "fails", "failed", "unable", "neither", "nor"})


def directions(text: str) -> list[tuple[str, int]]:
    """(word, +1/-1) for each direction word, flipped when a negation precedes it closely:
    "did not increase" is down, "failed to reduce" is up."""
    found, negated_until = [], -1
    for i, token in enumerate(tokens(text)):
        if NEGATION_CUES.fullmatch(token) or token in _NEGATORS:
            negated_until = i + _NEGATION_WINDOW
            continue
        sign = 1 if _UP.match(token) else -1 if _DOWN.match(token) else 0
        if sign:
            found.append((token, -sign if i <= negated_until else sign))
    return found


def _antonym_hits(claim: set[str], evidence: set[str]) -> int:
    """Pairs where the claim has one side and the evidence only the other."""
    hits = 0
    for a, b in _ANTONYMS:
        claim_a, claim_b = any(map(a.match, claim)), any(map(b.match, claim))
        evidence_a, evidence_b = any(map(a.match, evidence)), any(map(b.match, evidence))
        hits += (claim_a and evidence_b and not evidence_a) + (claim_b and evidence_a and not evidence_b)
    return hits


def _negated_forms(claim: set[str], evidence: set[str]) -> int:
    """Claim words that negate an evidence word by prefix: "unrelated" against "related"."""
    return sum(1 for t in claim for prefix in ("un", "non", "in", "dis")
               if t.startswith(prefix) and len(t) > len(prefix) + 4 and t[len(prefix):] in evidence)


def stance_features(claim: str, evidence: list[str]) -> dict[str, float]:
    """Features comparing a claim with its evidence sentences, for a linear stance model."""
    evidence_text = " ".join(evidence)
    claim_tokens, evidence_tokens = tokens(claim), tokens(evidence_text)
    claim_set, evidence_set = set(claim_tokens), set(evidence_tokens)
    claim_dirs, evidence_dirs = directions(claim), directions(evidence_text)
    claim_dir = sum(s for _, s in claim_dirs)
    evidence_dir = sum(s for _, s in evidence_dirs)
    n_evidence = max(1, len(evidence))
    claim_denials = len(DENIAL.findall(claim))
    evidence_negations = len(NEGATION_CUES.findall(evidence_text))
    claim_numbers = set(_NUMBER.findall(claim))
    evidence_numbers = set(_NUMBER.findall(evidence_text))
    features: dict[str, float] = {
        "claim_denial": min(claim_denials, 2),
        "evidence_negation": min(evidence_negations / n_evidence, 2),
        "denial_mismatch": float((claim_denials > 0) != (evidence_negations > 0)),
        "claim_dir": max(-2, min(2, claim_dir)),
        "evidence_dir": max(-2, min(2, evidence_dir / n_evidence)),
        "dir_agree": float(claim_dir * evidence_dir > 0),
        "dir_oppose": float(claim_dir * evidence_dir < 0),
        "antonyms": min(_antonym_hits(claim_set, evidence_set), 3),
        "negated_forms": min(_negated_forms(claim_set, evidence_set), 2),
        "claim_comparative": float(bool(COMPARATIVE.search(claim))),
        "evidence_comparative": float(bool(COMPARATIVE.search(evidence_text))),
        "evidence_hedged": min(len(HEDGE_CUES.findall(evidence_text)) / n_evidence, 2),
        "claim_numbers_missing": float(len(claim_numbers - evidence_numbers)),
        "claim_numbers_found": float(len(claim_numbers & evidence_numbers)),
        "overlap": len(claim_set & evidence_set) / max(1, len(claim_set)),
    }
    claim_null = bool(NULL_EFFECT.search(claim))
    evidence_null = len(NULL_EFFECT.findall(evidence_text)) / n_evidence
    features.update(claim_null=float(claim_null), evidence_null=evidence_null,
                    null_mismatch=float(claim_null != (evidence_null > 0)),
                    both_null=float(claim_null and evidence_null > 0))
    # Which direction words a claim uses says much (SciFact's contradicting claims swap them);
    # how its directions meet the evidence's, more.
    for word, sign in claim_dirs:
        features[f"claim_direction={word[:6]}{_SIGN[sign]}"] = 1.0
        # the same direction word on both sides, kept or flipped by negation ("did not increase")
        same = [s for w, s in evidence_dirs if w[:5] == word[:5]]
        features["same_word_same_sign"] = min(2.0, features.get("same_word_same_sign", 0.0) + same.count(sign))
        features["same_word_flipped"] = min(2.0, features.get("same_word_flipped", 0.0) + same.count(-sign))
        for _, evidence_sign in evidence_dirs:
            key = f"directions={_SIGN[sign]}{_SIGN[evidence_sign]}"
            features[key] = features.get(key, 0.0) + 1.0
    return features
