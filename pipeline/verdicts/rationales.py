"""The sentence-level verifier: which sentences of a record speak to a claim, and what they say.

Why: most claims are not drug–target pairs a relation model can read ("REM sleep is suppressed
by SSRIs"), and even for those the relation models miss what a sentence says in other words.
So every claim is also read as text: for each candidate record,

1. each sentence is scored as a rationale for the claim (gradient boosting over word and
   character TF-IDF cosines, idf-weighted coverage of the claim's words, shared KB ids,
   position, result/background cue words);
2. the record as a whole is scored for holding evidence at all (else NOINFO), one model for
   cited records, one for records found by search, from the rationale scores and BM25;
3. the chosen rationale sentences get a stance, SUPPORT or CONTRADICT, from a logistic
   regression over direction words, negation, antonyms and numbers (`stance_features`).

No pretrained language model can be downloaded here; these small models are trained by
`pipeline.training.verifier` and saved whole (with the vectorizers fitted on their training
text), so the flow and every evaluation read records with the same object.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from math import fsum
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from pipeline.datatypes import Record
from pipeline.documents.sentences import split_sentences
from pipeline.entities.dictionary import EntityTagger
from pipeline.verdicts.stance import stance_features

if TYPE_CHECKING:  # scikit-learn takes 2 s to import: only where a model is fitted or loaded
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

LABELS = ("SUPPORT", "CONTRADICT", "NOINFO")
STEM_LENGTH = 6  # tokens cut to this many characters: best BM25 recall@3 on SciFact train (5 and 7 tried)
MAX_SENTENCES = 80  # a full text is read for its first sentences only: the abstract and introduction
_WORD = re.compile(r"[a-z0-9]+")
_RESULT_CUES = re.compile(r"\b(?:we (?:found|show|observed|demonstrate\w*|report)|results?|conclu\w*|"
                          r"significant\w*|associated|showed|revealed|indicat\w*|suggest\w*)\b", re.I)
_BACKGROUND_CUES = re.compile(r"\b(?:however|unknown|unclear|remains?|aims?|objectives?|purpose|"
                              r"background|we (?:investigated|examined|sought|hypothesi[sz]ed|tested))\b", re.I)
_NUMBERS = re.compile(r"\d")


def _ascii(text: str) -> str:
    """Greek letters spelled out ("β-catenin" -> "beta-catenin"), accents dropped."""
    text = "".join(unicodedata.name(c, c).split()[-1].lower() if "\u0370" <= c <= "\u03ff" else c for c in text)
    return unicodedata.normalize("NFKD", text)


def stems(text: str) -> list[str]:
    """Content words cut to STEM_LENGTH characters: a crude stemmer that suits BM25 here."""
    from spacy.lang.en.stop_words import STOP_WORDS  # spaCy takes over a second to import: not on a cached run's path

    return [w[:STEM_LENGTH] for w in _WORD.findall(_ascii(text.lower())) if w not in STOP_WORDS]


@dataclass(frozen=True)
class Passage:
    """A record as the verifier reads it: its title and its sentences."""

    uid: str
    title: str
    sentences: tuple[str, ...]

    @property
    def text(self) -> str:
        return f"{self.title} {' '.join(self.sentences)}"


def passage(record: Record) -> Passage:
    """The record's title and the sentences after it, as `split_sentences` cuts them."""
    body = record.full_text
    if record.title and body.startswith(record.title):
        body = body[len(record.title):]
    sentences = tuple(body[s:e].strip() for s, e in split_sentences(body))[:MAX_SENTENCES]
    return Passage(record.uid, record.title, tuple(s for s in sentences if s) or (record.title,))


