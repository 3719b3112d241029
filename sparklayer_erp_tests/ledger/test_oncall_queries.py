"""The ledger queries the on-call command line asks: an order by the names people use, recent linked orders,
and exceptions in any status, by team, by entity, or by words in their message or detail."""

from __future__ import annotations

from sparklayer_erp.ledger import Ledger


def _order(ledger: Ledger, pid: str, erp_id: int | None = None, number: str | None = None) -> None:
    ledger.claim_order(pid, "C1", "invoice", "h")
    if erp_id is not None:
        ledger.update_order_link(pid, erp_order_id=erp_id, erp_order_number=number, sync_state="committed")


def test_an_order_is_found_by_purchase_id_or_erp_number(ledger: Ledger, clock):
    _order(ledger, "P-1", 11, "SO-11")
    clock.advance(minutes=1)
    _order(ledger, "P-2", 12, "P-1")  # an ERP number that happens to equal another purchase id
    _order(ledger, "P-3")

    assert [link.purchase_id for link in ledger.find_order_links("P-1")] == ["P-1", "P-2"]
    assert [link.purchase_id for link in ledger.find_order_links(" SO-11 ")] == ["P-1"]
    assert ledger.find_order_links("nope") == []


def test_an_order_is_found_by_the_buyers_po_number(ledger: Ledger):
    ledger.claim_order("P-9", "C1", "invoice", "h", po_number="PO-4471")
    ledger.claim_orders([{"purchase_id": "P-10", "payment_method": "invoice", "po_number": "PO-4472"}])
    ledger.update_order_link("P-10", po_number="PO-4473")  # the buyer changed it in SparkLayer

    assert [link.purchase_id for link in ledger.find_order_links("PO-4471")] == ["P-9"]
    assert ledger.get_order_link("P-9").po_number == "PO-4471"
    assert [link.purchase_id for link in ledger.find_order_links("PO-4473")] == ["P-10"]
    assert ledger.find_order_links("PO-4472") == []


def test_recent_links_are_newest_first_and_only_those_in_the_erp_by_default(ledger: Ledger, clock):
    for n in range(4):
        clock.advance(minutes=1)
        _order(ledger, f"P-{n}", 100 + n if n != 2 else None, f"SO-{n}")
    clock.advance(minutes=1)
    ledger.update_order_link("P-0", sync_state="settled")  # touched last

    assert [link.purchase_id for link in ledger.recent_order_links(10)] == ["P-0", "P-3", "P-1"]
    assert [link.purchase_id for link in ledger.recent_order_links(2)] == ["P-0", "P-3"]
    assert len(ledger.recent_order_links(10, with_erp_order=False)) == 4


def test_exceptions_in_every_status_by_team_entity_and_words(ledger: Ledger, clock):
    held = ledger.raise_exception("missing_customer_link", "sales_operations", "order", "P-1",
                                  "Order P-1 (PO PO-7%_) has no customer link", "Link it",
                                  {"order": "P-1 (PO PO-7%_)"})
    clock.advance(minutes=1)
    price = ledger.raise_exception("price_mismatch", "finance", "order", "P-2", "Order P-2 prices differ",
                                   "Check", {"order": "P-2 (PO PO-77)", "sku": "SKU-ü"})
    clock.advance(minutes=1)
    sku = ledger.raise_exception("unknown_sku", "ecommerce", "sku", "SKU-9", "SKU-9 unknown", "Add it")
    ledger.accept(price.id, "agreed", "Fiona")
    ledger.resolve("unknown_sku", "sku", "SKU-9")

    def ids(**kw):
        return [r.id for r in ledger.exceptions(**kw)]

    assert ids() == [held.id, price.id, sku.id]
    assert ids(statuses=["open"]) == [held.id]
    assert ids(statuses=["accepted", "resolved"]) == [price.id, sku.id]
    assert ids(owner_team="finance") == [price.id]
    assert ids(entity_type="order") == [held.id, price.id]
    assert ids(entity_ids=["P-2", "SKU-9"]) == [price.id, sku.id]
    assert ids(entity_ids=[]) == []
    # words: the message or the detail; LIKE wildcards in the words are plain characters
    assert ids(mentioning="(PO PO-7%_)") == [held.id]
    assert ids(mentioning="(PO PO-77)") == [price.id]  # only in the detail
    assert ids(mentioning="(PO PO-7") == [held.id, price.id]
    assert ids(mentioning="PO-7__") == []
    assert ids(mentioning="unknown", limit=1) == [sku.id]
