"""Models trained with scikit-learn, saved whole: one pickle under `models/<name>/<key>/`, made current.

The verifier and the link model are saved the same way: trained only when no model with their key
exists, written whole or not at all, the same bytes for the same model (`canonical_pickle`), with a
build.json saying what they were trained on, how long it took and what cross-validation chose.
"""
from __future__ import annotations

import io
import json
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.config import Settings


def build_pickled(settings: Settings, name: str, key: str, trained_on: str, train: Callable[[], Any],
                  facts: dict[str, Any]) -> Path:
    """Train (`train()`, a model with `key` and `cross_validation` attributes) unless `models/<name>/<key>`
    holds one, and make it current; returns its folder. `trained_on` and `facts` describe the data."""
    folder = settings.models / name / key
    if (folder / "model.pkl").is_file():
        print(f"[{name}] up to date: {folder}", file=sys.stderr)
    else:
        print(f"[{name}] training on {trained_on}", file=sys.stderr)
        started = time.monotonic()
        model = train()
        model.key = key
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / "model.tmp"
        partial.write_bytes(canonical_pickle(model))
        partial.replace(folder / "model.pkl")
        (folder / "build.json").write_text(json.dumps({
            "model": name, **facts, "cross_validation": model.cross_validation,
            "seconds": round(time.monotonic() - started, 1), "bytes": (folder / "model.pkl").stat().st_size}, indent=2))
    (settings.models / name / "current").write_text(key)
    return folder


def canonical_pickle(model: Any) -> bytes:
    """`model` pickled without pickle's memo, each object written in full wherever it occurs: the bytes
    then follow from the model's values alone, not from which equal strings a process happened to share
    (two builds of the same verifier differed so). A model must hold no cycle."""
    out = io.BytesIO()
    pickler = pickle.Pickler(out)
    pickler.fast = True
    pickler.dump(model)
    return out.getvalue()