class Bm25:
    """Okapi BM25 with the document frequencies of the text the verifier was trained on, so a
    record scores the same wherever it was found (the store, PubMed, a citation)."""

    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75):
        from sklearn.feature_extraction.text import CountVectorizer

        self.k1, self.b = k1, b
        self._vectorizer = CountVectorizer(tokenizer=stems, lowercase=False, token_pattern=None)
        counts = self._vectorizer.fit_transform(texts).tocsc()
        df = np.diff(counts.indptr)
        self.idf = np.log(1 + (len(texts) - df + 0.5) / (df + 0.5))
        self.mean_length = float(counts.sum()) / max(1, len(texts))

    def weights(self, texts: list[str]) -> sp.csr_matrix:
        """One row per text: each stem's BM25 weight in it."""
        counts = self._vectorizer.transform(texts).tocoo().astype(float)
        length = np.bincount(counts.row, weights=counts.data, minlength=counts.shape[0])
        norm = self.k1 * (1 - self.b + self.b * length[counts.row] / self.mean_length)
        weights = counts.data * (self.k1 + 1) / (counts.data + norm) * self.idf[counts.col]
        return sp.csr_matrix((weights, (counts.row, counts.col)), shape=counts.shape)

    def query(self, text: str) -> sp.csr_matrix:
        """The query's distinct stems as a column."""
        q = self._vectorizer.transform([text])
        q.data[:] = 1
        return q.T.tocsr()

    def scores(self, query: str, texts: list[str]) -> np.ndarray:
        """The BM25 score of each text for the query's distinct stems."""
        if not texts:
            return np.zeros(0)
        return np.asarray((self.weights(texts) @ self.query(query)).todense()).ravel()

    def stem_idf(self, stem: str) -> float:
        column = self._vectorizer.vocabulary_.get(stem)
        return float(self.idf[column]) if column is not None else float(self.idf.max())


class TextSpace:
    """Vectorizers fitted once on the training text (titles and sentences), kept with the model."""

    def __init__(self, passages: list[Passage]):
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = [s for p in passages for s in (p.title, *p.sentences)]
        self.bm25 = Bm25([p.text for p in passages])
        self.words = TfidfVectorizer(tokenizer=stems, lowercase=False, token_pattern=None, ngram_range=(1, 2),
                                     min_df=2, sublinear_tf=True).fit(texts)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=3, sublinear_tf=True,
                                     dtype=np.float32).fit(texts)


@dataclass
class PassageView:
    """What the features read from one passage, computed once per passage."""

    passage: Passage
    words: sp.csr_matrix  # one row per sentence, word TF-IDF, unit length
    chars: sp.csr_matrix  # the same over character n-grams
    title_words: sp.csr_matrix
    stems: list[set[str]]
    title_stems: set[str]
    bigrams: set[tuple[str, str]]  # adjacent stems within the title or a sentence
    entities: list[set[str]]  # KB ids per sentence
    title_entities: set[str]
    cues: np.ndarray  # per sentence: result cue, background cue, has a digit, word count


def _entities(tagger: EntityTagger | None, text: str, spans: list[tuple[int, int]]) -> list[set[str]]:
    """KB ids of the mentions in each span of `text`."""
    found: list[set[str]] = [set() for _ in spans]
    if tagger is None:
        return found
    for mention in tagger.tag(text):
        for i, (start, end) in enumerate(spans):
            if mention.id and start <= mention.start < end:
                found[i].add(mention.id)
    return found


def view(space: TextSpace, item: Passage, tagger: EntityTagger | None) -> PassageView:
    parts = (item.title, *item.sentences)
    spans, start = [], 0
    for part in parts:
        spans.append((start, start + len(part)))
        start += len(part) + 1
    entities = _entities(tagger, " ".join(parts), spans)
    words = space.words.transform(parts)
    cues = np.array([[bool(_RESULT_CUES.search(s)), bool(_BACKGROUND_CUES.search(s)),
                      bool(_NUMBERS.search(s)), len(s.split())] for s in item.sentences], dtype=float)
    part_stems = [stems(part) for part in parts]
    return PassageView(item, words[1:], space.chars.transform(item.sentences), words[:1],
                       [set(s) for s in part_stems[1:]], set(part_stems[0]),
                       {pair for s in part_stems for pair in zip(s, s[1:])}, entities[1:], entities[0],
                       cues.reshape(-1, 4))


@dataclass
class ClaimView:
    """A claim against its pool of candidate passages: its vectors and each passage's BM25."""

    text: str
    words: sp.csr_matrix
    chars: sp.csr_matrix
    stems: list[str]
    idf: dict[str, float]  # the claim's stems with their BM25 idf
    entities: set[str]
    bm25: dict[str, float]  # passage uid -> score
    rank: dict[str, int]  # passage uid -> passages of the pool scoring higher
    top_score: float


def claim_view(space: TextSpace, text: str, pool: list[Passage], tagger: EntityTagger | None) -> ClaimView:
    scores = space.bm25.scores(text, [p.text for p in pool])
    claim_stems = stems(text)
    return ClaimView(text, space.words.transform([text]), space.chars.transform([text]), claim_stems,
                     {s: space.bm25.stem_idf(s) for s in set(claim_stems)},
                     set().union(*_entities(tagger, text, [(0, len(text))])),
                     {p.uid: float(s) for p, s in zip(pool, scores)},
                     {p.uid: int((scores > s).sum()) for p, s in zip(pool, scores)},
                     float(scores.max()) if len(scores) else 0.0)


