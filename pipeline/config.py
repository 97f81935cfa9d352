"""litmine's settings: environment variables first, then a TOML config file, then defaults.

The config file is ``$LITMINE_CONFIG`` if set, else ``./litmine.toml`` if it
exists, else ``~/.config/litmine/config.toml``. Its keys are the lower-case
names below without the prefix (``data``, ``models``, ``eutils_url``,
``ncbi_email``, ``ncbi_api_key``, ``ncbi_tool``, ``shared``, ``offline``, ``ner_models``,
``retry_budget``, ``max_document_mb``, ``url_timeout``, ``allow_private_urls``, ``max_import_mb``).

``eutils_url`` is checked here, when settings load: a URL urllib cannot open would otherwise
fail inside a request, whose error text carries the request URL and so the API key.

``ner_models`` names the NER models of the entity pipeline in order of precedence
(comma-separated in the environment, a list in the file): litmine's own
(``ner_bc5cdr``, ``ner_gene``, ``ner_biored``; all three when unset), installed spaCy
packages such as scispaCy's ``en_ner_bc5cdr_md``, or paths to spaCy pipelines.
"""
from __future__ import annotations

import os
import tomllib
from urllib.parse import urlsplit
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# the package's data folders: curated tables and the tagger's stoplist, spaCy configs, report templates
DATA_DIR = Path(__file__).with_name("data")
CONFIG_DIR = Path(__file__).with_name("configs")
TEMPLATES_DIR = Path(__file__).with_name("templates")

# setting name -> environment variable
ENV_VARS = {
    "data": "LITMINE_DATA",
    "models": "LITMINE_MODELS",
    "eutils_url": "LITMINE_EUTILS_URL",
    "ncbi_email": "NCBI_EMAIL",
    "ncbi_api_key": "NCBI_API_KEY",
    "ncbi_tool": "NCBI_TOOL",
    "shared": "LITMINE_SHARED",
    "offline": "LITMINE_OFFLINE",
    "ner_models": "LITMINE_NER_MODELS",
    "retry_budget": "LITMINE_RETRY_BUDGET",
    "max_document_mb": "LITMINE_MAX_DOCUMENT_MB",
    "url_timeout": "LITMINE_URL_TIMEOUT",
    "allow_private_urls": "LITMINE_ALLOW_PRIVATE_URLS",
    "max_import_mb": "LITMINE_MAX_IMPORT_MB",
    "processes": "LITMINE_PROCESSES",
}
DEFAULT_RETRY_BUDGET = 300.0  # seconds one NCBI request may keep retrying (see pipeline.records.retries)


class ConfigError(ValueError):
    """A config file or setting that cannot be used; the message names it."""


@dataclass(frozen=True)
class Settings:
    data: Path = PROJECT_ROOT / "data" / "processed"
    models: Path = PROJECT_ROOT / "data" / "processed" / "models"
    eutils_url: str = DEFAULT_EUTILS_URL
    ncbi_email: str = ""
    ncbi_api_key: str = field(default="", repr=False)  # never printed or logged
    ncbi_tool: str = "litmine"
    shared: Path = PROJECT_ROOT.parent / "shared"
    offline: bool = False
    ner_models: tuple[str, ...] = ()  # () = litmine's own, see pipeline.entities.versions
    retry_budget: float = DEFAULT_RETRY_BUDGET
    # what one document may cost: its size (a file, a download, a Word file unpacked) and, for a
    # URL, the whole fetch's time; a URL leading to a private or local address is refused unless allowed
    max_document_mb: float = 25.0
    url_timeout: float = 60.0
    allow_private_urls: bool = False
    max_import_mb: float = 1024.0  # one imported file, decompressed (a .gz that unpacks past it is a bomb)
    # worker processes reading records when a run reads many (pipeline.verdicts.pool), and parsing
    # ahead in an import (pipeline.records.read_ahead, one); 1: none
    processes: int = 2

    @property
    def store_path(self) -> Path:
        return self.data / "litmine.sqlite"

    @property
    def runs_dir(self) -> Path:
        return self.data / "runs"

    @property
    def kb_path(self) -> Path:
        return self.data / "kb.sqlite"

    @property
    def max_document_bytes(self) -> int:
        return int(self.max_document_mb * 2**20)

    @property
    def max_import_bytes(self) -> int:
        return int(self.max_import_mb * 2**20)

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _config_file(env: dict[str, str]) -> Path | None:
    if env.get("LITMINE_CONFIG"):
        return Path(env["LITMINE_CONFIG"])
    for candidate in (Path.cwd() / "litmine.toml", Path.home() / ".config" / "litmine" / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


_AMOUNTS = {"retry_budget": "seconds", "url_timeout": "seconds", "max_document_mb": "megabytes",
            "max_import_mb": "megabytes"}


def _coerce(name: str, value: object, source: str) -> object:
    if name in ("data", "models", "shared"):
        return Path(str(value)).expanduser()
    if name in ("offline", "allow_private_urls"):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("", "0", "false", "no", "off"):
            return False
        raise ConfigError(f"{source}: {name} must be true or false, got {value!r}")
    if name == "ner_models":
        names = value.split(",") if isinstance(value, str) else value
        if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
            raise ConfigError(f"{source}: ner_models must be model names, got {value!r}")
        return tuple(n.strip() for n in names if n.strip())
    if name == "processes":
        text = str(value).strip()
        if not text.isdigit() or int(text) < 1:
            raise ConfigError(f"{source}: processes must be a whole number of at least 1, got {value!r}")
        return int(text)
    if name == "eutils_url":
        return _eutils_url(str(value), source)
    if name in _AMOUNTS:
        try:
            amount = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            amount = -1.0
        if not 0 <= amount < float("inf") or (amount == 0 and name != "retry_budget"):
            raise ConfigError(f"{source}: {name} must be a {'positive ' if name != 'retry_budget' else ''}"
                              f"number of {_AMOUNTS[name]}, got {value!r}")
        return amount
    return str(value)


def _eutils_url(url: str, source: str) -> str:
    """An http(s) base URL with a host and nothing after its path, ending in "/".

    The error names the scheme and host only: a pasted URL may carry an api_key parameter."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        raise ConfigError(f"{source}: eutils_url is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
            or parts.username or parts.password:
        raise ConfigError(f"{source}: eutils_url must be an http:// or https:// URL with a host and no query, "
                          f"such as {DEFAULT_EUTILS_URL} (got scheme {parts.scheme!r}, host {parts.hostname or ''!r}"
                          f"{', and a query' if parts.query else ''})")
    url = parts.geturl()
    return url if url.endswith("/") else url + "/"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Settings from the environment and the config file, validated."""
    env = dict(os.environ if env is None else env)
    values: dict[str, object] = {}
    path = _config_file(env)
    if path is not None:
        try:
            table = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read config file: {exc}") from exc
        unknown = set(table) - set(ENV_VARS)
        if unknown:
            raise ConfigError(f"{path}: unknown settings {sorted(unknown)}; known: {sorted(ENV_VARS)}")
        values.update({k: _coerce(k, v, str(path)) for k, v in table.items()})
    for name, var in ENV_VARS.items():
        if env.get(var):
            values[name] = _coerce(name, env[var], var)
    return Settings(**values)  # type: ignore[arg-type]
