"""Which abbreviation finder should litmine keep? scispaCy's AbbreviationDetector or its own Schwartz & Hearst.

litmine has two: scispaCy's AbbreviationDetector, which the spaCy entity pipeline runs
(pipeline/entities/ner.py, on litmine's tokenizer), and litmine's own Schwartz & Hearst
(pipeline/entities/dictionary.py: SHORT_FORM + long_form), which the dictionary tagger runs on
raw text and pipeline/entities/linking.py:find_abbreviations exposes. This measures both on the
same texts, the dev splits of BC5CDR and BioRED.

Gold definitions come from the annotations: a gold mention, then " (", a gold mention and ")"
(or ":", ";", "," and a space, the closings SHORT_FORM accepts), where the two mentions share
an identifier; a gold pair is (document, short text, long text). A finder recalls a pair when
it reports that short form with a long form ending where the gold long mention ends ("end"),
or spanning exactly the gold long mention ("exact"; gold often leaves a modifier out of the
mention, "intravenous methylprednisolone (IVMP)"). "short<long" is recall (end) over the pairs
whose short form is shorter than the long form, leaving out the synonyms and brand names in
parentheses ("adrenaline (epinephrine)") no abbreviation finder is meant to find. Gold covers
only the annotated entity types, so a found pair that is not gold is not necessarily wrong:
"found" counts every distinct pair a finder reports, and precision is taken only over the found
pairs whose short form is a gold mention of that document. Times are per abstract, best of --repeat passes, one process;
scispaCy's are shown for the detector alone and with the tokenizer it needs.

    .venv/bin/python benchmarks/abbreviations.py [--repeat 3] [--examples 10] [--json]
"""
from __future__ import annotations

import argparse
import json
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import scispacy.abbreviation  # noqa: F401  (registers abbreviation_detector)
import spacy
from rich.console import Console
from rich.table import Table
from spacy.tokens import Doc

import pipeline.entities.nlp  # noqa: F401  (registers litmine.Tokenizer.v1)
from pipeline.config import load_settings
from pipeline.datatypes import GoldDocument
from pipeline.entities import abbreviations
from pipeline.records.store import Store

CORPORA = ("bc5cdr", "biored")
SPLIT = "dev"
# What may close a short form, as SHORT_FORM has it: ")" or one of ":;," and a space.
_CLOSING = re.compile(r"\)|[:;,] ")
_NO_ID = {"", "-", "-1"}
# AbbreviationDetector runs its (empty) second matcher on texts that define nothing.
warnings.filterwarnings("ignore", message=r"\[W036\]")


@dataclass(frozen=True)
class Definition:
    short: str
    long_start: int
    long_end: int
    long: str


@dataclass
class Score:
    finder: str
    corpus: str
    gold: int = 0
    recalled_end: int = 0
    recalled_exact: int = 0
    gold_abbreviations: int = 0  # gold pairs whose short form is shorter than the long form
    recalled_abbreviations: int = 0  # of those, recalled (end)
    found: int = 0
    judged: int = 0  # found pairs whose short form is a gold mention of the document
    correct_end: int = 0
    correct_exact: int = 0
    seconds: float = 0.0  # the finder over all abstracts, best pass
    tokenizer_seconds: float = 0.0  # scispaCy's: making the Doc it needs
    abstracts: int = 0
    missed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        figures = asdict(self)
        figures.pop("missed")
        figures["recall_end"] = _ratio(self.recalled_end, self.gold)
        figures["recall_exact"] = _ratio(self.recalled_exact, self.gold)
        figures["recall_end_abbreviations"] = _ratio(self.recalled_abbreviations, self.gold_abbreviations)
        figures["precision_end"] = _ratio(self.correct_end, self.judged)
        figures["precision_exact"] = _ratio(self.correct_exact, self.judged)
        figures["ms_per_abstract"] = round(1000 * self.seconds / max(self.abstracts, 1), 3)
        figures["ms_per_abstract_with_tokenizer"] = round(
            1000 * (self.seconds + self.tokenizer_seconds) / max(self.abstracts, 1), 3)
        return figures


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _identifiers(value: str) -> set[str]:
    return {i.strip() for i in re.split(r"[|,;]", value)} - _NO_ID


def gold_definitions(doc: GoldDocument) -> list[Definition]:
    """The abbreviation definitions the annotations spell: long mention, " (", short mention,
    closing, the two sharing an identifier."""
    by_end: dict[int, list] = {}
    for entity in doc.entities:
        by_end.setdefault(entity.end, []).append(entity)
    found = []
    for short in doc.entities:
        if doc.text[short.start - 2:short.start] != " (" or not _CLOSING.match(doc.text, short.end):
            continue
        for long in by_end.get(short.start - 2, []):
            if _identifiers(long.identifiers) & _identifiers(short.identifiers):
                found.append(Definition(short.text, long.start, long.end, long.text))
    return found


# ---------------------------------------------------------------------------- the finders


def litmine_definitions(text: str) -> list[Definition]:
    """litmine's finder (pipeline.entities.abbreviations.definitions), in this script's terms."""
    return [Definition(d.short, d.long_start, d.long_end, text[d.long_start:d.long_end])
            for d in abbreviations.definitions(text)]


def scispacy_definitions(doc: Doc) -> list[Definition]:
    """The distinct (short form, long form) pairs in AbbreviationDetector's doc._.abbreviations,
    which lists every occurrence of a short form it found defined."""
    found = {}
    for short in doc._.abbreviations:
        long = short._.long_form
        found[(short.text, long.start_char, long.end_char)] = Definition(
            short.text, long.start_char, long.end_char, long.text)
    return list(found.values())


