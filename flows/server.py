"""A real Prefect server for scheduled runs, started and stopped by litmine.

Prefect's ephemeral API lives only as long as one process, so cron schedules
never fire there. `start_server` runs `prefect server start` on 127.0.0.1 in
its own session with its database under `LITMINE_DATA/prefect` (PostgreSQL
when `PREFECT_API_DATABASE_CONNECTION_URL` says so), and records where it is
so that later litmine commands find it.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

STARTUP_TIMEOUT = 180  # seconds: a busy 2-core machine takes a while to migrate and start


class ServerError(RuntimeError):
    """The Prefect server could not be started or reached; the message says why and where the log is."""


@dataclass
class ServerInfo:
    pid: int
    url: str  # the API URL, e.g. http://127.0.0.1:4200/api
    log: str


def start_temporary_api() -> threading.Thread | None:
    """Start Prefect's temporary API now, in the background, where no server is set.

    Without one, Prefect starts it at the flow's first API call and waits for its process
    to import the server (10-20 s on two busy cores); started first, that wait overlaps
    litmine's own imports. Prefect reuses it (one per process) and stops it at exit.
    Join the returned thread before the flow runs; if the start failed, the flow's first
    call tries again and reports why.
    """
    if os.environ.get("PREFECT_API_URL"):
        return None

    def start() -> None:
        from prefect.server.api.server import SubprocessASGIServer

        SubprocessASGIServer().start()

    thread = threading.Thread(target=start, name="prefect-temporary-api", daemon=True)
    thread.start()
    return thread


def _state_file(prefect_home: Path) -> Path:
    return prefect_home / "litmine-server.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_server(prefect_home: Path) -> ServerInfo | None:
    """The server litmine started earlier, if it is still running."""
    path = _state_file(prefect_home)
    if not path.is_file():
        return None
    info = ServerInfo(**json.loads(path.read_text()))
    return info if _alive(info.pid) else None


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start_server(prefect_home: Path, port: int = 4200, timeout: float = STARTUP_TIMEOUT) -> ServerInfo:
    """Start a Prefect server on 127.0.0.1:port (or return the one already running)."""
    existing = running_server(prefect_home)
    if existing:
        return existing
    prefect_home.mkdir(parents=True, exist_ok=True)
    log = prefect_home / "server.log"
    env = dict(os.environ, PREFECT_HOME=str(prefect_home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_UI_ENABLED=os.environ.get("PREFECT_UI_ENABLED", "true"))
    env.pop("PREFECT_API_URL", None)
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    info = ServerInfo(process.pid, f"http://127.0.0.1:{port}/api", str(log))
    deadline = time.monotonic() + timeout
    while not _healthy(info.url):
        if process.poll() is not None or time.monotonic() > deadline:
            _terminate(process.pid)
            raise ServerError(f"Prefect server did not start on port {port} within {timeout:.0f} s; see {log}")
        time.sleep(0.5)
    _state_file(prefect_home).write_text(json.dumps(vars(info)))
    return info


def _terminate(pid: int, grace: float = 15) -> None:
    """Stop a process group: SIGTERM, then SIGKILL whatever is left after `grace` seconds."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop_server(prefect_home: Path) -> bool:
    """Stop the server litmine started, with all its processes; False if none was running."""
    path = _state_file(prefect_home)
    info = running_server(prefect_home)
    if info:
        _terminate(info.pid)
    path.unlink(missing_ok=True)
    return info is not None
