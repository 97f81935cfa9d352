"""Reading records in batches and over worker processes gives what reading them one by one gives:
the reduced (CI) entity pipeline and relation models on real BC5CDR and DrugProt abstracts."""
from __future__ import annotations

import pytest

from pipeline.config import Settings
from pipeline.datatypes import Record
from pipeline.records.store import Store
from pipeline.relations.dependencies import DependencyParser
from pipeline.relations.model import ModelExtractor
from pipeline.models import current_relation_models
from pipeline.toolkit import open_toolkit
from pipeline.verdicts import pool
from pipeline.verdicts.evidence import extract_record, extract_records


@pytest.fixture(scope="module")
def records(trained: Settings) -> list[Record]:
    """Twelve BC5CDR test and eight DrugProt dev abstracts, as the store holds them."""
    with Store(trained.store_path) as store:
        docs = store.gold_documents("bc5cdr", "test")[:12] + store.gold_documents("drugprot", "dev")[:8]
        found = store.get_many(d.doc_id for d in docs)
    return [found[d.doc_id] for d in docs]


@pytest.fixture(scope="module")
def extractor(trained: Settings) -> ModelExtractor:
    return ModelExtractor.load(current_relation_models(trained), DependencyParser.load(trained))


def test_records_read_together_read_as_one_by_one(records, pipeline_tagger, extractor):
    together = extract_records(records, pipeline_tagger, extractor)
    assert [x.uid for x in together] == [r.uid for r in records]
    assert together == [extract_record(r, pipeline_tagger, extractor) for r in records]
    assert sum(len(x.relations) for x in together) >= 10  # both models had pairs to read
    assert {r.extractor for x in together for r in x.relations} >= {"relation-model:drugprot", "relation-model:biored"}


def test_sentences_read_together_read_as_one_by_one(records, pipeline_tagger, extractor):
    """One parse call and one scoring call a model for all sentences, against one sentence a call."""
    sentences = [(text, index, mentions) for x in extract_records(records, pipeline_tagger, extractor)
                 for index, (text, mentions) in enumerate(x.sentences)]
    together = extractor.extract_many(sentences)
    assert together == [extractor.extract(*sentence) for sentence in sentences]
    assert sum(map(len, together)) >= 10


def test_a_pool_reads_the_records_in_order_as_one_process_does(trained, records, pipeline_tagger, extractor,
                                                                 monkeypatch):
    monkeypatch.setattr(pool, "CHUNK", 3)  # seven chunks over two workers
    kit = open_toolkit(trained)
    assert kit.settings.processes == 2
    assert kit.extract(records, pooled=True) == extract_records(records, pipeline_tagger, extractor)
    assert kit._pool is not None and kit.reading_pool() is kit._pool  # started once, kept
    alone = open_toolkit(trained.with_overrides(processes=1))
    assert alone.extract(records[:2], pooled=True) == extract_records(records[:2], pipeline_tagger, extractor)
    assert alone._pool is None  # one process asked for: read in this one
