"""The emulator fixtures for these tests."""

pytest_plugins = ["sparklayer_erp_tests.netsuite_fixtures"]
