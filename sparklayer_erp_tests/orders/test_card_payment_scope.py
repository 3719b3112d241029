"""Which card orders the follow-up's card-payment step reads from the ERP on each run."""

from __future__ import annotations

from collections.abc import Sequence

from sparklayer_erp.domain.models import ErpOrderStatus
from sparklayer_erp.ledger import Ledger, SyncState
from sparklayer_erp.orders.followup import OrderFollowup


class StatusReads:
    """The ERP port's edge for this step: records which orders' status was asked, knows none of them."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    def order_status(self, erp_ids: Sequence[int]) -> list[ErpOrderStatus]:
        self.asked.extend(erp_ids)
        return []


def _card_order(ledger: Ledger, pid: str, erp_id: int, state: SyncState, status_written: bool,
                method: str = "platform_upfront") -> None:
    ledger.claim_order(pid, "C1001", method, None)
    ledger.update_order_link(pid, erp_order_id=erp_id, sync_state=state,
                             last_status_hash="h" if status_written else None)


def test_only_open_card_orders_are_read_not_every_card_order_ever_settled(tmp_path):
    with Ledger.from_url(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as ledger:
        _card_order(ledger, "committed", 1, SyncState.COMMITTED, status_written=True)
        _card_order(ledger, "allocated", 2, SyncState.HANDED_TO_ERP, status_written=True)
        _card_order(ledger, "just-settled", 3, SyncState.SETTLED, status_written=False)  # final status not out yet
        _card_order(ledger, "finished", 4, SyncState.SETTLED, status_written=True)  # settled and written back
        _card_order(ledger, "on-terms", 5, SyncState.COMMITTED, status_written=False, method="invoice")
        erp = StatusReads()

        report = OrderFollowup(ledger, erp, None).record_card_payments()  # type: ignore[arg-type]

    assert sorted(erp.asked) == [1, 2, 3]
    assert report.steps == []  # the ERP knew none of them: nothing to pay
