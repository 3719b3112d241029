"""Audit log: every write is recorded with a digest of the request, never the request or a secret."""

from __future__ import annotations

import hashlib
import json

import pytest
import sqlalchemy as sa

from sparklayer_erp.ledger import AuditOutcome, AuditSystem, Ledger
from sparklayer_erp.ledger.digest import canonical_json, request_digest
from sparklayer_erp_tests.ledger.conftest import Clock

MARKER = "PO-MARKER-7f3a9c"  # would show up in any column if the body leaked
SECRET = "sk_live_do_not_store_91b2"


def _whole_table_text(ledger: Ledger) -> str:
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM audit_log")).all()
    return json.dumps([list(map(str, row)) for row in rows])


def test_digest_is_sha256_of_the_exact_body(ledger: Ledger, clock: Clock) -> None:
    body = json.dumps({"po_number": MARKER, "lines": [{"sku": "A", "qty": 12}]}).encode()
    audit_id = ledger.audit(AuditSystem.ERP, "create_sale", "P-1", body, AuditOutcome.OK, {"erp_id": 41})
    (entry,) = ledger.audit_entries(key="P-1")
    assert entry.id == audit_id
    assert entry.request_digest == hashlib.sha256(body).hexdigest()
    assert (entry.system, entry.operation, entry.outcome, entry.at) == ("erp", "create_sale", "ok", clock.now)
    assert entry.detail == {"erp_id": 41}
    assert MARKER not in _whole_table_text(ledger)


def test_body_forms_and_secrets_never_stored(ledger: Ledger) -> None:
    as_dict = {"po_number": MARKER, "client_secret": SECRET}
    ledger.audit("sparklayer", "put_purchase", "P-1", as_dict, "refused", {"authorization": f"Bearer {SECRET}"})
    ledger.audit("sparklayer", "put_purchase", "P-2", f"{MARKER} {SECRET}", "error")
    ledger.audit("erp", "cancel", "P-3", None, "ok")
    stored = _whole_table_text(ledger)
    assert MARKER not in stored and SECRET not in stored

    first, second, third = ledger.audit_entries()
    assert first.request_digest == hashlib.sha256(canonical_json(as_dict)).hexdigest()
    assert first.request_digest == request_digest({"client_secret": SECRET, "po_number": MARKER})  # key order
    assert first.detail == {"authorization": "***"}
    assert second.request_digest == hashlib.sha256(f"{MARKER} {SECRET}".encode()).hexdigest()
    assert third.request_digest is None
    assert [e.key for e in ledger.audit_entries(system="sparklayer")] == ["P-1", "P-2"]
    assert [e.key for e in ledger.audit_entries(operation="cancel")] == ["P-3"]


def test_unknown_system_or_outcome_is_refused(ledger: Ledger) -> None:
    with pytest.raises(ValueError):
        ledger.audit("shopify", "x", "k", None, "ok")
    with pytest.raises(ValueError):
        ledger.audit("erp", "x", "k", None, "maybe")
    with pytest.raises(sa.exc.IntegrityError), ledger.engine.begin() as conn:  # and the database agrees
        conn.execute(
            sa.text(
                "INSERT INTO audit_log (at, system, operation, key, outcome)"
                " VALUES (CURRENT_TIMESTAMP, 'shopify', 'x', 'k', 'ok')"
            )
        )