SENTENCE_FEATURES = ("word_cos", "char_cos", "coverage", "coverage_with_title", "entities", "word_cos_gap",
                     "char_cos_gap", "coverage_gap", "word_cos_rank", "neighbour_word_cos", "position",
                     "relative_position", "from_end", "n_sentences", "result_cue", "background_cue",
                     "has_digit", "length", "title_cos", "doc_coverage", "doc_entities")


def sentence_features(claim: ClaimView, item: PassageView) -> np.ndarray:
    """One row of SENTENCE_FEATURES per sentence of the passage."""
    n = item.words.shape[0]
    word_cos = (item.words @ claim.words.T).toarray().ravel()
    char_cos = (item.chars @ claim.chars.T).toarray().ravel()
    total = fsum(claim.idf.values()) or 1.0  # fsum: sums independent of set order, so runs repeat exactly
    coverage = np.array([fsum(w for s, w in claim.idf.items() if s in stems_) / total for stems_ in item.stems])
    with_title = np.array([fsum(w for s, w in claim.idf.items() if s in stems_ or s in item.title_stems) / total
                           for stems_ in item.stems])
    doc_stems = set().union(item.title_stems, *item.stems)
    doc_coverage = fsum(w for s, w in claim.idf.items() if s in doc_stems) / total
    n_entities = max(1, len(claim.entities))
    entities = np.array([len(claim.entities & e) / n_entities for e in item.entities])
    doc_entities = len(claim.entities & set().union(item.title_entities, *item.entities)) / n_entities
    padded = np.concatenate([[0.0], word_cos, [0.0]])
    neighbours = np.maximum(padded[:-2], padded[2:])
    rank = np.argsort(np.argsort(-word_cos, kind="stable"), kind="stable")
    position = np.arange(n, dtype=float)
    title_cos = float((item.title_words @ claim.words.T).toarray()[0, 0])
    return np.column_stack([
        word_cos, char_cos, coverage, with_title, entities, word_cos - word_cos.max(), char_cos - char_cos.max(),
        coverage - coverage.max(), rank, neighbours, position, position / max(1, n - 1), n - 1 - position,
        np.full(n, n), item.cues, np.full(n, title_cos), np.full(n, doc_coverage), np.full(n, doc_entities)])


DOC_FEATURES = ("p1", "p2", "p3", "p_sum", "n_above_half", "max_word_cos", "max_char_cos", "max_coverage",
                "doc_coverage", "doc_entities", "title_cos", "bm25", "bm25_log_rank", "bm25_ratio",
                "n_sentences", "missing_max_idf", "n_missing", "bigram_coverage", "claim_length",
                "claim_entities")
_COLUMN = {name: i for i, name in enumerate(SENTENCE_FEATURES)}


