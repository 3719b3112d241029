"""Pack sizes on a platform-connected store (SPARKLAYER_PACK_SIZE_MODE=ledger): nothing written to
SparkLayer, the mapping recorded in the ledger, one ``pack_size_gap`` exception per SKU sold in packs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.domain.models import OwnerTeam
from sparklayer_erp.masterdata.sync import HASH_PACK_SIZES_RECORDED
from sparklayer_erp_tests.masterdata.conftest import World, make_world

pytestmark = pytest.mark.tryton

ITEMS = ["erp_items", "sparklayer_pack_sizes"]


@pytest.fixture(scope="module")
def ledger_world(tryton_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from make_world(tryton_server, tmp_path_factory.mktemp("packs"))


def test_pack_sizes_are_recorded_and_reported_as_a_gap_for_ecommerce(ledger_world: World) -> None:
    since = ledger_world.last_seq()
    result = ledger_world.materialize(ITEMS, pack_size_mode="ledger")
    assert result.success
    writes = ledger_world.writes_since(since)
    assert [w["path"] for w in writes] == ["/api/v1/sync-log/sparklayer-erp/products"]  # no variant written
    ledger = ledger_world.ledger
    assert len(ledger.load_push_hashes(HASH_PACK_SIZES_RECORDED)) >= len(demo_data.PRODUCTS)
    gaps = {e.entity_id: e for e in ledger.open_exceptions("pack_size_gap")}
    in_packs = {p.sku: p.pack_size for p in demo_data.PRODUCTS if p.pack_size > 1}
    assert set(in_packs) <= set(gaps)
    assert not {p.sku for p in demo_data.PRODUCTS if p.pack_size == 1} & set(gaps)
    cola = gaps["SKU-COLA-L"]
    assert cola.owner_team == OwnerTeam.ECOMMERCE and "packs of 12" in cola.message

    # nothing changed: nothing written, the gaps stay open (counted once, not re-raised)
    since = ledger_world.last_seq()
    assert ledger_world.materialize(ITEMS, pack_size_mode="ledger").success
    assert ledger_world.writes_since(since) == []
    assert {e.entity_id: e.count for e in ledger.open_exceptions("pack_size_gap")} == {k: 1 for k in gaps}

    # the store can hold the rule after all (mode switched to variants): every pack size is written once
    # and the gaps close by themselves
    since = ledger_world.last_seq()
    assert ledger_world.materialize(ITEMS, pack_size_mode="variants").success
    written = {w["path"].rsplit("/", 1)[-1] for w in ledger_world.writes_since(since) if "/variants/" in w["path"]}
    assert {p.sku for p in demo_data.PRODUCTS} <= written
    assert ledger.open_exceptions("pack_size_gap") == []
