"""Prefect flows that compose litmine's pipeline functions.

Prefect reads its settings when first imported, so the offline defaults are
set here, before any flow module imports it: no analytics, a Prefect home
inside litmine's data folder, and a start-up timeout that survives a busy
2-core machine.
"""
import os

from pipeline.config import load_settings

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_HOME", str(load_settings().data / "prefect"))
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
