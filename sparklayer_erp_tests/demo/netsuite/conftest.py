"""The emulator fixtures for these tests come from the root conftest (``sparklayer_erp_tests.netsuite_fixtures``)."""
