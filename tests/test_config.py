"""Settings come from the environment, then a config file, then defaults."""
from pathlib import Path

import pytest

from pipeline.config import DEFAULT_EUTILS_URL, ConfigError, load_settings


def test_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"HOME": str(tmp_path)})
    assert settings.eutils_url == DEFAULT_EUTILS_URL
    assert settings.store_path == settings.data / "litmine.sqlite"
    assert settings.models.name == "models" and not settings.offline


def test_env_overrides_file_and_models_stay_independent(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "litmine.toml").write_text('ncbi_email = "a@b.org"\neutils_url = "http://127.0.0.1:9"\n'
                                           'offline = true\n')
    settings = load_settings({"HOME": str(tmp_path), "LITMINE_DATA": "/tmp/x", "NCBI_API_KEY": "secret"})
    assert settings.data == Path("/tmp/x")
    assert settings.models != Path("/tmp/x") / "models"
    assert settings.ncbi_email == "a@b.org" and settings.offline
    assert settings.eutils_url == "http://127.0.0.1:9/"
    assert "secret" not in repr(settings)


def test_bad_config_file_names_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("offline = maybe\n")
    with pytest.raises(ConfigError, match="bad.toml"):
        load_settings({"LITMINE_CONFIG": str(bad)})
    bad.write_text("colour = 'red'\n")
    with pytest.raises(ConfigError, match="unknown settings"):
        load_settings({"LITMINE_CONFIG": str(bad)})


def test_ner_models_from_the_environment_or_the_file(tmp_path):
    config = tmp_path / "litmine.toml"
    config.write_text('ner_models = ["en_ner_bc5cdr_md", "ner_gene"]\n')
    assert load_settings({"LITMINE_CONFIG": str(config)}).ner_models == ("en_ner_bc5cdr_md", "ner_gene")
    env = {"LITMINE_CONFIG": str(config), "LITMINE_NER_MODELS": "ner_bc5cdr, en_ner_bionlp13cg_md"}
    assert load_settings(env).ner_models == ("ner_bc5cdr", "en_ner_bionlp13cg_md")
    config.write_text("ner_models = 3\n")
    with pytest.raises(ConfigError, match="ner_models"):
        load_settings({"LITMINE_CONFIG": str(config)})


@pytest.mark.parametrize("url", ["eutils.ncbi.nlm.nih.gov/entrez/eutils/", "ftp://example.org/eutils/",
                                 "https:///entrez/eutils/", "https://example.org/eutils/?api_key=SECRET-KEY",
                                 "http://example.org:port/"])
def test_an_eutils_url_urllib_cannot_open_is_refused_at_load_time(url):
    """Not inside a request, where urllib's error quotes the request URL with the API key."""
    with pytest.raises(ConfigError, match="LITMINE_EUTILS_URL: eutils_url") as error:
        load_settings({"LITMINE_EUTILS_URL": url, "NCBI_API_KEY": "SECRET-KEY"})
    assert "SECRET-KEY" not in str(error.value)


def test_retry_budget_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings({"HOME": str(tmp_path)}).retry_budget == 300.0
    assert load_settings({"LITMINE_RETRY_BUDGET": "20"}).retry_budget == 20.0
    for bad in ("soon", "-1", "inf"):
        with pytest.raises(ConfigError, match="LITMINE_RETRY_BUDGET: retry_budget"):
            load_settings({"LITMINE_RETRY_BUDGET": bad})


def test_worker_processes_from_the_environment_or_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings({"HOME": str(tmp_path)}).processes == 2
    assert load_settings({"LITMINE_PROCESSES": "1"}).processes == 1
    config = tmp_path / "litmine.toml"
    config.write_text("processes = 4\n")
    assert load_settings({"LITMINE_CONFIG": str(config)}).processes == 4
    for bad in ("0", "two", "1.5"):
        with pytest.raises(ConfigError, match="LITMINE_PROCESSES: processes must be a whole number"):
            load_settings({"LITMINE_PROCESSES": bad})
