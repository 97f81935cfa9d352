"""A real Prefect server for litmine, started and stopped by litmine.

Prefect's ephemeral API lives only as long as one process, so cron schedules
never fire there, and starting it costs every `litmine run` 10-25 s. `start_server`
runs `prefect server start` on 127.0.0.1 in its own session with its database under
`LITMINE_DATA/prefect` (PostgreSQL when `PREFECT_API_DATABASE_CONNECTION_URL` says so),
and records where it is so that later litmine commands find it.

`litmine server start` keeps its server until `litmine server stop`. `litmine run` starts
one itself when none runs (`background_server`) and gives it a watchdog process that
stops it once no litmine command has used it for the idle period: commands using it
touch a file (`keep_alive`) while they run.
"""
from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipeline.outputs.files import write_text

STARTUP_TIMEOUT = 180  # seconds: a busy 2-core machine takes a while to migrate and start
DEFAULT_PORT = 4200
IDLE_ENV = "LITMINE_SERVER_IDLE_MINUTES"
DEFAULT_IDLE_MINUTES = 30.0
MAX_POLL = 60.0  # seconds between the watchdog's looks and between a command's keep-alive touches


class ServerError(RuntimeError):
    """The Prefect server could not be started or reached; the message says why and where the log is."""


@dataclass
class ServerInfo:
    pid: int
    url: str  # the API URL, e.g. http://127.0.0.1:4200/api
    log: str
    watchdog: int | None = None  # the process that stops it when idle; None: it runs until stopped

    @property
    def address(self) -> str:
        return self.url.removeprefix("http://").removesuffix("/api")


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


def idle_minutes(no_server: bool = False) -> float:
    """How long a background server started by `litmine run` waits unused before it stops
    (LITMINE_SERVER_IDLE_MINUTES, default 30); 0: start none, use a temporary API per run."""
    if no_server:
        return 0.0
    value = os.environ.get(IDLE_ENV, "").strip()
    try:
        minutes = float(value) if value else DEFAULT_IDLE_MINUTES
    except ValueError:
        raise ServerError(f"{IDLE_ENV}={value!r}: not a number of minutes") from None
    if minutes < 0:
        raise ServerError(f"{IDLE_ENV}={value!r}: minutes cannot be negative")
    return minutes


def _state_file(prefect_home: Path) -> Path:
    return prefect_home / "litmine-server.json"


def _used_file(prefect_home: Path) -> Path:
    return prefect_home / "litmine-server.used"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_prefect_server(pid: int) -> bool:
    """Whether `pid` is still a Prefect server, not a process that reused its id after a reboot."""
    if not _alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        return b"prefect" in cmdline.read_bytes()
    except FileNotFoundError:  # no /proc (macOS): trust the id
        return not cmdline.parent.parent.is_dir()
    except OSError:
        return True


