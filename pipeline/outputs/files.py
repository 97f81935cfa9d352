"""Writing output files: whole or not at all, and CSV cells a spreadsheet will not run.

A run killed mid-write must not leave a truncated table that looks complete, so every output
is written to a temporary file beside its destination and moved into place (`os.replace` is
atomic on one file system). The temporary file has a name no one can guess and is created
only where nothing is (no link followed), and a link at the destination is replaced, not
followed: nothing written for `--out` lands outside it.

A sentence, name or reference line that starts with "=", "+", "-", "@", a tab or a carriage
return would be read as a formula by Excel or LibreOffice ("CSV injection"); such text cells
get a leading apostrophe, as OWASP recommends. Numbers are left as they are.
"""
from __future__ import annotations

import csv
import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A text cell a spreadsheet shows as text: prefixed with "'" where it would start a formula."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


@contextmanager
def replacing(path: Path, mode: str = "w") -> Iterator[IO]:
    """A handle on a temporary file that replaces `path` when the block ends without an error,
    and is removed when it does not."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    try:
        with open(fd, mode, **({} if "b" in mode else {"newline": "", "encoding": "utf-8"})) as handle:
            yield handle
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_csv(path: Path, columns: list[str], rows: Iterable[dict[str, object]]) -> Path:
    """A CSV with a header, every text cell made safe, written whole or not at all."""
    with replacing(path) as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({key: safe_cell(value) for key, value in row.items()} for row in rows)
    return path
