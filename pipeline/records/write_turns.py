"""Taking turns at the store's write lock.

SQLite hands the write lock to no one in particular: a writer that commits and begins again at once
keeps it, while the others' busy handlers sleep between tries (100 ms at most). A connection that
has held the lock TURN seconds in all pauses TURN_PAUSE after its transaction when another is
waiting for it (`others_wait`), so a long import (IMPORT_BATCH items a transaction) lets a run's
writes in within about a second, and an import alone never pauses. SQLite tells a writer nothing of
who waits, so a connection that finds the lock taken says so in a file beside the store while it
waits (`begin`).
"""
from __future__ import annotations

import os
import sqlite3
import time
from contextlib import suppress
from pathlib import Path

TURN = 1.0
TURN_PAUSE = 0.12
WAITING = ".{store}.waiting-{pid}-{connection}"  # the waiting file, named after the store and the waiter


def begin(db: sqlite3.Connection, path: Path, connection: int, timeout: float) -> None:
    """BEGIN IMMEDIATE on `db`, the store at `path`: at once if the write lock is free, else waiting
    for it up to `timeout` seconds with a WAITING file (`connection` tells two waiters of one
    process apart) beside the store for as long as it waits."""
    db.execute("PRAGMA busy_timeout = 0")
    try:
        db.execute("BEGIN IMMEDIATE")
        return
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    waiting = path.parent / WAITING.format(store=path.name, pid=os.getpid(), connection=connection)
    with suppress(OSError):  # a folder it cannot write: the holder pauses anyway (`others_wait`)
        waiting.touch()
    try:
        db.execute("BEGIN IMMEDIATE")
    finally:
        waiting.unlink(missing_ok=True)


def others_wait(path: Path, timeout: float) -> bool:
    """Whether another connection waits for the write lock of the store at `path`: a WAITING file
    of it newer than the busy `timeout` (older ones are left by waiters that were killed), or a
    folder that cannot be listed."""
    pattern = WAITING.format(store=path.name, pid="*", connection="*")
    stale = time.time() - timeout - 1
    try:
        found = list(path.parent.glob(pattern))
    except OSError:
        return True
    for waiting in found:
        with suppress(FileNotFoundError):  # its waiter got the lock meanwhile
            if waiting.stat().st_mtime > stale:
                return True
    return False
