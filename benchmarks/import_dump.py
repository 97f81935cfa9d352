"""Does a change to the import store the same? Imports files into an empty store and writes every
table of it, row by row in the order the rows were written, so that two checkouts' imports compare.

    PYTHONPATH=CHECKOUT .venv/bin/python benchmarks/import_dump.py OUT PATH... [--processes N]
    .venv/bin/python benchmarks/import_dump.py --compare A B

The import is `import_paths` of the checkout PYTHONPATH names (run it with an older checkout
for "before"). OUT holds one line per row, `table<TAB>repr(row)`, tables by name, rows by rowid
(by every column where a table has none). The full-text index's segment tables are replaced by
what they index (every term's every occurrence: a count and a digest): their layout follows how
many transactions wrote them, which the import may change without changing what is searchable.
The import's own time (`records.fetched_at`) is the only value that differs between two imports
of the same files, so it is written as "<time>". `--compare` prints the first differing line of
each table and exits 1 if any differs.
"""
from __future__ import annotations

import argparse
import hashlib
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

TIMES = {("records", "fetched_at")}  # (table, column): when the import ran, not what it stored
# FTS5's segments: their layout follows the transactions that wrote them (one segment each, merged
# as they come), so what they index is compared instead (`index_content`)
SEGMENTS = {"records_fts_data", "records_fts_idx"}


def dump(store: Path) -> Iterator[str]:
    """Every row of every table, `table<TAB>repr(row)`, tables by name, rows in the order written;
    the full-text index's segments as what they index."""
    db = sqlite3.connect(store)
    try:
        names = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for name in names:
            if name in SEGMENTS:
                continue
            columns = [c[1] for c in db.execute(f"PRAGMA table_info({name})")]
            try:
                rows = db.execute(f"SELECT rowid, * FROM {name} ORDER BY rowid").fetchall()
                columns = ["rowid", *columns]
            except sqlite3.OperationalError:  # WITHOUT ROWID
                rows = db.execute(f"SELECT * FROM {name} ORDER BY {', '.join(map(str, range(1, len(columns) + 1)))}")
            blank = [i for i, c in enumerate(columns) if (name, c) in TIMES]
            for row in rows:
                yield f"{name}\t{tuple('<time>' if i in blank else v for i, v in enumerate(row))!r}"
        yield index_content(db)
    finally:
        db.close()


def index_content(db: sqlite3.Connection) -> str:
    """What the full-text index holds, every (term, rowid, column, offset) in order (fts5vocab's
    `instance` table), as a count and a digest: millions of rows."""
    db.execute("CREATE VIRTUAL TABLE temp.fts_instances USING fts5vocab(main, 'records_fts', 'instance')")
    digest, count = hashlib.sha256(), 0
    for row in db.execute("SELECT term, doc, col, offset FROM temp.fts_instances"):
        digest.update(repr(row).encode())
        count += 1
    return f"records_fts index\t{count} instances, sha256 {digest.hexdigest()}"


def imported(paths: list[Path], processes: int | None = None) -> list[str]:
    """The dump of `paths` imported into an empty store, with litmine's errors and warnings as lines."""
    from pipeline.records.importers import import_paths
    from pipeline.records.store import Store

    with tempfile.TemporaryDirectory(prefix="litmine-import-dump-") as tmp:
        with Store(Path(tmp) / "litmine.sqlite") as store:
            options = {} if processes is None else {"processes": processes}
            report = import_paths(paths, store, progress=False, **options)
        lines = list(dump(Path(tmp) / "litmine.sqlite"))
    return lines + [f"error\t{e}" for e in report.errors] + [f"warning\t{w}" for w in report.warnings]


def compare(a: list[str], b: list[str]) -> list[str]:
    """The first differing line of each table (or of the errors and warnings), as a report's lines."""
    def by_table(lines: list[str]) -> dict[str, list[str]]:
        tables: dict[str, list[str]] = {}
        for line in lines:
            tables.setdefault(line.split("\t", 1)[0], []).append(line)
        return tables

    first, second = by_table(a), by_table(b)
    found = []
    for table in sorted(set(first) | set(second)):
        rows_a, rows_b = first.get(table, []), second.get(table, [])
        if rows_a != rows_b:
            at = next((i for i, (x, y) in enumerate(zip(rows_a, rows_b)) if x != y), min(len(rows_a), len(rows_b)))
            shown = [rows[at] if at < len(rows) else "(none)" for rows in (rows_a, rows_b)]
            found.append(f"{table}: {len(rows_a)} against {len(rows_b)} rows, first difference at row {at}: "
                         f"{shown[0]} | {shown[1]}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="OUT then the files and folders to import, or A B")
    parser.add_argument("--compare", action="store_true", help="compare two dumps")
    parser.add_argument("--processes", type=int, help="import_paths's processes (default: its own)")
    args = parser.parse_args()
    if args.compare:
        a, b = (path.read_text().splitlines() for path in args.paths)
        differences = compare(a, b)
        tables = len({line.split("\t", 1)[0] for line in a})
        print("\n".join(differences) or f"identical: {len(a)} lines, {tables} tables")
        sys.exit(1 if differences else 0)
    out, *paths = args.paths
    lines = imported(paths, args.processes)
    out.write_text("\n".join(lines) + "\n")
    print(f"{out}: {len(lines)} lines")


if __name__ == "__main__":
    main()
