"""The NetSuite adapter for the ERP port: ``NetSuiteErp(config)``.

Assembled from parts, each in a module named for what it holds: ``client`` (auth, governance, record
service, SuiteQL paging), ``records`` (cached reference data and the worker pool), ``masterdata``
(customers, prices, items, stock), ``orders`` (order reads and writes, payments), ``credit_notes``
(credit memos against invoices), ``mapping`` (pure conversions), ``queries`` (every SuiteQL statement) and
``conventions`` (every choice NetSuite's documentation leaves open, with what a first tenant should verify).
"""

from __future__ import annotations

from types import TracebackType

from sparklayer_erp.erp.netsuite.client import NetSuiteHttp
from sparklayer_erp.erp.netsuite.config import NetSuiteConfig
from sparklayer_erp.erp.netsuite.credit_notes import CreditNoteOps

__all__ = ["NetSuiteConfig", "NetSuiteErp"]


class NetSuiteErp(CreditNoteOps):
    """``ErpPort`` and ``ErpCreditNotes`` on a NetSuite account over SuiteTalk REST. One instance per run;
    ``close()`` ends it."""

    def __init__(self, config: NetSuiteConfig, *, http: NetSuiteHttp | None = None) -> None:
        super().__init__(config, http=http)

    def __enter__(self) -> NetSuiteErp:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"NetSuiteErp(account={self.config.account_id!r})"
