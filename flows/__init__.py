"""Prefect flows that compose litmine's pipeline functions, and the `litmine` command line.

Importing this package changes nothing: entry points apply Prefect's settings first
(`flows.prefect_settings.apply_prefect_defaults`)."""
