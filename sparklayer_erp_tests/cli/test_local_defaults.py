"""The command line finds the same settings as the Dagster CLI: a .env file, and the demo's instance."""

from __future__ import annotations

import os

from sparklayer_erp import cli


def test_an_env_file_fills_only_what_the_environment_does_not_set(monkeypatch, tmp_path):
    env_file = tmp_path / "site.env"
    env_file.write_text("# on-call box\nERP_LOGIN=from-file\nERP_DATABASE = erp-from-file\n")
    monkeypatch.setenv("SPARKLAYER_ERP_ENV_FILE", str(env_file))
    monkeypatch.setenv("ERP_LOGIN", "from-environment")
    monkeypatch.delenv("ERP_DATABASE", raising=False)
    cli._local_defaults()
    assert os.environ["ERP_LOGIN"] == "from-environment" and os.environ["ERP_DATABASE"] == "erp-from-file"
    monkeypatch.delenv("ERP_DATABASE")


def test_the_demo_instance_is_the_default_dagster_home_only_when_it_exists(monkeypatch, tmp_path):
    home = tmp_path / "data" / "dagster_home"  # SPARKLAYER_ERP_DATA_DIR is tmp_path/data in every test
    cli._local_defaults()
    assert "DAGSTER_HOME" not in os.environ
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text("{}\n")
    cli._local_defaults()
    assert os.environ["DAGSTER_HOME"] == str(home)
    monkeypatch.delenv("DAGSTER_HOME")
