"""Which NER models make up litmine's entity pipeline, and its version, known without loading it.

Every run's cache keys name the pipeline (`pipeline_version`); a run whose every step hits the
cache never loads the pipeline, so this module imports no spaCy (over a second) unless an
external model is named.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from pipeline.codehash import code_hash, import_closure
from pipeline.config import Settings
from pipeline.entities.dictionary import STOPLIST_PATH
from pipeline.entities.kb import KnowledgeBase
from pipeline.entities.linking import learned_key
from pipeline.models import ModelsMissing, model_dir
from pipeline.records.store import Store

# litmine's NER models in order of precedence: where two find overlapping mentions, the
# first one's stands (spaCy's NER keeps entities already set, predicting around them).
NER_MODELS = ("ner_bc5cdr", "ner_gene", "ner_biored")
# The model trained on each corpus's guidelines: it goes first when litmine is scored on that corpus.
CORPUS_MODELS = {"bc5cdr": "ner_bc5cdr", "biored": "ner_biored", "nlm_gene": "ner_gene"}


def resolve_models(settings: Settings, ner_models: Sequence[str]) -> list[tuple[str, Path | str]]:
    """Where each NER model is: litmine's own (NER_MODELS) as its trained folder, any other
    name as an installed spaCy package (scispaCy's en_ner_bc5cdr_md, ...) or a pipeline folder.
    ModelsMissing names what is missing and how to get it."""
    found: list[tuple[str, Path | str]] = []
    unbuilt, unknown = [], []
    for name in ner_models:
        if name in NER_MODELS:
            path = model_dir(settings, name)
            if path:
                found.append((name, path))
            else:
                unbuilt.append(name)
        elif _is_package(name) or (Path(name) / "meta.json").is_file():
            found.append((Path(name).name, name))
        else:
            unknown.append(name)
    if unbuilt:
        raise ModelsMissing(f"models not built: {', '.join(unbuilt)} (under {settings.models}); "
                            "run `litmine models build` (or `make models`)")
    if unknown:
        raise ModelsMissing(f"NER models not found: {', '.join(unknown)}; name litmine's own "
                            f"({', '.join(NER_MODELS)}), an installed spaCy package or a pipeline folder")
    return found


def _is_package(name: str) -> bool:
    import spacy.util

    return spacy.util.is_package(name)


def model_versions(models: list[tuple[str, Path | str]]) -> Iterator[tuple[str, str]]:
    """Each model's identity: a litmine model's key (config + data + code), an external
    pipeline's meta (name, version, ...) as a hash."""
    for name, where in models:
        if isinstance(where, Path):
            yield name, where.parent.name
        else:
            import spacy.util

            path = spacy.util.get_package_path(where) if spacy.util.is_package(where) else Path(where)
            meta = json.dumps(spacy.util.get_model_meta(path), sort_keys=True, default=str)
            yield name, hashlib.sha256(meta.encode()).hexdigest()[:12]


def pipeline_version(settings: Settings, kb: KnowledgeBase, ner_models: Sequence[str] = NER_MODELS) -> str:
    """What the pipeline would tag with, known without loading it (seconds saved on every
    cached run): the NER models' identities, the KB, the train-corpus names the linker
    learns and the code of the components. Its saved folder is named by it."""
    models = [f"{name}={version}" for name, version in model_versions(resolve_models(settings, ner_models))]
    taught = ""
    if settings.store_path.exists():
        with Store(settings.store_path) as store:
            taught = learned_key(store)
    # the code of every component and of what they import (the corpus crosswalk the linker learns through)
    code = code_hash(*import_closure("pipeline.entities.ner"), STOPLIST_PATH)
    digest = hashlib.sha256("|".join([*models, taught, code]).encode()).hexdigest()[:12]
    return f"pipeline-{digest}+kb-{kb.version}"


def ner_order(settings: Settings, corpus: str | None = None) -> list[str]:
    """The NER models settings name, else NER_MODELS with the corpus's own model first, so
    a benchmark sees its guidelines' boundaries."""
    if settings.ner_models:
        return list(settings.ner_models)
    own = CORPUS_MODELS.get(corpus or "")
    return [own, *(m for m in NER_MODELS if m != own)] if own else list(NER_MODELS)
