"""A sync process that dies (SIGKILL) right after the ERP created the orders, before the ledger heard of it.

Run as ``python -m sparklayer_erp_tests.orders.crash_worker <ledger-url> <sandbox-url> <erp-url> <erp-db>
<erp-login> <purchase-id>...`` with the ERP password in ``ERP_PASSWORD``. It exits only by being killed.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence

from sparklayer_erp.domain.models import CreateResult, ErpOrderDraft
from sparklayer_erp.erp.tryton.adapter import TrytonErp
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.orders.sync import OrderSync, fetch_requested
from sparklayer_erp.sparklayer.client import SparkLayerClient
from sparklayer_erp_tests.orders.shop import SITE


class DiesAfterCreate(TrytonErp):
    def create_orders(self, drafts: Sequence[ErpOrderDraft]) -> list[CreateResult]:
        super().create_orders(drafts)  # the ERP has committed the orders ...
        os.kill(os.getpid(), signal.SIGKILL)  # ... and the process is gone before anything else happens
        raise AssertionError("unreachable")


def main(argv: list[str]) -> None:
    ledger_url, sandbox_url, erp_url, erp_db, erp_login, *purchase_ids = argv
    erp = DiesAfterCreate(erp_url, erp_db, erp_login, os.environ["ERP_PASSWORD"])
    client = SparkLayerClient(sandbox_url, SITE["site_id"], SITE["client_id"], SITE["client_secret"])
    OrderSync(Ledger.from_url(ledger_url), erp).run(fetch_requested(client, purchase_ids, None))
    raise SystemExit("the sync finished although it should have been killed")


if __name__ == "__main__":
    main(sys.argv[1:])
