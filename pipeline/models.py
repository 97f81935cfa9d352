"""Where the trained models live under settings.models, and the error for one not built yet.

The code that runs models and the code that trains them both find the folders here, so
running a model never imports the training code.
"""
from __future__ import annotations

from pathlib import Path

from pipeline.config import Settings
from pipeline.entities.kb import KnowledgeBase

# The corpora whose relation models the evidence-check flow reads.
FLOW_CORPORA = ("drugprot", "biored")
VERIFIER = "verifier"  # the sentence-level verifier (pipeline.verdicts.rationales)
LINKS = "links"  # the co-mention link model (pipeline.verdicts.comentions)


class ModelsMissing(RuntimeError):
    """A trained model the pipeline needs has not been built."""


def model_dir(settings: Settings, name: str) -> Path | None:
    """The current trained pipeline of a model, or None when it has not been built."""
    pointer = settings.models / name / "current"
    if not pointer.is_file():
        return None
    path = settings.models / name / pointer.read_text().strip() / "model-best"
    return path if (path / "meta.json").is_file() else None


def relation_model_dir(settings: Settings) -> Path:
    return settings.models / "relations"


def current_relation_models(settings: Settings) -> list[Path]:
    """The folders of the flow's current relation models; ModelsMissing when one is not built."""
    directory = relation_model_dir(settings)
    folders = []
    for corpus in FLOW_CORPORA:
        pointer = directory / f"{corpus}.current"
        folder = directory / pointer.read_text().strip() if pointer.is_file() else None
        if folder is None or not (folder / "model.json").is_file():
            raise ModelsMissing(f"model not built: relations_{corpus} (under {settings.models}); "
                                "run `litmine models build`")
        folders.append(folder)
    return folders


def linker_dir(settings: Settings, kb: KnowledgeBase) -> Path:
    return settings.models / "linker" / kb.version


def pipeline_dir(settings: Settings) -> Path:
    """Where the entity pipelines are saved whole, each in a folder named by its version."""
    return settings.models / "pipeline"


def current_pickle(settings: Settings, name: str) -> Path:
    """The current file of a model saved whole (VERIFIER, LINKS: `pipeline.training.pickled`);
    ModelsMissing when it is not built."""
    pointer = settings.models / name / "current"
    path = settings.models / name / pointer.read_text().strip() / "model.pkl" if pointer.is_file() else None
    if path is None or not path.is_file():
        raise ModelsMissing(f"model not built: {name} (under {settings.models}); run `litmine models build`")
    return path
