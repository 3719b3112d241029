"""Settings: defaults point at the local stack; a missing or malformed one names its variable."""

from decimal import Decimal

import dagster as dg
import pytest

from sparklayer_erp import settings
from sparklayer_erp.resources import PolicyResource, SparkLayerResource, build_resources, env_or_default


def test_defaults_point_at_the_local_stack():
    assert settings.read("SPARKLAYER_BASE_URL", {}) == "http://127.0.0.1:8700"
    assert settings.read("ERP_URL", {}) == "http://127.0.0.1:8000"
    assert settings.read("ORDER_PRICE_TOLERANCE", {}) == Decimal("0.01")


def test_missing_secret_names_its_variable():
    with pytest.raises(settings.SettingError, match="SPARKLAYER_CLIENT_SECRET is not set"):
        settings.read("SPARKLAYER_CLIENT_SECRET", {})


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        ("SPARKLAYER_BASE_URL", "app.sparklayer.io", "SPARKLAYER_BASE_URL must be an http"),
        ("ORDER_PAGE_SIZE", "ten", "ORDER_PAGE_SIZE must be a whole number"),
        ("MASS_QUARANTINE_SHARE", "20", "MASS_QUARANTINE_SHARE is a share between 0 and 1"),
        ("ORDER_PRICE_POLICY", "cheapest", "ORDER_PRICE_POLICY must be one of"),
        ("LEDGER_DATABASE_URL", "mysql://x", "LEDGER_DATABASE_URL must be a sqlite"),
    ],
)
def test_malformed_setting_names_its_variable(env, value, message):
    with pytest.raises(settings.SettingError, match=message):
        settings.read(env, {env: value})


def test_secrets_are_always_env_vars_and_never_defaults(monkeypatch):
    monkeypatch.delenv("SPARKLAYER_CLIENT_SECRET", raising=False)
    assert isinstance(env_or_default("SPARKLAYER_CLIENT_SECRET"), dg.EnvVar)
    assert env_or_default("SPARKLAYER_SITE_ID") == "demo-site"
    monkeypatch.setenv("SPARKLAYER_SITE_ID", "acme-live")
    assert isinstance(env_or_default("SPARKLAYER_SITE_ID"), dg.EnvVar)


def test_missing_secret_fails_at_run_time_naming_the_variable(monkeypatch):
    monkeypatch.delenv("SPARKLAYER_CLIENT_SECRET", raising=False)
    with pytest.raises(Exception, match="SPARKLAYER_CLIENT_SECRET"), \
            dg.build_resources({"sparklayer": build_resources()["sparklayer"]}):
        pass


def test_env_var_is_resolved_and_checked_by_the_resource(monkeypatch):
    monkeypatch.setenv("SPARKLAYER_BASE_URL", "not a url")
    monkeypatch.setenv("SPARKLAYER_CLIENT_SECRET", "s3cret-value")
    with dg.build_resources({"sparklayer": build_resources()["sparklayer"]}) as res:
        assert res.sparklayer.base_url == "not a url"
        with pytest.raises(settings.SettingError, match="SPARKLAYER_BASE_URL") as excinfo:
            res.sparklayer.client()
        assert "s3cret-value" not in str(excinfo.value)


def test_policy_values_are_typed():
    policy = PolicyResource(price_tolerance="0.05", page_size="50", mass_quarantine_share="0.25")
    assert policy.tolerance() == Decimal("0.05")
    assert policy.orders_per_tick() == 50
    assert policy.quarantine_share_limit() == Decimal("0.25")


def test_sparklayer_resource_rejects_unknown_pack_size_mode():
    res = SparkLayerResource(base_url="http://x", site_id="s", client_id="c", client_secret="k",
                             pack_size_mode="metafields")
    with pytest.raises(settings.SettingError, match="SPARKLAYER_PACK_SIZE_MODE"):
        res.pack_sizes_writable()
