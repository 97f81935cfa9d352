"""litmine's Prefect server: reused by `litmine run`, started in the background when none runs,
stopped by its watchdog when idle, and never in the way of a run."""
import json
import os
import socket
import time
from pathlib import Path

import pytest

from flows import commands, server
from flows.server import ServerError, ServerInfo


@pytest.fixture()
def home(tmp_path, monkeypatch):
    """PREFECT_HOME for one test, with no server set and the default idle period."""
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv(server.IDLE_ENV, raising=False)
    return tmp_path


def test_the_watchdog_stops_an_unused_server_and_leaves_when_its_server_is_gone():
    assert server.watchdog_step(True, True, last_used=100, now=100 + 1799, idle=1800) == "wait"
    assert server.watchdog_step(True, True, last_used=100, now=100 + 1800, idle=1800) == "stop"
    assert server.watchdog_step(False, True, last_used=100, now=100 + 5000, idle=1800) == "exit"
    assert server.watchdog_step(True, False, last_used=100, now=100 + 5000, idle=1800) == "exit"  # replaced


def test_idle_minutes_come_from_the_environment_and_no_server_means_none(home, monkeypatch):
    assert server.idle_minutes() == 30
    assert server.idle_minutes(no_server=True) == 0
    monkeypatch.setenv(server.IDLE_ENV, "5")
    assert server.idle_minutes() == 5
    for bad in ("soon", "-1"):
        monkeypatch.setenv(server.IDLE_ENV, bad)
        with pytest.raises(ServerError, match=server.IDLE_ENV):
            server.idle_minutes()


def test_a_stale_or_broken_state_file_is_no_running_server(home):
    state = home / "litmine-server.json"
    state.write_text(json.dumps(vars(ServerInfo(2 ** 22 + 12345, "http://127.0.0.1:1/api", "log"))))
    assert server.running_server(home) is None  # no such process
    state.write_text(json.dumps(vars(ServerInfo(os.getpid(), "http://127.0.0.1:1/api", "log"))))
    assert server.running_server(home) is None  # a live process, but not a Prefect server
    state.write_text("{not json")
    assert server.running_server(home) is None
    assert not server.stop_server(home) and not state.exists()


def test_one_command_at_a_time_starts_a_server(home):
    with server._starting(home, timeout=5):
        with pytest.raises(ServerError, match="another litmine command"):
            with server._starting(home, timeout=0):
                pass
    with server._starting(home, timeout=0):  # released
        pass


def test_a_taken_port_is_passed_over():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert server.free_port(port) != port


def test_keep_alive_restarts_the_idle_countdown(home):
    used = home / "litmine-server.used"
    server.mark_used(home)
    os.utime(used, (0, 0))
    server.keep_alive(home, every=3600)
    deadline = time.monotonic() + 10
    while used.stat().st_mtime == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert used.stat().st_mtime > 0


@pytest.fixture()
def quiet(monkeypatch):
    """No real server or temporary API: what start_api would start, recorded."""
    started = []
    monkeypatch.setattr(server, "keep_alive", lambda home: started.append("keep_alive"))
    monkeypatch.setattr(server, "start_temporary_api", lambda: started.append("temporary") or None)
    return started


def test_a_run_starts_a_background_server_and_says_so(home, quiet, monkeypatch, capsys):
    monkeypatch.setenv(server.IDLE_ENV, "15")
    calls = []

    def background(prefect_home, idle):
        calls.append((prefect_home, idle))
        return ServerInfo(1, "http://127.0.0.1:4200/api", "log", watchdog=2), True

    monkeypatch.setattr(server, "background_server", background)
    commands.start_api()()
    assert calls == [(home, 900)] and os.environ["PREFECT_API_URL"] == "http://127.0.0.1:4200/api"
    assert quiet == ["keep_alive"]
    assert "started a background Prefect server on 127.0.0.1:4200, stops after 15 min idle" in capsys.readouterr().err
    monkeypatch.delenv("PREFECT_API_URL")


def test_a_server_that_fails_to_start_leaves_the_run_a_temporary_api(home, quiet, monkeypatch, capsys):
    def failing(prefect_home, idle):
        raise ServerError("Prefect server did not start on port 4200")

    monkeypatch.setattr(server, "background_server", failing)
    commands.start_api()()
    assert "PREFECT_API_URL" not in os.environ
    assert "using a temporary API for this run" in capsys.readouterr().err


def test_no_server_and_a_server_of_ones_own_start_nothing(home, quiet, monkeypatch):
    monkeypatch.setattr(server, "background_server", lambda *a: pytest.fail("started a server"))
    commands.start_api(no_server=True)()
    assert quiet == ["temporary"]
    monkeypatch.setenv("PREFECT_API_URL", "http://elsewhere:4200/api")
    commands.start_api()()
    assert quiet == ["temporary"] and os.environ["PREFECT_API_URL"] == "http://elsewhere:4200/api"


