"""Browser tests against a real ``dagster dev`` (marker ``ui`` is registered in pyproject.toml)."""


# The private ERP and shop of the monitoring tests (see there why private).
from sparklayer_erp_tests.monitoring.conftest import (  # noqa: E402, F401
    admin,
    client,
    erp,
    erp_server,
    ledger,
    ledger_url,
    sandbox,
    shop,
    wh,
)