def doc_features(claim: ClaimView, item: PassageView, sentences: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """DOC_FEATURES of one (claim, passage) pair, given its sentence features and rationale scores."""
    top = np.sort(probabilities)[::-1]
    padded = np.concatenate([top, [0.0, 0.0]])
    uid = item.passage.uid
    score = claim.bm25[uid]
    doc_stems = set().union(item.title_stems, *item.stems)
    missing = [idf for stem, idf in claim.idf.items() if stem not in doc_stems]
    bigrams = list(zip(claim.stems, claim.stems[1:]))
    return np.array([
        padded[0], padded[1], padded[2], top.sum(), (top >= 0.5).sum(),
        sentences[:, _COLUMN["word_cos"]].max(), sentences[:, _COLUMN["char_cos"]].max(),
        sentences[:, _COLUMN["coverage"]].max(), sentences[0, _COLUMN["doc_coverage"]],
        sentences[0, _COLUMN["doc_entities"]], sentences[0, _COLUMN["title_cos"]], score,
        np.log1p(claim.rank[uid]), score / claim.top_score if claim.top_score else 0.0,
        len(probabilities), max(missing, default=0.0), len(missing),
        sum(b in item.bigrams for b in bigrams) / max(1, len(bigrams)), len(claim.stems), len(claim.entities)])


def select_sentences(probabilities: np.ndarray, threshold: float, max_sentences: int) -> list[int]:
    """Sentences scoring at least `threshold`, best first, at most `max_sentences`; the best one always,
    because a record asked about has at least one sentence closest to the claim."""
    order = [int(i) for i in np.argsort(-probabilities, kind="stable")[:max_sentences]]
    return order[:1] + [i for i in order[1:] if probabilities[i] >= threshold]


def split_rows(probabilities: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    return np.split(probabilities, np.cumsum(sizes)[:-1])


def labels_for(evidence: np.ndarray, contradict: np.ndarray, evidence_threshold: float,
               contradict_threshold: float) -> np.ndarray:
    """NOINFO below the evidence threshold, else CONTRADICT or SUPPORT by the stance threshold."""
    return np.where(np.asarray(evidence) < evidence_threshold, "NOINFO",
                    np.where(np.asarray(contradict) >= contradict_threshold, "CONTRADICT", "SUPPORT"))


@dataclass
class SentenceModel:
    """The three trained stages, their text space and the thresholds chosen on out-of-fold
    training predictions (`pipeline.training.verifier`)."""

    space: TextSpace
    selector: HistGradientBoostingClassifier
    evidence: HistGradientBoostingClassifier  # does a record found by search hold evidence?
    cited_evidence: HistGradientBoostingClassifier  # does a cited record hold evidence?
    stance: Pipeline
    selection_threshold: float
    max_sentences: int
    top_k: int  # records found by search that are judged per claim
    open_threshold: float  # evidence probability above which a record found by search takes a side
    oracle_threshold: float  # the same for cited records
    contradict_threshold: float  # CONTRADICT probability above which evidence contradicts
    key: str = ""  # what it was trained from (its folder's name)
    cross_validation: dict[str, float] = field(default_factory=dict)  # train CV figures at these settings


@dataclass(frozen=True)
class Judgement:
    """What the sentence model says about one record for one claim."""

    uid: str
    label: str  # SUPPORT / CONTRADICT / NOINFO
    sentences: tuple[str, ...]  # rationale sentences, best first
    sentence_indexes: tuple[int, ...]
    evidence: float  # probability that the record holds evidence
    contradict: float  # probability of CONTRADICT given evidence
    cited: bool

    @property
    def confidence(self) -> float:
        """How sure the model is of the side it takes (0 for NOINFO)."""
        if self.label == "NOINFO":
            return 0.0
        return self.evidence * (self.contradict if self.label == "CONTRADICT" else 1 - self.contradict)


@threadpool_limits.wrap(limits=1)
def judge(model: SentenceModel, claim: str, cited: list[Passage], found: list[Passage],
          tagger: EntityTagger | None) -> list[Judgement]:
    """Judge the cited passages (with the cited-evidence model) and the model's top_k of those
    found by search (with the open one); `found` should be best first."""
    pool = list({p.uid: p for p in [*cited, *found]}.values())
    cited_uids = {p.uid for p in cited}
    judged = [*((p, True) for p in cited), *((p, False) for p in found[:model.top_k] if p.uid not in cited_uids)]
    if not judged:
        return []
    claim_v = claim_view(model.space, claim, pool, tagger)
    views = [view(model.space, p, tagger) for p, _ in judged]
    sentences = [sentence_features(claim_v, v) for v in views]
    probabilities = split_rows(model.selector.predict_proba(np.vstack(sentences))[:, 1], [len(s) for s in sentences])
    chosen = [select_sentences(p, model.selection_threshold, model.max_sentences) for p in probabilities]
    docs = np.array([doc_features(claim_v, v, s, p) for v, s, p in zip(views, sentences, probabilities)])
    is_cited = np.array([c for _, c in judged])
    evidence = np.where(is_cited, model.cited_evidence.predict_proba(docs)[:, 1],
                        model.evidence.predict_proba(docs)[:, 1])
    contradict = model.stance.predict_proba([
        stance_features(claim, [p.sentences[i] for i in picked]) for (p, _), picked in zip(judged, chosen)])[:, 1]
    labels = np.where(is_cited, labels_for(evidence, contradict, model.oracle_threshold, model.contradict_threshold),
                      labels_for(evidence, contradict, model.open_threshold, model.contradict_threshold))
    return [Judgement(p.uid, str(label), tuple(p.sentences[i] for i in picked), tuple(picked), float(e), float(c),
                      was_cited)
            for (p, was_cited), label, picked, e, c in zip(judged, labels, chosen, evidence, contradict)]


def rank_records(model: SentenceModel, claim: str, records: list[Record]) -> list[Record]:
    """Records best first by BM25 in the model's text space: the re-ranker of store and PubMed hits."""
    scores = model.space.bm25.scores(claim, [passage(r).text for r in records])
    return [records[i] for i in np.argsort(-scores, kind="stable")]
