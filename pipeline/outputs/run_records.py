"""The records a run read, kept in its folder with what litmine found in them, so that the run
can be exported (BioC JSON, PubTator) after the fact.

A run's tables say what it concluded; `records.jsonl.gz` keeps what it concluded from: each
record as it was read and its extraction (mentions and relations, sentence by sentence). The
store's copy of a record may change later (a refetch, a new import), and with it every
offset; the models may be retrained; Prefect's extraction cache is keyed by versions a later
process cannot rebuild. Kept in the run's folder, the export needs none of them.
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from pipeline.datatypes import ExtractedRecord, Mention, Notice, Record, Relation, Section
from pipeline.outputs.files import replacing
from pipeline.outputs.interchange import AnnotatedRecord, bioc_text, has_pubtator_id, pubtator

RECORDS_FILE = "records.jsonl.gz"
FORMATS = ("bioc", "pubtator")


class RunDirError(ValueError):
    """A folder that holds no run litmine can export; the message names it."""


@dataclass
class RunExport:
    text: str
    written: int  # records in `text`
    skipped: list[str]  # uids the format cannot hold (PubTator: no numeric PMID)


def write_run_records(out: Path, records: dict[str, Record], extracted: dict[str, ExtractedRecord]) -> Path:
    """One JSON line per record, in uid order, gzipped without a timestamp: the same run gives
    the same bytes."""
    lines = [json.dumps({"record": records[uid],
                         "extracted": _extraction_json(extracted.get(uid, ExtractedRecord(uid)))},
                        ensure_ascii=False, default=_fields) + "\n" for uid in sorted(records)]
    out.mkdir(parents=True, exist_ok=True)
    path = out / RECORDS_FILE
    with replacing(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as handle:
        handle.write("".join(lines).encode("utf-8"))
    return path


def _fields(obj: Any) -> dict[str, Any]:
    """A dataclass's fields, as json.dumps meets it (`asdict` deep-copies every value first: half
    a second of a cached run)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _extraction_json(extracted: ExtractedRecord) -> dict[str, Any]:
    return {"uid": extracted.uid, "relations": extracted.relations, "concepts": sorted(extracted.concepts),
            "sentences": extracted.sentences}


def _build(cls: type, values: dict[str, Any], **parts: Any) -> Any:
    """`cls` from its fields in `values`, ignoring any a later litmine added."""
    return cls(**{f.name: values[f.name] for f in fields(cls) if f.name in values} | parts)


def _relation(values: dict[str, Any]) -> Relation:
    return _build(Relation, values, subject=_build(Mention, values["subject"]),
                  object=_build(Mention, values["object"]))


def _read_line(line: str) -> tuple[Record, ExtractedRecord]:
    item = json.loads(line)
    values = item["record"]
    record = _build(Record, values, sections=[_build(Section, s) for s in values["sections"]],
                    notices=[_build(Notice, n) for n in values.get("notices", [])])
    found = item["extracted"]
    sentences = [(text, [_build(Mention, m) for m in mentions]) for text, mentions in found["sentences"]]
    extracted = ExtractedRecord(found["uid"], [_relation(r) for r in found["relations"]], set(found["concepts"]),
                                sentences)
    return record, extracted


def read_run_records(run_dir: Path) -> list[tuple[Record, ExtractedRecord]]:
    """The records a run read with their extraction; RunDirError when `run_dir` holds no run's records."""
    path = run_dir / RECORDS_FILE
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: no such folder")
    if not path.is_file():
        why = ("a run written before litmine kept the records it read; run it again to export it"
               if (run_dir / "claims.csv").is_file() else f"not a litmine run folder (no {RECORDS_FILE})")
        raise RunDirError(f"{run_dir}: {why}")
    try:
        # not splitlines(): JSON leaves U+2028 and the like unescaped inside strings
        lines = gzip.decompress(path.read_bytes()).decode("utf-8").split("\n")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{path}: not a file litmine wrote ({exc})") from exc
    found = []
    for number, line in enumerate(lines, 1):
        if not line:
            continue
        try:
            found.append(_read_line(line))
        except (ValueError, KeyError, TypeError) as exc:
            raise RunDirError(f"{path}:{number}: not a record litmine wrote ({exc!r})") from exc
    return found


def annotate(record: Record, extracted: ExtractedRecord) -> AnnotatedRecord:
    """The extraction with offsets over `record.full_text`: extraction keeps them per sentence,
    and each sentence is found in the text after the one before it."""
    text, cursor, starts, mentions = record.full_text, 0, {}, []
    for index, (sentence, found) in enumerate(extracted.sentences):
        start = text.find(sentence, cursor)
        if start < 0:
            raise ValueError(f"{record.uid}: sentence {index} is not in the record's text")
        starts[index], cursor = start, start + len(sentence)
        mentions += [_shift(m, start) for m in found]
    relations = [replace(r, subject=_shift(r.subject, starts[r.sentence_index]),
                         object=_shift(r.object, starts[r.sentence_index]))
                 for r in extracted.relations if r.sentence_index in starts]
    return AnnotatedRecord(record, mentions, relations)


def _shift(mention: Mention, by: int) -> Mention:
    return replace(mention, start=mention.start + by, end=mention.end + by)


def export_run(run_dir: Path, fmt: str) -> RunExport:
    """The records a run read, with their mentions and relations, as BioC JSON or PubTator text.
    PubTator leaves out records without a numeric PMID (listed in `skipped`)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose {' or '.join(FORMATS)}")
    annotated = [annotate(record, extracted) for record, extracted in read_run_records(run_dir)]
    if fmt == "bioc":
        return RunExport(bioc_text(annotated), len(annotated), [])
    kept = [a for a in annotated if has_pubtator_id(a.record)]
    return RunExport(pubtator(kept), len(kept), [a.record.uid for a in annotated if not has_pubtator_id(a.record)])
