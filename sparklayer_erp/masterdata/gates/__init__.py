"""pandera models: the gates master data passes before it may reach SparkLayer.

``split_valid(frame, Model)`` (``gate.py``) keeps the good rows and holds back the rest with plain reasons;
the frames are built from the ERP port's dataclasses by ``frames_from_erp.py``. One module per dataset:
``customers.py``, ``prices.py`` (price lists and prices), ``items.py`` (items and stock); ``values.py``
holds the cell checks and normalisers they share. Nothing here imports Dagster:
``sparklayer_erp.plumbing.pandera_types`` turns a model into a Dagster type for the assets.
"""

from sparklayer_erp.masterdata.gates.customers import CustomersFrame
from sparklayer_erp.masterdata.gates.frames_from_erp import (
    customers_frame,
    items_frame,
    price_lists_frame,
    prices_frame,
    stock_frame,
)
from sparklayer_erp.masterdata.gates.gate import FAILED_CHECKS, REASONS, split_valid
from sparklayer_erp.masterdata.gates.items import ItemsFrame, StockFrame
from sparklayer_erp.masterdata.gates.prices import PriceListsFrame, PricesFrame

__all__ = [
    "FAILED_CHECKS",
    "REASONS",
    "CustomersFrame",
    "ItemsFrame",
    "PriceListsFrame",
    "PricesFrame",
    "StockFrame",
    "customers_frame",
    "items_frame",
    "price_lists_frame",
    "prices_frame",
    "split_valid",
    "stock_frame",
]