def test_litmines_server_not_answering_leaves_the_run_a_temporary_api(home, quiet, monkeypatch, capsys):
    info = ServerInfo(1, "http://127.0.0.1:9/api", "log")
    monkeypatch.setattr(server, "running_server", lambda prefect_home: info)
    monkeypatch.setenv("PREFECT_API_URL", info.url)
    monkeypatch.setenv(server.IDLE_ENV, "0")
    commands.start_api()()
    assert "PREFECT_API_URL" not in os.environ and quiet == ["temporary"]
    assert "127.0.0.1:9 does not answer" in capsys.readouterr().err


def test_no_server_leaves_even_litmines_running_server_alone(home, quiet, monkeypatch, capsys):
    info = ServerInfo(1, "http://127.0.0.1:4200/api", "log")
    monkeypatch.setattr(server, "running_server", lambda prefect_home: info)
    monkeypatch.setattr(server, "healthy", lambda url: pytest.fail("asked the server"))
    monkeypatch.setenv("PREFECT_API_URL", info.url)
    commands.start_api(no_server=True)()
    assert "PREFECT_API_URL" not in os.environ and quiet == ["temporary"] and capsys.readouterr().err == ""


def test_a_run_sends_no_heartbeats(home, monkeypatch, tmp_path):
    """A run in the user's own process needs no crash detection; stopping the heartbeat thread cost up to 1 s."""
    from prefect.settings import get_current_settings

    import flows.evidence_check
    import pipeline.toolkit

    seen = {}

    def check(documents, out, **options):
        seen.update(options, heartbeat=get_current_settings().flows.heartbeat_frequency)
        return []

    monkeypatch.setattr(commands, "start_api", lambda no_server: lambda: None)
    monkeypatch.setattr(pipeline.toolkit, "open_toolkit", lambda settings: None)
    monkeypatch.setattr(flows.evidence_check, "with_runner", lambda *args: check)
    note = tmp_path / "note.txt"
    note.write_text("Sertraline inhibits Kir4.1 channels.\n")
    assert commands.check_documents([str(note)], None, offline=True) == []
    assert seen == {"offline": True, "heartbeat": None}
    assert get_current_settings().flows.heartbeat_frequency is not None  # only for the run


def test_the_watchdog_starts_once_the_state_file_names_its_server(home, monkeypatch):
    """A watchdog that looks before the state file names its server takes it for replaced and
    leaves: the server would then never stop when idle (seen on a loaded machine)."""
    import json

    seen = []
    monkeypatch.setattr(server, "_launch", lambda prefect_home, port, timeout: server.ServerInfo(
        4242, f"http://127.0.0.1:{port}/api", str(prefect_home / "server.log")))
    monkeypatch.setattr(server, "_start_watchdog", lambda prefect_home, pid, idle: seen.append(
        json.loads(server._state_file(prefect_home).read_text())["pid"]) or 4343)
    info, started = server.start_server(home, port=4201, idle=60)
    assert started and seen == [4242]
    assert json.loads(server._state_file(home).read_text())["watchdog"] == info.watchdog == 4343


@pytest.mark.slow
def test_a_background_server_is_found_again_kept_by_server_start_and_stopped_when_idle(home: Path):
    info, started = server.background_server(home, idle=3600)
    try:
        assert started and info.watchdog and server.healthy(info.url)
        again, started_again = server.background_server(home, idle=3600)
        assert (again.pid, started_again) == (info.pid, False)
        kept, _ = server.start_server(home)  # `litmine server start`: no watchdog from now on
        assert kept.pid == info.pid and kept.watchdog is None and server.running_server(home).watchdog is None
        server._start_watchdog(home, info.pid, idle=0.5)  # a short idle period, after a run
        deadline = time.monotonic() + 120
        while (home / "litmine-server.json").exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert server.running_server(home) is None and not server.healthy(info.url)
    finally:
        server.stop_server(home)


def test_a_server_on_another_port_tells_its_ui_where_its_api_is(home: Path):
    """`prefect server start --port N` alone serves a UI that looks for its API on 4200; the
    environment litmine starts it with says N (as Prefect's own settings read it)."""
    import subprocess
    import sys

    code = "from prefect.settings import get_current_settings as s; print(s().server.ui.api_url)"
    env = {**server.server_env(home, 4321), "PREFECT_UI_API_URL": "http://127.0.0.1:4200/api"}  # a stale one too
    ui_api = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert ui_api.stdout.strip() == "http://127.0.0.1:4321/api"
