"""ERP_KIND picks the adapter the resources hand out: Tryton by default, NetSuite from the NETSUITE_* settings;
only the chosen ERP's variables are required, and a secret never shows in a message or a repr."""

from __future__ import annotations

import dagster as dg
import pytest

from sparklayer_erp import settings
from sparklayer_erp.demo.bootstrap import netsuite_environment
from sparklayer_erp.oncall import check_erp
from sparklayer_erp.resources import (
    ErpAdapter,
    ErpResource,
    build_resources,
    erp_location,
    erp_resource_from_settings,
)

TBA = {
    "ERP_KIND": "netsuite", "NETSUITE_ACCOUNT_ID": "1234567_SB1", "NETSUITE_AUTH": "tba",
    "NETSUITE_CONSUMER_KEY": "ck-public", "NETSUITE_CONSUMER_SECRET": "cs-s3cret-value",
    "NETSUITE_TOKEN_ID": "tk-public", "NETSUITE_TOKEN_SECRET": "ts-s3cret-value",
    "NETSUITE_LOCATIONS": "1=WH, 2=WH2", "NETSUITE_DEFAULT_LOCATION": "1", "NETSUITE_CONCURRENCY": "3",
}


@pytest.fixture
def netsuite_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in TBA.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ERP_PASSWORD", raising=False)  # Tryton's; not needed for NetSuite


def test_tryton_stays_the_default():
    assert settings.read("ERP_KIND", {}) == "tryton"
    resource = ErpResource(url="http://127.0.0.1:9", database="erp", login="integration", password="x")
    assert resource.kind() is ErpAdapter.tryton
    from sparklayer_erp.erp.tryton.adapter import TrytonErp

    port = resource.port()
    try:
        assert isinstance(port, TrytonErp)
    finally:
        port.close()


def test_netsuite_from_the_settings_in_a_dagster_run_without_a_tryton_password(netsuite_env):
    from sparklayer_erp.erp.netsuite.adapter import NetSuiteErp

    with dg.build_resources({"erp": build_resources()["erp"]}) as res:
        config = res.erp.values()
        assert (config.account_id, config.auth, config.concurrency) == ("1234567_SB1", "tba", 3)
        assert dict(config.locations) == {"1": "WH", "2": "WH2"} and config.default_location == "1"
        assert config.rest_root == "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest"
        assert "s3cret" not in repr(config)
        with res.erp.session() as port:
            assert isinstance(port, NetSuiteErp)


def test_the_emulator_or_a_proxy_is_reached_by_base_url(netsuite_env, monkeypatch):
    monkeypatch.setenv("NETSUITE_BASE_URL", "http://127.0.0.1:8710")
    config = erp_resource_from_settings().values()
    assert config.rest_root == "http://127.0.0.1:8710/services/rest"
    assert erp_location() == "NetSuite account 1234567_SB1 at http://127.0.0.1:8710"


def test_missing_netsuite_credentials_are_named_and_secrets_never_echoed(netsuite_env, monkeypatch):
    monkeypatch.delenv("NETSUITE_TOKEN_ID")
    with pytest.raises(settings.SettingError) as caught:
        erp_resource_from_settings().values()
    assert "NETSUITE_TOKEN_ID" in str(caught.value) and "s3cret" not in str(caught.value)

    monkeypatch.setenv("NETSUITE_AUTH", "oauth2")
    with pytest.raises(settings.SettingError) as caught:
        erp_resource_from_settings().values()
    message = str(caught.value)
    assert all(name in message for name in ("NETSUITE_CLIENT_ID", "NETSUITE_CERTIFICATE_ID", "NETSUITE_PRIVATE_KEY"))


@pytest.mark.parametrize(("env", "value", "message"), [
    ("ERP_KIND", "sap", "ERP_KIND must be one of tryton, netsuite"),
    ("NETSUITE_LOCATIONS", "1=WH,WH2", "NETSUITE_LOCATIONS is internal id=warehouse code pairs"),
    ("NETSUITE_LOCATIONS", "1=WH,2=WH", "NETSUITE_LOCATIONS names location 2 or warehouse WH twice"),
    ("NETSUITE_CONCURRENCY", "0", "NETSUITE_CONCURRENCY must be at least 1"),
    ("NETSUITE_BASE_URL", "emulator:8710", "NETSUITE_BASE_URL must be an http"),
])
def test_a_malformed_netsuite_setting_fails_at_setup_naming_it(netsuite_env, monkeypatch, env, value, message):
    monkeypatch.setenv(env, value)
    monkeypatch.setenv("ERP_PASSWORD", "x")  # an unknown ERP_KIND is not NetSuite: Tryton's password is asked for
    with pytest.raises(dg.DagsterResourceFunctionError) as caught, \
            dg.build_resources({"erp": build_resources()["erp"]}) as res:
        res.erp.values()
    assert message in str(caught.value.__cause__) and "s3cret" not in str(caught.value.__cause__)


def test_the_on_call_check_logs_in_to_netsuite_and_says_why_not_without_the_secret(netsuite_emulator):
    env = netsuite_environment(netsuite_emulator.settings("tba"))
    assert check_erp(env).problem is None
    wrong = check_erp({**env, "NETSUITE_TOKEN_SECRET": "wrong-s3cret-value"})
    assert "INVALID_LOGIN" in wrong.problem and "s3cret" not in wrong.problem
    assert "NETSUITE_TOKEN_ID" in check_erp({**env, "NETSUITE_TOKEN_ID": ""}).problem
