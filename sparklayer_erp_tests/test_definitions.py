"""The code location loads, names its resources and validates."""

import dagster as dg

from sparklayer_erp.definitions import defs


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)


def test_resources_are_wired():
    assert set(defs.resources) >= {"ledger", "sparklayer", "erp", "policy"}


def test_secrets_are_shown_by_name_not_value():
    text = repr(defs.resources)
    assert "SPARKLAYER_CLIENT_SECRET" in text and "ERP_PASSWORD" in text
