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


def _setup_failure(key: str, resource) -> str:
    """The set-up of one resource fails; returns what the run's error says (Dagster's wrapper and its cause)."""
    with pytest.raises(dg.DagsterResourceFunctionError) as excinfo, dg.build_resources({key: resource}):
        pass  # never reached: the resource's set-up checks every value before any client exists
    cause = excinfo.value.__cause__
    assert isinstance(cause, settings.SettingError)
    return f"{excinfo.value}\n{cause}"


def test_a_malformed_variable_fails_at_setup_naming_it_and_never_echoing_a_secret(monkeypatch):
    monkeypatch.setenv("SPARKLAYER_BASE_URL", "not a url")
    monkeypatch.setenv("SPARKLAYER_CLIENT_SECRET", "s3cret-value")
    resource = build_resources()["sparklayer"]
    assert isinstance(resource.base_url, dg.EnvVar)  # resolved at run time, not when the code loads
    message = _setup_failure("sparklayer", resource)
    assert "SPARKLAYER_BASE_URL must be an http" in message and "s3cret-value" not in message


def test_every_bad_variable_of_a_resource_is_named_at_once_and_passwords_in_urls_are_masked(monkeypatch):
    monkeypatch.setenv("LEDGER_DATABASE_URL", "mysql://ledger:hunter2@db.internal/ledger")
    message = _setup_failure("ledger", build_resources()["ledger"])
    assert "LEDGER_DATABASE_URL must be a sqlite" in message
    assert "hunter2" not in message and "ledger:***@db.internal" in message

    monkeypatch.setenv("ORDER_OVERLAP_SECONDS", "-5")
    monkeypatch.setenv("MASS_QUARANTINE_SHARE", "20")
    message = _setup_failure("policy", build_resources()["policy"])
    assert "ORDER_OVERLAP_SECONDS must not be negative" in message and "MASS_QUARANTINE_SHARE is a share" in message


def test_a_whole_number_that_is_not_one_fails_at_setup_naming_its_variable(monkeypatch):
    monkeypatch.setenv("ORDER_PAGE_SIZE", "ten")
    policy = build_resources()["policy"]
    with pytest.raises(dg.DagsterInvalidConfigError, match='env variable "ORDER_PAGE_SIZE"'), \
            dg.build_resources({"policy": policy}):
        pass
    monkeypatch.setenv("ORDER_PAGE_SIZE", "25")
    with dg.build_resources({"policy": policy}) as res:
        assert res.policy.page_size == 25 and res.policy.orders_per_tick() == 25


def test_a_blank_secret_fails_at_setup_naming_it(monkeypatch):
    monkeypatch.setenv("ERP_PASSWORD", "   ")
    assert "ERP_PASSWORD must not be empty" in _setup_failure("erp", build_resources()["erp"])


def test_values_are_checked_once_per_setup_not_per_call(monkeypatch):
    calls: list[str] = []
    real = settings.check

    def counted(env, value):
        calls.append(env)
        return real(env, value)

    monkeypatch.setattr(settings, "check", counted)
    with dg.build_resources({"policy": build_resources()["policy"]}) as res:
        checked = len(calls)
        assert checked >= 9  # every policy variable, at set-up
        for _ in range(100):
            res.policy.tolerance(), res.policy.overlap(), res.policy.orders_per_tick(), res.policy.policy()
        assert len(calls) == checked


def test_policy_values_are_typed():
    policy = PolicyResource(price_tolerance="0.05", page_size=50, mass_quarantine_share="0.25",
                            price_policy="erp_wins")
    assert policy.tolerance() == Decimal("0.05")
    assert policy.orders_per_tick() == 50 and policy.overlap() == 120
    assert policy.quarantine_share_limit() == Decimal("0.25")
    assert policy.policy() == "erp_wins" and type(policy.policy()) is str
    assert PolicyResource(page_size="7").page_size == 7  # a whole number given as text still works
    assert isinstance(build_resources()["policy"].page_size, int)


def test_sparklayer_resource_rejects_unknown_pack_size_mode():
    res = SparkLayerResource(base_url="http://x", site_id="s", client_id="c", client_secret="k",
                             pack_size_mode="metafields")
    with pytest.raises(settings.SettingError, match="SPARKLAYER_PACK_SIZE_MODE"):
        res.pack_sizes_writable()
