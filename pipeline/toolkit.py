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

import pickle
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from pipeline.claims import candidates, clauses, extract as claim_extract, statements, subjects, vocabulary
from pipeline.codehash import code_hash
from pipeline.config import Settings
from pipeline import datatypes
from pipeline.datatypes import Mention
from pipeline.documents import citations, markup, reading, sentences
from pipeline.entities.dictionary import DictionaryTagger
from pipeline.entities.kb import KnowledgeBase
from pipeline.entities.kb_build import ensure_kb
from pipeline.entities.ner import PipelineTagger, ner_order, pipeline_version
from pipeline.models import current_relation_models, current_verifier
from pipeline.records import references
from pipeline.records.entrez import EntrezClient
from pipeline.records.store import Store
from pipeline.relations import (dependencies, features as relation_features, model as relation_model,
                                triggers as relations)
from pipeline.relations.dependencies import DependencyParser
from pipeline.relations.model import ModelExtractor
from pipeline.relations.triggers import RelationExtractor, TriggerExtractor
from pipeline.verdicts import evidence, rationales, reconcile, stance, verifier
from pipeline.verdicts.rationales import SentenceModel


# The code behind each cached result (see pipeline.codehash); the types a stage hands the next
# are in pipeline.datatypes. The claim rules are the claims package and what it reads of the
# relation stage: the trigger table and the negation and hedge cues.
CLAIM_RULES = (vocabulary, clauses, candidates, subjects, claim_extract, statements,
               *((relations, name) for name in ("Trigger", "TRIGGER_TABLE", "TRIGGERS", "NEGATION_CUES",
                                                "HEDGE_CUES")))
CLAIMS_CODE = (*CLAIM_RULES, reading, markup, sentences, citations, datatypes)
FETCH_CODE = (evidence, references, rationales, datatypes)
EXTRACT_CODE = (evidence, datatypes)
VERDICT_CODE = (*CLAIM_RULES, evidence, reconcile, rationales, stance, verifier, datatypes)


@dataclass
class Toolkit:
    settings: Settings
    store: Store
    client: EntrezClient
    kb: KnowledgeBase
    claim_extractor: RelationExtractor
    pipeline_version: str  # the entity pipeline's, known without loading it (pipeline.entities.ner)
    relation_models: list[Path]  # the evidence extractor's models, whose folder names are their versions
    verifier_path: Path  # the sentence-level verifier's model file, in a folder named by its key

    @cached_property
    def tagger(self) -> PipelineTagger:
        """The trained entity pipeline, for claims and evidence alike, so both meet on its ids."""
        return PipelineTagger.load(self.settings, self.kb)

    @cached_property
    def verifier(self) -> SentenceModel:
        return pickle.loads(self.verifier_path.read_bytes())

    @cached_property
    def dictionary_tagger(self) -> DictionaryTagger:
        """The tagger the sentence-level verifier was trained with (its KB-id overlap features)."""
        return DictionaryTagger(self.kb)

    @cached_property
    def evidence_extractor(self) -> ModelExtractor:
        return ModelExtractor.load(self.relation_models, DependencyParser.load(self.settings))

    @property
    def claims_version(self) -> str:
        """Changes whenever the claims found in a text could change (for caching)."""
        return f"{self.pipeline_version}+{self.claim_extractor.name}-{self.claim_extractor.version}"

    @property
    def extraction_version(self) -> str:
        """Changes whenever what is read from a record could change (for caching)."""
        models = "+".join(p.name for p in self.relation_models)
        code = code_hash(relation_model, relation_features, relations, dependencies, sentences, Mention)
        return f"{self.pipeline_version}+{ModelExtractor.name}-{models}-{code}"

    @property
    def verdict_version(self) -> str:
        """Changes whenever verdicts could change: claims, evidence, or the code that compares."""
        return (f"{self.claims_version}+{self.extraction_version}+{code_hash(*VERDICT_CODE)}"
                f"+verifier-{self.verifier_path.parent.name}")


@lru_cache(maxsize=4)
def open_toolkit(settings: Settings) -> Toolkit:
    """Raises ModelsMissing (naming the command that builds them) before touching the store."""
    kb = ensure_kb(settings)
    # models missing: say so now, not mid-flow
    version = pipeline_version(settings, kb, ner_order(settings))
    relation_models = current_relation_models(settings)
    verifier_path = current_verifier(settings)
    store = Store(settings.store_path)
    return Toolkit(settings, store, EntrezClient(settings, store), kb, TriggerExtractor(), version, relation_models,
                   verifier_path)
