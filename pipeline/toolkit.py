"""The long-lived objects a check needs, opened once per process.

Loading the knowledge base and models costs seconds; flows, tasks and CLI
commands all ask for them through `open_toolkit`, which caches them per
settings, so each worker process pays once. The entity pipeline and the
relation models load only when something is read: a run whose every task hits
the cache never loads them, because the cache keys (`extraction_version`) are
known without them.

Evidence is read by the trained relation models (`ModelExtractor`), which
measure far above the trigger baseline on the corpora's abstracts. Claims keep
the trigger baseline: a claim means what its author's verb says ("desensitize",
"blunt"), and the claim rules of `pipeline.claims` vet its pairs by that verb.
"""
from __future__ import annotations

import multiprocessing
import pickle
import threading
from dataclasses import dataclass, field
from functools import cached_property, lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.claims import statements
from pipeline.codehash import closure_hash
from pipeline.config import Settings
from pipeline.datatypes import ExtractedRecord, Record
from pipeline.documents import reading
from pipeline.entities.dictionary import DictionaryTagger
from pipeline.entities.kb import KnowledgeBase
from pipeline.entities.kb_build import ensure_kb
from pipeline.entities.versions import ner_order, pipeline_version
from pipeline.models import LINKS, VERIFIER, current_pickle, current_relation_models
from pipeline.records import references
from pipeline.records.entrez import EntrezClient
from pipeline.records.store import Store
from pipeline.relations import dependencies, model as relation_model, triggers
from pipeline.relations.dependencies import DependencyParser
from pipeline.relations.model import ModelExtractor
from pipeline.relations.triggers import RelationExtractor, TriggerExtractor
from pipeline.verdicts import evidence, rationales, verifier
from pipeline.verdicts.comentions import LinkModel
from pipeline.verdicts.pool import ReadingPool
from pipeline.verdicts.rationales import SentenceModel

if TYPE_CHECKING:  # imports spaCy (over a second): only where the pipeline loads
    from pipeline.entities.ner import PipelineTagger

# The code behind each cached result: the modules each step runs, whose imports bring in all
# they read (pipeline.codehash.import_closure). Claims: documents read, claims found by the claim
# rules and the trigger baseline. Fetch: references resolved, searches ranked. Extraction: records
# read by the relation models. Verdicts: the verifier, over claims and extractions.
CLAIMS_ROOTS = (reading, statements, triggers)
FETCH_ROOTS = (evidence, references, rationales)
EXTRACT_ROOTS = (evidence, relation_model, dependencies)
VERDICT_ROOTS = (verifier,)
_POOL_LOCK = threading.Lock()


@dataclass
class Toolkit:
    settings: Settings
    store: Store
    client: EntrezClient
    kb: KnowledgeBase
    claim_extractor: RelationExtractor
    pipeline_version: str  # the entity pipeline's, known without loading it (pipeline.entities.versions)
    relation_models: list[Path]  # the evidence extractor's models, whose folder names are their versions
    verifier_path: Path  # the sentence-level verifier's model file, in a folder named by its key
    links_path: Path  # the co-mention link model's file, in a folder named by its key
    _pool: ReadingPool | None = field(default=None, repr=False)

    @cached_property
    def tagger(self) -> PipelineTagger:
        """The trained entity pipeline, for claims and evidence alike, so both meet on its ids."""
        from pipeline.entities.gemm import use_exact_ops  # imports thinc: only where the pipeline loads
        from pipeline.entities.ner import PipelineTagger

        tagger = PipelineTagger.load(self.settings, self.kb)
        use_exact_ops(tagger.nlp)  # the same results, faster where BLIS runs its generic kernel
        return tagger

    @cached_property
    def verifier(self) -> SentenceModel:
        return pickle.loads(self.verifier_path.read_bytes())

    @cached_property
    def links(self) -> LinkModel:
        return pickle.loads(self.links_path.read_bytes())

    @cached_property
    def dictionary_tagger(self) -> DictionaryTagger:
        """The tagger the sentence-level verifier was trained with (its KB-id overlap features)."""
        return DictionaryTagger(self.kb)

    @cached_property
    def evidence_extractor(self) -> ModelExtractor:
        return ModelExtractor.load(self.relation_models, DependencyParser.load(self.settings))

    def extract(self, records: list[Record], pooled: bool = False) -> list[ExtractedRecord]:
        """What each record says, read in this process, or, when `pooled` (a run reading
        POOL_MIN_RECORDS or more), by `settings.processes` worker processes (`reading_pool`). A
        process that is itself a worker (a Dask worker, whose cluster is its parallelism) reads
        in itself. Either way the same records (`pipeline.verdicts.pool`)."""
        if pooled and self.settings.processes > 1 and multiprocessing.parent_process() is None:
            return self.reading_pool().extract(records)
        return evidence.extract_records(records, self.tagger, self.evidence_extractor)

    def reading_pool(self) -> ReadingPool:
        """The worker processes that read records, started on first use and kept for the process's life."""
        with _POOL_LOCK:  # flow tasks ask from several threads at once
            if self._pool is None:
                self._pool = ReadingPool(partial(evidence_readers, self.settings), self.settings.processes)
            return self._pool

    @property
    def claims_version(self) -> str:
        """Changes whenever the claims found in a text could change (for caching)."""
        return (f"{self.pipeline_version}+{self.claim_extractor.name}-{self.claim_extractor.version}"
                f"-{closure_hash(*CLAIMS_ROOTS)}")

    @property
    def extraction_version(self) -> str:
        """Changes whenever what is read from a record could change (for caching)."""
        models = "+".join(p.name for p in self.relation_models)
        return f"{self.pipeline_version}+{ModelExtractor.name}-{models}-{closure_hash(*EXTRACT_ROOTS)}"

    @property
    def verdict_version(self) -> str:
        """Changes whenever verdicts could change: claims, evidence, or the code that compares."""
        return (f"{self.claims_version}+{self.extraction_version}+{closure_hash(*VERDICT_ROOTS)}"
                f"+verifier-{self.verifier_path.parent.name}+links-{self.links_path.parent.name}")


def evidence_readers(settings: Settings) -> tuple[PipelineTagger, ModelExtractor]:
    """The tagger and extractor evidence is read with, as each pool worker loads them."""
    kit = open_toolkit(settings)
    return kit.tagger, kit.evidence_extractor


@lru_cache(maxsize=4)
def open_toolkit(settings: Settings) -> Toolkit:
    """Raises ModelsMissing (naming the command that builds them) before touching the store."""
    kb = ensure_kb(settings)
    # models missing: say so now, not mid-flow
    version = pipeline_version(settings, kb, ner_order(settings))
    relation_models = current_relation_models(settings)
    verifier_path = current_pickle(settings, VERIFIER)
    links_path = current_pickle(settings, LINKS)
    store = Store(settings.store_path)
    return Toolkit(settings, store, EntrezClient(settings, store), kb, TriggerExtractor(), version, relation_models,
                   verifier_path, links_path)
