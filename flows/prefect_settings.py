"""Prefect's settings for litmine, applied by the entry points (the CLI, the benchmarks) before
they import a flow, since Prefect reads some of them when it is first imported."""
from __future__ import annotations

import os
from pathlib import Path

from pipeline.config import Settings

DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # offline
    "DO_NOT_TRACK": "1",  # nor the client's usage data, whose first-run notice would come between a run's bars
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",  # a busy 2-core machine
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
}


def apply_prefect_defaults(settings: Settings) -> None:
    """Prefect's home and result cache inside litmine's data folder, no analytics, a start-up
    timeout that survives a busy machine, and the API of the server `litmine server start`
    runs, if one is running. Variables already set win."""
    for name, value in {**DEFAULTS, "PREFECT_HOME": str(settings.data / "prefect"),
                        "PREFECT_LOCAL_STORAGE_PATH": str(settings.data / "cache")}.items():
        os.environ.setdefault(name, value)
    if "PREFECT_API_URL" not in os.environ:
        from flows.server import running_server

        server = running_server(Path(os.environ["PREFECT_HOME"]))
        if server:
            os.environ["PREFECT_API_URL"] = server.url