def running_server(prefect_home: Path) -> ServerInfo | None:
    """The server litmine started earlier, if it is still running (a stale state file is not)."""
    path = _state_file(prefect_home)
    try:
        info = ServerInfo(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return info if _is_prefect_server(info.pid) else None


def healthy(url: str, timeout: float = 2) -> bool:
    """Whether the Prefect API at `url` answers."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def _starting(prefect_home: Path, timeout: float) -> Iterator[None]:
    """One litmine command at a time starts a server for `prefect_home`; the others wait, then find it."""
    prefect_home.mkdir(parents=True, exist_ok=True)
    with (prefect_home / "litmine-server.lock").open("a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ServerError(f"another litmine command has been starting a server for over {timeout:.0f} s")
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def free_port(preferred: int = DEFAULT_PORT) -> int:
    """`preferred` if nothing listens on it on 127.0.0.1, else a port the system picks."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise ServerError("no free port on 127.0.0.1")


def start_server(prefect_home: Path, port: int = DEFAULT_PORT, timeout: float = STARTUP_TIMEOUT,
                 idle: float | None = None) -> tuple[ServerInfo, bool]:
    """Start a Prefect server on 127.0.0.1:port, or find the one already running; returns it and
    whether this call started it. With `idle` seconds, a watchdog stops it after that long unused;
    without, it runs until `stop_server`, and so does a running one that had a watchdog."""
    with _starting(prefect_home, timeout):
        existing = running_server(prefect_home)
        if existing:
            if idle is None and existing.watchdog:
                _terminate(existing.watchdog)
                existing.watchdog = None
                _save(prefect_home, existing)
            return existing, False
        info = _launch(prefect_home, port, timeout)
        _save(prefect_home, info)  # before the watchdog's first look: a server it cannot find, it leaves
        if idle is not None:
            mark_used(prefect_home)
            info.watchdog = _start_watchdog(prefect_home, info.pid, idle)
            _save(prefect_home, info)
        return info, True


def background_server(prefect_home: Path, idle: float, timeout: float = STARTUP_TIMEOUT) -> tuple[ServerInfo, bool]:
    """The running litmine server, or a new one on port 4200 (another if that is taken) that
    stops after `idle` seconds unused; and whether this call started it."""
    existing = running_server(prefect_home)
    if existing:
        return existing, False
    return start_server(prefect_home, free_port(), timeout, idle=idle)


def server_env(prefect_home: Path, port: int) -> dict[str, str]:
    """The server's environment: its home, no analytics, and its port told to the UI too (which
    otherwise looks for its API on Prefect's default port, 4200, whatever `--port` says)."""
    env = dict(os.environ, PREFECT_HOME=str(prefect_home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_UI_ENABLED=os.environ.get("PREFECT_UI_ENABLED", "true"),
               PREFECT_SERVER_API_HOST="127.0.0.1", PREFECT_SERVER_API_PORT=str(port),
               PREFECT_SERVER_UI_API_URL=f"http://127.0.0.1:{port}/api")
    for name in ("PREFECT_API_URL", "PREFECT_UI_API_URL"):  # the client's, and the UI's older name
        env.pop(name, None)
    return env


def _launch(prefect_home: Path, port: int, timeout: float) -> ServerInfo:
    log = prefect_home / "server.log"
    env = server_env(prefect_home, port)
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    info = ServerInfo(process.pid, f"http://127.0.0.1:{port}/api", str(log))
    deadline = time.monotonic() + timeout
    while not healthy(info.url):
        if process.poll() is not None or time.monotonic() > deadline:
            _terminate(process.pid)
            raise ServerError(f"Prefect server did not start on port {port} within {timeout:.0f} s; see {log}")
        time.sleep(0.25)
    return info


def _save(prefect_home: Path, info: ServerInfo) -> None:
    """Whole or not at all: a state file cut short would hide a running server from later commands,
    which would start another."""
    write_text(_state_file(prefect_home), json.dumps(vars(info)))


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
    """Stop the server litmine started, with all its processes and its watchdog; False if none was running."""
    path = _state_file(prefect_home)
    info = running_server(prefect_home)
    if info:
        if info.watchdog and info.watchdog != os.getpid():
            _terminate(info.watchdog)
        _terminate(info.pid)
    path.unlink(missing_ok=True)
    return info is not None


# ---------------------------------------------------------------------------- stopping when idle

def mark_used(prefect_home: Path) -> None:
    """Restart the server's idle countdown."""
    _used_file(prefect_home).touch()


def keep_alive(prefect_home: Path, every: float = MAX_POLL) -> threading.Thread:
    """Keep restarting the idle countdown while this process runs (a run may outlast the idle period)."""
    def touch() -> None:
        while True:
            mark_used(prefect_home)
            time.sleep(every)

    thread = threading.Thread(target=touch, name="litmine-server-keep-alive", daemon=True)
    thread.start()
    return thread


def watchdog_step(server_alive: bool, ours: bool, last_used: float, now: float, idle: float) -> str:
    """What the watchdog does on one look: "exit" when its server is gone or replaced (nothing
    left to watch), "stop" when unused for `idle` seconds, else "wait"."""
    if not (server_alive and ours):
        return "exit"
    return "stop" if now - last_used >= idle else "wait"


def _start_watchdog(prefect_home: Path, pid: int, idle: float) -> int:
    root = str(Path(__file__).resolve().parents[1])  # so that `-m flows.server` imports this file
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    process = subprocess.Popen([sys.executable, "-m", "flows.server", str(prefect_home), str(pid), str(idle)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=env, start_new_session=True)
    return process.pid


def watch(prefect_home: Path, pid: int, idle: float) -> None:
    """The watchdog's loop: stop the server `pid` once no command has used it for `idle` seconds."""
    poll = min(MAX_POLL, max(idle / 4, 0.5))
    while True:
        info = running_server(prefect_home)
        try:
            last_used = _used_file(prefect_home).stat().st_mtime
        except FileNotFoundError:
            last_used = 0.0
        step = watchdog_step(_alive(pid), info is not None and info.pid == pid, last_used, time.time(), idle)
        if step == "exit":
            return
        if step == "stop":
            stop_server(prefect_home)
            return
        time.sleep(poll)


if __name__ == "__main__":  # the watchdog process: PREFECT_HOME PID IDLE_SECONDS
    watch(Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
