"""The linker's alias index: scispaCy's artifacts for the KB, built once per KB version, and the
exact search of its alias vectors.

The artifacts (the KB as scispaCy's jsonl, the vectorizer, the vectors and the alias list, in
scispaCy's ``LinkerPaths`` layout) live under ``models/linker/<KB version>/``, built once per
KB version (about 20 s for 315k aliases) and read with scispaCy's own classes. scispaCy
searches them with an nmslib HNSW index; litmine gives its ``CandidateGenerator`` an exact
index instead (`ExactIndex`): HNSW returned only 94% of the exact top-10 neighbours of BC5CDR
dev mentions, took 2-4 minutes to build, and built a different graph each time (its two
threads race, and nmslib seeds its generator once per process), so two builds of the same KB
linked differently. Exact search costs about 2-4 ms a name. scispaCy's
``create_tfidf_ann_index`` is not used either: it stores float16 sparse vectors, which scipy
>= 1.11 refuses; `build_index` follows its steps with float32 vectors.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Collection
from pathlib import Path

import numpy
import scipy.sparse

from pipeline.entities.kb import KnowledgeBase

KB_FILE = "kb.jsonl"
BUILD_FILE = "build.json"
MIN_DF = 10  # scispaCy's: 3-grams in fewer aliases are left out of the vectorizer


def say(progress: bool, message: str) -> None:
    """A line of the linker's progress, on stderr."""
    if progress:
        print(f"linker: {message}", file=sys.stderr, flush=True)


def export_kb(kb: KnowledgeBase, path: Path, concept_ids: Collection[str] | None = None) -> int:
    """Write the KB (or the named concepts) as scispaCy's KB jsonl: one Entity per concept,
    its litmine type as the entity's only type. Returns the number of concepts written."""
    from scispacy.linking_utils import Entity

    aliases: dict[str, set[str]] = {}
    types: dict[str, str] = {}
    for entry in kb.entries():
        if concept_ids is None or entry.concept_id in concept_ids:
            aliases.setdefault(entry.concept_id, set()).add(entry.name)
            types[entry.concept_id] = entry.type
    with open(path, "w", encoding="utf-8") as out:
        for cid in sorted(aliases):
            concept = kb.concept(cid)
            name = concept.name if concept else min(aliases[cid])
            entity = Entity(cid, name, sorted(aliases[cid] - {name}), [types[cid]])
            out.write(json.dumps(entity._asdict(), ensure_ascii=False) + "\n")
    return len(aliases)


def build_index(kb: KnowledgeBase, directory: Path, *, concept_ids: Collection[str] | None = None,
                min_df: int = MIN_DF, progress: bool = True) -> Path:
    """The scispaCy linker artifacts for `kb` in `directory`, built unless already there.

    The steps of scispaCy's create_tfidf_ann_index (fit the char-3-gram vectorizer on the
    aliases, drop aliases without a 3-gram, keep the rest's vectors), written where
    LinkerPaths looks; `ExactIndex` searches the vectors.
    """
    directory = Path(directory)
    if (directory / BUILD_FILE).is_file():
        return directory
    import joblib
    from scispacy.candidate_generation import LinkerPaths
    from scispacy.linking_utils import KnowledgeBase as ScispacyKB
    from sklearn.feature_extraction.text import TfidfVectorizer

    tmp = directory.with_name(f"{directory.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        started = time.perf_counter()
        say(progress, f"exporting KB {kb.version} to scispaCy's format")
        concepts = export_kb(kb, tmp / KB_FILE, concept_ids)
        aliases = sorted(ScispacyKB(str(tmp / KB_FILE)).alias_to_cuis)
        say(progress, f"fitting the tf-idf vectorizer on {len(aliases)} aliases of {concepts} concepts")
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), min_df=min_df, dtype=numpy.float32)
        vectors = vectorizer.fit_transform(aliases)
        kept = numpy.asarray(vectors.sum(axis=1)).ravel() != 0
        aliases = [alias for alias, keep in zip(aliases, kept) if keep]
        vectors = vectors[kept]
        paths = LinkerPaths.from_directory(tmp)
        joblib.dump(vectorizer, paths.tfidf_vectorizer)
        scipy.sparse.save_npz(paths.tfidf_vectors, vectors)
        with open(paths.concept_aliases_list, "w", encoding="utf-8") as out:
            json.dump(aliases, out)
        seconds = round(time.perf_counter() - started, 1)
        size = sum(f.stat().st_size for f in tmp.iterdir())
        build = {"kb_version": kb.version, "concepts": concepts, "aliases": len(aliases),
                 "dropped_aliases": int((~kept).sum()), "min_df": min_df,
                 "seconds": seconds, "bytes": size}
        (tmp / BUILD_FILE).write_text(json.dumps(build, indent=1))
        shutil.rmtree(directory, ignore_errors=True)
        os.replace(tmp, directory)
        say(progress, f"built {directory} in {seconds} s ({size / 1e6:.0f} MB)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return directory


class ExactIndex:
    """The alias vectors searched exactly, behind the one method of nmslib's index that
    scispaCy's CandidateGenerator calls. The vectors are L2-normalized, so a dot product
    is the cosine similarity; ties go to the lower alias index, so results never vary."""

    def __init__(self, vectors: scipy.sparse.spmatrix):
        self._by_feature = scipy.sparse.csr_matrix(vectors).T.tocsr()  # 3-grams x aliases

    def knnQueryBatch(self, queries: scipy.sparse.spmatrix, k: int = 10,  # noqa: N802 (nmslib's name)
                      num_threads: int = 0) -> list[tuple[numpy.ndarray, numpy.ndarray]]:
        """For each query row, the ids of its `k` most similar aliases and their cosine
        distances (1 - similarity), nearest first."""
        scores = scipy.sparse.csr_matrix(queries @ self._by_feature)
        found = []
        for row in range(scores.shape[0]):
            start, end = scores.indptr[row], scores.indptr[row + 1]
            ids, similarities = scores.indices[start:end], scores.data[start:end]
            if len(ids) > k:  # only aliases as similar as the k-th best can be in the k: sorting all cost 10 ms
                kept = similarities >= numpy.partition(similarities, len(ids) - k)[len(ids) - k]
                ids, similarities = ids[kept], similarities[kept]
            nearest = numpy.lexsort((ids, -similarities))[:k]
            found.append((ids[nearest], 1.0 - similarities[nearest]))
        return found
