"""Writing output files: whole or not at all, and CSV cells a spreadsheet will not run.

A run killed mid-write must not leave a truncated table that looks complete, so every output
is written to a temporary file beside its destination and moved into place (`os.replace` is
atomic on one file system). The temporary file has a name no one can guess (its writer's process
id, then random letters) and is created only where nothing is (no link followed), and a link at
the destination is replaced, not followed: nothing written for `--out` lands outside it. A writer
killed before the move leaves its temporary file behind; the next write of the same file removes it.

A sentence, name or reference line that starts with "=", "+", "-", "@", a tab or a carriage
return would be read as a formula by Excel or LibreOffice ("CSV injection"); such text cells
get a leading apostrophe, as OWASP recommends. Numbers are left as they are.
"""
from __future__ import annotations

import csv
import glob
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
    _remove_abandoned(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    try:
        with open(fd, mode, **({} if "b" in mode else {"newline": "", "encoding": "utf-8"})) as handle:
            yield handle
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _remove_abandoned(path: Path) -> None:
    """The temporary files of `path` whose writers no longer run (killed before the move)."""
    prefix = f".{path.name}."
    for tmp in path.parent.glob(f"{glob.escape(prefix)}*.tmp"):
        pid = tmp.name[len(prefix):-len(".tmp")].split(".")[0]
        if pid.isdigit() and not _running(int(pid)):
            tmp.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def write_text(path: Path, text: str) -> Path:
    """A UTF-8 text file written whole or not at all."""
    with replacing(path) as handle:
        handle.write(text)
    return path


def write_csv(path: Path, columns: list[str], rows: Iterable[dict[str, object]]) -> Path:
    """A CSV with a header, every text cell made safe, written whole or not at all."""
    with replacing(path) as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({key: safe_cell(value) for key, value in row.items()} for row in rows)
    return path
