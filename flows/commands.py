"""What every `litmine` command shares: settings, the store, one clear error, running the flow.

Bad input is reported as one line naming the file and the problem, with exit status 2.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import typer

from flows.terminal import Verbosity, showing_progress, verbosity
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
    """Report a problem as one line on stderr (each line of a list of them) and exit with status 2."""
    for line in message.split("\n"):
        typer.echo(f"error: {line}", err=True)
    raise typer.Exit(2)


def note(message: str) -> None:
    """Tell the user something they did not ask for but should know, as one line on stderr (not when quiet)."""
    if verbosity() is not Verbosity.QUIET:
        typer.echo(message, err=True)


def open_store(settings: Settings) -> Store:
    """The store, or exit naming the problem."""
    try:
        return Store(settings.store_path)
    except StoreError as exc:
        fail(str(exc))


def check_documents(documents: list[str], out: Path | None, runner: str = "default", dask_address: str | None = None,
                    workers: int = 2, no_server: bool = False, **flow_options: object) -> list[str]:
    """Run the evidence-check flow on `documents`, as `litmine run` does, showing its progress on stderr
    as the verbosity asks (flows.terminal); returns its output paths.
    `no_server`: a temporary Prefect API for this run, not a background server."""
    missing = [doc for doc in documents if "://" not in doc and not Path(doc).is_file()]
    if missing and len(missing) == len(documents):  # nothing to check: say so before starting Prefect
        fail("; ".join(f"{doc}: no such document" for doc in missing))
    api_ready = start_api(no_server)  # in the background, while the models are looked for
    from pipeline.models import ModelsMissing
    from pipeline.toolkit import open_toolkit

    try:
        open_toolkit(settings_or_exit(bool(flow_options.get("offline"))))  # models missing: one clear error now
    except ModelsMissing as exc:
        fail(str(exc))
    api_ready()  # before Prefect is imported: it reads PREFECT_API_URL then
    from prefect.settings import temporary_settings

    from flows.evidence_check import with_runner

    try:
        check = with_runner(runner, dask_address, workers)
        # No flow-run heartbeats: they let a server mark a run crashed once they stop, and this run
        # lives in the user's own terminal; stopping their thread (it wakes once a second) cost up to 1 s.
        with temporary_settings(updates={"flows.heartbeat_frequency": None}), showing_progress():
            return check(documents, out=str(out) if out else None, **flow_options)
    except (DocumentError, ValueError) as exc:
        fail(str(exc))


def start_api(no_server: bool = False) -> Callable[[], None]:
    """Begin getting the flow a Prefect API: the server set, litmine's background server (started
    if none runs), or, with `no_server` or where the server cannot start, a temporary API for
    this process. Call the returned function before importing Prefect; it waits for the API."""
    from flows.server import ServerError, background_server, healthy, idle_minutes, keep_alive, running_server
    from flows.server import start_temporary_api

    home = Path(os.environ["PREFECT_HOME"])
    url = os.environ.get("PREFECT_API_URL")
    server = running_server(home)
    if url and not (server and server.url == url):
        return lambda: None  # a server of the user's own
    if url and server:  # litmine's, found by flows.prefect_settings
        if not no_server and healthy(server.url):
            keep_alive(home)
            return lambda: None
        if not no_server:
            note(f"the Prefect server on {server.address} does not answer; using a temporary API for this run")
        del os.environ["PREFECT_API_URL"]
    try:
        minutes = idle_minutes(no_server)
    except ServerError as exc:
        fail(str(exc))
    if not minutes:
        temporary = start_temporary_api()
        return temporary.join if temporary else lambda: None
    outcome: dict[str, object] = {}

    def start() -> None:
        try:
            outcome["server"] = background_server(home, minutes * 60)
        except (ServerError, OSError) as exc:
            outcome["error"] = exc

    starting = threading.Thread(target=start, name="litmine-background-server", daemon=True)
    starting.start()

    def ready() -> None:
        starting.join()
        if "error" in outcome:
            note(f"could not start a background Prefect server ({outcome['error']}); "
                 "using a temporary API for this run")
            return  # Prefect starts its temporary API at the flow's first call
        info, started = outcome["server"]  # type: ignore[misc]
        os.environ["PREFECT_API_URL"] = info.url
        keep_alive(home)
        if started:
            note(f"started a background Prefect server on {info.address}, stops after {minutes:g} min idle; "
                 "`litmine server stop` stops it now")

    return ready
