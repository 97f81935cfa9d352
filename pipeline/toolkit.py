"""The long-lived objects a check needs, opened once per process.

Loading the knowledge base and models costs seconds; flows, tasks and CLI
commands all ask for them through `open_toolkit`, which caches them per
settings, so each worker process pays once. The entity pipeline loads only
when something is tagged: a run whose every task hits the cache never loads it,
because the cache keys (`extraction_version`) are known without it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from pipeline.config import Settings, source_hash
from pipeline.entrez import EntrezClient
from pipeline.kb import KnowledgeBase, ensure_kb
from pipeline.ner import PipelineTagger, ner_order, pipeline_version
from pipeline.relations import RelationExtractor, TriggerExtractor
from pipeline.store import Store


@dataclass
class Toolkit:
    settings: Settings
    store: Store
    client: EntrezClient
    kb: KnowledgeBase
    extractor: RelationExtractor
    pipeline_version: str  # the entity pipeline's, known without loading it (pipeline.ner)

    @cached_property
    def tagger(self) -> PipelineTagger:
        """The trained entity pipeline, for claims and evidence alike, so both meet on its ids."""
        return PipelineTagger.load(self.settings, self.kb)

    @property
    def extraction_version(self) -> str:
        """Changes whenever what extraction produces could change (for caching)."""
        return f"{self.pipeline_version}+{self.extractor.name}-{self.extractor.version}"

    @property
    def verdict_version(self) -> str:
        """Changes whenever verdicts could change: extraction, or the code that compares."""
        return f"{self.extraction_version}+{source_hash('claims', 'evidence', 'reconcile')}"


@lru_cache(maxsize=4)
def open_toolkit(settings: Settings) -> Toolkit:
    """Raises ModelsMissing (naming the command that builds them) before touching the store."""
    kb = ensure_kb(settings)
    version = pipeline_version(settings, kb, ner_order(settings))  # models missing: say so now, not mid-flow
    store = Store(settings.store_path)
    return Toolkit(settings, store, EntrezClient(settings, store), kb, TriggerExtractor(), version)
