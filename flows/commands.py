"""What every `litmine` command shares: settings, the store, one clear error, running the flow.

Bad input is reported as one line naming the file and the problem, with exit status 2.
"""
from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer

from pipeline.config import ConfigError, Settings, load_settings
from pipeline.documents.reading import DocumentError
from pipeline.records.store import Store, StoreError


def settings_or_exit(offline: bool = False) -> Settings:
    """The settings, or exit with the config error."""
    try:
        return load_settings().with_overrides(offline=offline or None)
    except ConfigError as exc:
        fail(str(exc))


def fail(message: str) -> NoReturn:
    """Report a problem as one line on stderr and exit with status 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def open_store(settings: Settings) -> Store:
    """The store, or exit naming the problem."""
    try:
        return Store(settings.store_path)
    except StoreError as exc:
        fail(str(exc))


def check_documents(documents: list[str], out: Path | None, runner: str = "default", dask_address: str | None = None,
                    workers: int = 2, **flow_options: object) -> list[str]:
    """Run the evidence-check flow on `documents`, as `litmine run` does; returns its output paths."""
    missing = [doc for doc in documents if "://" not in doc and not Path(doc).is_file()]
    if missing and len(missing) == len(documents):  # nothing to check: say so before starting Prefect
        fail("; ".join(f"{doc}: no such document" for doc in missing))
    from pipeline.models import ModelsMissing
    from pipeline.toolkit import open_toolkit

    try:
        open_toolkit(settings_or_exit())  # models missing: one clear error before the flow starts
    except ModelsMissing as exc:
        fail(str(exc))
    from flows.server import start_temporary_api

    api = start_temporary_api()
    from flows.evidence_check import with_runner

    try:
        check = with_runner(runner, dask_address, workers)
        if api:
            api.join()
        return check(documents, out=str(out) if out else None, **flow_options)
    except (DocumentError, ValueError) as exc:
        fail(str(exc))