def scispacy_pipelines() -> dict[str, spacy.Language]:
    pipelines = {
        "scispaCy, spaCy English tokenizer": spacy.blank("en"),
        "scispaCy, litmine.Tokenizer.v1": spacy.blank(
            "en", config={"nlp": {"tokenizer": {"@tokenizers": "litmine.Tokenizer.v1"}}}),
    }
    for nlp in pipelines.values():
        nlp.add_pipe("abbreviation_detector")
    return pipelines


def run_litmine(texts: list[str], repeat: int) -> tuple[list[list[Definition]], float, float]:
    found = [litmine_definitions(text) for text in texts]
    return found, _best(lambda: [abbreviations.find_abbreviations(text) for text in texts], repeat), 0.0


def run_scispacy(nlp: spacy.Language, texts: list[str], repeat: int) -> tuple[list[list[Definition]], float, float]:
    detector = nlp.get_pipe("abbreviation_detector")
    docs = [nlp.make_doc(text) for text in texts]
    found = [scispacy_definitions(detector(doc)) for doc in docs]
    tokenizer_s = _best(lambda: [nlp.make_doc(text) for text in texts], repeat)

    def detect() -> None:
        for doc in [nlp.make_doc(text) for text in texts]:  # fresh Docs, outside the clock
            started = time.perf_counter()
            detector(doc)
            elapsed[0] += time.perf_counter() - started

    best = float("inf")
    for _ in range(repeat):
        elapsed = [0.0]
        detect()
        best = min(best, elapsed[0])
    return found, best, tokenizer_s


def _best(run: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


# ---------------------------------------------------------------------------- scoring


def score(finder: str, corpus: str, docs: list[GoldDocument], found: list[list[Definition]],
          seconds: float, tokenizer_seconds: float) -> Score:
    result = Score(finder, corpus, seconds=seconds, tokenizer_seconds=tokenizer_seconds, abstracts=len(docs))
    for doc, definitions in zip(docs, found):
        gold = gold_definitions(doc)
        ends = {(d.short, d.long_end) for d in gold}
        spans = {(d.short, d.long_start, d.long_end) for d in gold}
        reported_ends = {(d.short, d.long_end) for d in definitions}
        reported_spans = {(d.short, d.long_start, d.long_end) for d in definitions}
        pairs: dict[tuple[str, str], list[Definition]] = {}
        for definition in gold:
            pairs.setdefault((definition.short, definition.long), []).append(definition)
        for (short, long), occurrences in pairs.items():
            result.gold += 1
            end = any((short, d.long_end) in reported_ends for d in occurrences)
            result.recalled_end += end
            if len(short) < len(long):
                result.gold_abbreviations += 1
                result.recalled_abbreviations += end
            result.recalled_exact += any((short, d.long_start, d.long_end) in reported_spans for d in occurrences)
            if not end:
                site = occurrences[0]
                context = doc.text[max(0, site.long_start - 30):site.long_end + len(short) + 4]
                result.missed.append(f"{doc.doc_id}: {short} = {long!r} in ...{context!r}")
        mentions = {entity.text for entity in doc.entities}
        result.found += len({(d.short, d.long) for d in definitions})
        for definition in {(d.short, d.long): d for d in definitions}.values():
            if definition.short in mentions:
                result.judged += 1
                result.correct_end += (definition.short, definition.long_end) in ends
                result.correct_exact += (definition.short, definition.long_start, definition.long_end) in spans
    return result


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}% ({part}/{whole})" if whole else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timing passes; the best counts")
    parser.add_argument("--examples", type=int, default=0, help="print up to N gold pairs each finder misses")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON alone")
    args = parser.parse_args()

    store = Store(load_settings().store_path)
    docs = {corpus: store.gold_documents(corpus, SPLIT) for corpus in CORPORA}
    finders: dict[str, Callable[[list[str]], tuple[list[list[Definition]], float, float]]] = {
        "litmine Schwartz & Hearst (find_abbreviations)": lambda texts: run_litmine(texts, args.repeat)}
    for name, nlp in scispacy_pipelines().items():
        finders[name] = lambda texts, nlp=nlp: run_scispacy(nlp, texts, args.repeat)

    scores: list[Score] = []
    for name, run in finders.items():
        for corpus, golds in docs.items():
            found, seconds, tokenizer_seconds = run([gold.text for gold in golds])
            scores.append(score(name, corpus, golds, found, seconds, tokenizer_seconds))
    if args.json:
        print(json.dumps([s.as_dict() for s in scores], indent=1))
        return

    table = Table("finder", "corpus", "gold pairs", "recall (end)", "recall (exact)", "recall (end), short<long",
                  "found",
                  "precision (end)", "precision (exact)", "ms/abstract",
                  title=f"abbreviation definitions, {SPLIT} splits (precision over found pairs whose "
                        "short form is a gold mention; scispaCy's time: detector / with tokenizer)")
    for s in scores:
        per = 1000 / max(s.abstracts, 1)
        timing = f"{s.seconds * per:.3f}" + (f" / {(s.seconds + s.tokenizer_seconds) * per:.3f}"
                                             if s.tokenizer_seconds else "")
        table.add_row(s.finder, s.corpus, str(s.gold), _percent(s.recalled_end, s.gold),
                      _percent(s.recalled_exact, s.gold), _percent(s.recalled_abbreviations, s.gold_abbreviations),
                      str(s.found), _percent(s.correct_end, s.judged),
                      _percent(s.correct_exact, s.judged), timing)
    Console(width=200).print(table)
    if args.examples:
        for s in scores:
            print(f"\n{s.finder} / {s.corpus}: {len(s.missed)} gold pairs missed")
            for line in s.missed[:args.examples]:
                print("  " + line)


if __name__ == "__main__":
    main()
