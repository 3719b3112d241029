"""Month-end scenarios run on the same private ERP and shop per module as the monitoring ones."""

from sparklayer_erp_tests.monitoring.conftest import *  # noqa: F403 (pytest fixtures: erp_server, shop, ...)
