"""Entry points: the adapter settings helper and the command line's ``--print-env``."""

from __future__ import annotations

import pytest

from sparklayer_erp.demo.netsuite import server
from sparklayer_erp.demo.netsuite.staff import NetSuiteStaff
from sparklayer_erp_tests.netsuite_fixtures import NetSuiteEmulator


def test_print_env_lists_every_adapter_setting(capsys: pytest.CaptureFixture[str]) -> None:
    assert server.main(["--print-env", "--port", "8811"]) == 0
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert lines["NETSUITE_BASE_URL"] == "http://127.0.0.1:8811"
    assert lines["NETSUITE_PRIVATE_KEY"].startswith("-----BEGIN PRIVATE KEY-----\\n")
    assert {"NETSUITE_ACCOUNT_ID", "NETSUITE_CLIENT_ID", "NETSUITE_CERTIFICATE_ID", "NETSUITE_TOKEN_ID"} <= set(lines)


def test_fixture_settings_point_at_the_running_emulator(netsuite: NetSuiteEmulator) -> None:
    settings = netsuite.settings()
    assert settings["NETSUITE_BASE_URL"] == netsuite.base_url
    assert settings["NETSUITE_ACCOUNT_ID"] == netsuite.account_id
    assert settings["NETSUITE_CLIENT_ID"] == netsuite.client_id
    staff = NetSuiteStaff(settings["NETSUITE_BASE_URL"])
    try:
        assert staff.customer_id("C1001") > 0
    finally:
        staff.close()
