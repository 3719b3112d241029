"""Master data, ERP → SparkLayer, first half: read the ERP, gate each frame, quarantine what fails.

1. **extract** (``extract_*``): the ERP port's answer becomes a frame and passes its pandera gate
   (``masterdata.gates.split_valid``). Rows that fail are *held*, not dropped from SparkLayer: SparkLayer keeps
   its last good copy until the ERP is corrected.
2. **quarantine** (``record_quarantine``): every held record is an exception with its owner team; it is
   resolved by itself at the first extract where the record passes. ``gate_decision`` stops a whole dataset
   when too much of it failed at once (a broken extract must not wipe SparkLayer).

The push of what passed is ``sync.py``. Plain Python, no Dagster.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
import pandera.pandas as pa

from sparklayer_erp.domain import masterdata as md
from sparklayer_erp.domain.exception_kinds import Entity, Problem
from sparklayer_erp.erp.port import ErpPort
from sparklayer_erp.ledger import Ledger
from sparklayer_erp.masterdata.gates import (
    CustomersFrame,
    ItemsFrame,
    PriceListsFrame,
    PricesFrame,
    StockFrame,
    customers_frame,
    items_frame,
    price_lists_frame,
    prices_frame,
    split_valid,
    stock_frame,
)
from sparklayer_erp.masterdata.gates.gate import REASONS
from sparklayer_erp.plumbing.markdown import cell

log = logging.getLogger(__name__)

# Where an exception came from, kept in its detail: the ERP gate (resolved by the next extract that no longer
# holds the record).
GATE_SOURCE = "erp_gate"


# --- datasets -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """One ERP extract: its gate, its key, the SparkLayer sync-log data type it reports under."""

    name: str
    model: type[pa.DataFrameModel]
    key_cols: tuple[str, ...]
    sync_name: str  # SparkLayer sync-log data type == ledger sync-status name (drift watches these)
    label: str  # plain words for people


CUSTOMERS = Dataset("customers", CustomersFrame, ("account_code",), "customers", "customer records")
PRICE_LISTS = Dataset("price_lists", PriceListsFrame, ("code",), "prices", "price lists")
PRICES = Dataset("prices", PricesFrame, md.PRICE_KEY, "prices", "prices")
ITEMS = Dataset("items", ItemsFrame, ("sku",), "products", "items")
STOCK = Dataset("stock", StockFrame, ("sku", "warehouse_code"), "stock", "stock figures")
DATASETS: Mapping[str, Dataset] = {d.name: d for d in (CUSTOMERS, PRICE_LISTS, PRICES, ITEMS, STOCK)}


@dataclass(frozen=True)
class Extract:
    """An ERP extract after its gate: the rows that may go to SparkLayer and the rows held back."""

    dataset: str
    valid: pd.DataFrame
    quarantined: pd.DataFrame  # the same columns plus ``reasons`` and ``failed_checks``

    @property
    def spec(self) -> Dataset:
        return DATASETS[self.dataset]

    @property
    def read_count(self) -> int:
        return len(self.valid) + len(self.quarantined)

    @property
    def valid_count(self) -> int:
        return len(self.valid)

    @property
    def quarantined_count(self) -> int:
        return len(self.quarantined)

    @property
    def share(self) -> Decimal:
        return md.quarantine_share(self.valid_count, self.quarantined_count)

    def held_keys(self) -> set[Hashable]:
        """Keys of the held rows (a key cell that is missing cannot name anything in SparkLayer: skipped)."""
        cols = list(self.spec.key_cols)
        out: set[Hashable] = set()
        for values in self.quarantined[cols].itertuples(index=False, name=None):
            if any(not isinstance(v, str) or not v.strip() for v in values):
                continue
            out.add(values[0] if len(values) == 1 else tuple(values))
        return out

    def problems(self) -> list[Problem]:
        return md.quarantine_problems(self.dataset, self.quarantined)


def gate(dataset: Dataset, frame: pd.DataFrame) -> Extract:
    valid, quarantined = split_valid(frame, dataset.model)
    return Extract(dataset.name, valid, quarantined)


def extract_customers(port: ErpPort) -> Extract:
    return gate(CUSTOMERS, customers_frame(port.list_customers()))


def extract_price_lists(port: ErpPort) -> Extract:
    return gate(PRICE_LISTS, price_lists_frame(port.list_price_lists()))


def extract_prices(port: ErpPort, quantity_breaks: Sequence[int]) -> Extract:
    return gate(PRICES, prices_frame(port.list_prices(quantity_breaks)))


def extract_items(port: ErpPort) -> Extract:
    return gate(ITEMS, items_frame(port.list_items()))


def extract_stock(port: ErpPort) -> Extract:
    return gate(STOCK, stock_frame(port.list_stock()))


def quarantine_preview(extract: Extract, limit: int = 25) -> str:
    """A markdown table of held rows with their reasons, for the Dagster UI."""
    if extract.quarantined.empty:
        return "Nothing held back: every row passed its checks."
    cols = [c for c in extract.spec.key_cols if c in extract.quarantined.columns]
    lines = ["| " + " | ".join([*cols, "why it was held back"]) + " |", "|" + "---|" * (len(cols) + 1)]
    for record in extract.quarantined.head(limit).to_dict("records"):
        keys = [cell(record.get(c), missing="(missing)") for c in cols]
        reasons = "; ".join(record.get(REASONS) or ())
        lines.append("| " + " | ".join([*keys, cell(reasons, missing="(missing)")]) + " |")
    if extract.quarantined_count > limit:
        lines.append(f"\n…and {extract.quarantined_count - limit} more (see the open exceptions).")
    return "\n".join(lines)


# --- quarantine → exceptions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuarantineOutcome:
    raised: int
    resolved: int
    problems: tuple[Problem, ...]


def record_quarantine(ledger: Ledger, extract: Extract) -> QuarantineOutcome:
    """Open (or keep open) one exception per held record; resolve the ones of this dataset now fixed.

    Resolution is scoped to this dataset's own gate exceptions (by entity type and the ``dataset`` marker
    in the detail): price lists and prices share the kind ``price_invalid``, and the order sync raises
    ``item_invalid`` about orders; neither must be closed by this extract.
    """
    problems = extract.problems()
    for p in problems:
        raise_problem(ledger, p, dataset=extract.dataset, source=GATE_SOURCE)
    kind = md.QUARANTINE_DATASETS[extract.dataset].kind
    seen = {(p.entity_type, p.entity_id) for p in problems}
    resolved = resolve_gone(ledger, kind, extract.dataset, GATE_SOURCE, seen)
    return QuarantineOutcome(raised=len(problems), resolved=resolved, problems=tuple(problems))


def raise_problem(ledger: Ledger, p: Problem, *, dataset: str, source: str) -> None:
    """Open (or count again) the exception for ``p``, remembering which dataset and which side raised it."""
    detail = {**p.detail, "dataset": dataset, "source": source}
    ledger.raise_exception(p.kind, p.owner_team, p.entity_type, p.entity_id, p.message, p.action, detail)


def resolve_gone(ledger: Ledger, kind: str, dataset: str, source: str, still_there: set[tuple[str, str]]) -> int:
    """Resolve live exceptions of ``kind`` raised by ``dataset``/``source`` whose entity is not in
    ``still_there`` — the ledger's ``resolve_unseen`` narrowed to the rows this step owns."""
    resolved = 0
    for row in ledger.open_exceptions(kind, include_accepted=True):
        detail = row.detail or {}
        if detail.get("dataset") != dataset or detail.get("source") != source:
            continue
        if (row.entity_type, row.entity_id) not in still_there and ledger.resolve(
                kind, row.entity_type, row.entity_id):
            resolved += 1
    return resolved


@dataclass(frozen=True)
class GateDecision:
    blocked: bool
    share: Decimal
    limit: Decimal

    @property
    def description(self) -> str:
        shown = f"{self.share:.1%} of the rows failed their checks (limit {self.limit:.0%})"
        return ("Push stopped: " + shown) if self.blocked else ("Push allowed: " + shown)


def gate_decision(ledger: Ledger, extract: Extract, limit: Decimal) -> GateDecision:
    """Block the dataset's push when more than ``limit`` of it was held back; raise or resolve the
    ``mass_quarantine`` exception (owner: operations) to match."""
    blocked = md.mass_quarantine_blocks(extract.share, limit)
    if blocked:
        p = md.mass_quarantine_problem(extract.dataset, extract.valid_count, extract.quarantined_count)
        raise_problem(ledger, p, dataset=extract.dataset, source=GATE_SOURCE)
    else:
        ledger.resolve("mass_quarantine", Entity.DATASET, extract.dataset)
    return GateDecision(blocked=blocked, share=extract.share, limit=Decimal(limit))
