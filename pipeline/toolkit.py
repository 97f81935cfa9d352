"""The long-lived objects a check needs, opened once per process.

Loading the knowledge base and models costs seconds; flows, tasks and CLI
commands all ask for them through `open_toolkit`, which caches them per
settings, so each worker process pays once.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.config import Settings
from pipeline.entities import EntityTagger
from pipeline.entrez import EntrezClient
from pipeline.kb import KnowledgeBase, ensure_kb
from pipeline.ner import PipelineTagger
from pipeline.relations import RelationExtractor, TriggerExtractor
from pipeline.store import Store


@dataclass
class Toolkit:
    settings: Settings
    store: Store
    client: EntrezClient
    kb: KnowledgeBase
    tagger: EntityTagger  # for evidence records: the trained entity pipeline
    claim_tagger: EntityTagger  # for claims in documents: the dictionary (see claims.py)
    extractor: RelationExtractor

    @property
    def extraction_version(self) -> str:
        """Changes whenever what extraction produces could change (for caching)."""
        return f"{self.tagger.version}+{self.claim_tagger.version}+{self.extractor.name}-{self.extractor.version}"

    @property
    def verdict_version(self) -> str:
        """Changes whenever verdicts could change: extraction, or the code that compares."""
        return f"{self.extraction_version}+{source_hash('claims', 'evidence', 'reconcile')}"


def source_hash(*modules: str) -> str:
    """A short hash of pipeline modules' source, so a code change invalidates what it computed."""
    digest = hashlib.sha256()
    for name in modules:
        digest.update((Path(__file__).parent / f"{name}.py").read_bytes())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=4)
def open_toolkit(settings: Settings) -> Toolkit:
    """Raises ModelsMissing (naming the command that builds them) before touching the store."""
    kb = ensure_kb(settings)
    tagger = PipelineTagger.load(settings, kb)
    dictionary = tagger.nlp.get_pipe("kb_features").tagger
    store = Store(settings.store_path)
    return Toolkit(settings, store, EntrezClient(settings, store), kb, tagger, dictionary, TriggerExtractor())
