"""What the master-data assets and jobs need to know when the code location loads, without pandas or pandera.

Every Dagster run worker imports the whole code location before its run, the order sync's included, so
nothing here may import pandas, numpy or pandera: the descriptors name each dataset's pandera model by import
path, and the assets import it (with ``extract.py``, ``sync.py`` and ``resend.py``) only when a step runs.
``extract.DATASETS`` holds the full datasets (model class, key columns); a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

RESEND_JOB_NAME = "master_data_resend_job"
RESEND_OP_NAME = "master_data_resend"


@dataclass(frozen=True)
class DatasetInfo:
    """One ERP extract as the asset definitions see it: names and words, the pandera model by path only."""

    name: str
    label: str  # plain words for people
    sync_name: str  # SparkLayer sync-log data type == ledger sync-status name
    model_path: str  # "module:Class" of the pandera model the extract passes
    model_doc: str  # the model's docstring, shown as the Dagster type's description

    @property
    def model_name(self) -> str:
        return self.model_path.rpartition(":")[2]

    @property
    def type_name(self) -> str:
        """The extract's Dagster type: the model's class name + ``Extract``."""
        return f"{self.model_name}Extract"

    @property
    def type_description(self) -> str:
        return f"ERP {self.label} after the gate: {self.model_doc}"


CUSTOMERS = DatasetInfo(
    "customers", "customer records", "customers", "sparklayer_erp.masterdata.gates.customers:CustomersFrame",
    "ERP customers as they will appear in SparkLayer: one row per ERP account.")
PRICE_LISTS = DatasetInfo(
    "price_lists", "price lists", "prices", "sparklayer_erp.masterdata.gates.prices:PriceListsFrame",
    "ERP price lists: the price levels (Trade, Wholesale, …) and each customer's contract list.")
PRICES = DatasetInfo(
    "prices", "prices", "prices", "sparklayer_erp.masterdata.gates.prices:PricesFrame",
    "ERP price points: the price per base unit of one SKU on one list, from a minimum quantity up.")
ITEMS = DatasetInfo(
    "items", "items", "products", "sparklayer_erp.masterdata.gates.items:ItemsFrame",
    "ERP items: what the ERP sells, in which unit, and how many base units make one sale unit.")
STOCK = DatasetInfo(
    "stock", "stock figures", "stock", "sparklayer_erp.masterdata.gates.items:StockFrame",
    "ERP stock per item and warehouse, in base units.\n\n"
    "A negative quantity on hand is accepted (ERPs allow shipping before a receipt is booked): it means\n"
    "nothing is available, and publishing 0 is safer than keeping the last, higher, figure in the shop.")
DATASETS: Mapping[str, DatasetInfo] = {d.name: d for d in (CUSTOMERS, PRICE_LISTS, PRICES, ITEMS, STOCK)}
