"""Prefect flows that compose litmine's pipeline functions.

Prefect reads its settings when first imported, so the offline defaults are
set here, before any flow module imports it: no analytics, a Prefect home and
result cache inside litmine's data folder, a start-up timeout that survives a
busy 2-core machine, and the API of the server `litmine server start` runs.
"""
import os
from pathlib import Path

from pipeline.config import load_settings

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
_data = load_settings().data
os.environ.setdefault("PREFECT_HOME", str(_data / "prefect"))
os.environ.setdefault("PREFECT_LOCAL_STORAGE_PATH", str(_data / "cache"))
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")

# A server started by `litmine server start` is used by every later command.
if "PREFECT_API_URL" not in os.environ:
    from flows.server import running_server

    _server = running_server(Path(os.environ["PREFECT_HOME"]))
    if _server:
        os.environ["PREFECT_API_URL"] = _server.url
