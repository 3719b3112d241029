"""The local Tryton ERP, end to end: built from the pinned venv, seeded from demo_data, served over JSON-RPC.

Everything here talks to a real trytond process with plain httpx, as the integration user.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from sparklayer_erp.demo import demo_data
from sparklayer_erp.demo import tryton_local as local
from sparklayer_erp.erp.tryton import conventions

pytestmark = pytest.mark.tryton


def _decode(obj: dict):
    if obj.get("__class__") == "Decimal":
        return Decimal(obj["decimal"])
    if obj.get("__class__") == "date":
        return dt.date(obj["year"], obj["month"], obj["day"])
    return obj


def _encode(value):
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    raise TypeError(type(value))


class RawRpc:
    """Just enough JSON-RPC for these tests; the project's client is sparklayer_erp.erp.tryton.rpc."""

    def __init__(self, rpc_url: str, login: str, password: str) -> None:
        self.url = rpc_url
        self.http = httpx.Client(timeout=60)
        self.ids = itertools.count(1)
        self.user_id, session, _ = self.call("common.db.login", [login, {"password": password}, "en"])
        token = base64.b64encode(f"{login}:{self.user_id}:{session}".encode()).decode()
        self.http.headers["Authorization"] = f"Session {token}"
        self.context = self.call("model.res.user.get_preferences", [True, {}])

    def raw(self, method: str, params: list) -> httpx.Response:
        return self.http.post(self.url, content=json.dumps(
            {"id": next(self.ids), "method": method, "params": params}, default=_encode),
            headers={"Content-Type": "application/json"})

    def call(self, method: str, params: list):
        reply = self.raw(method, params)
        assert reply.status_code == 200, reply.status_code
        data = json.loads(reply.text, object_hook=_decode)
        if data.get("error"):
            raise RpcError(data["error"])
        return data["result"]

    def model(self, model: str, method: str, *args, context: dict | None = None):
        return self.call(f"model.{model}.{method}", [*args, {**self.context, **(context or {})}])

    def search_read(self, model: str, domain: list, fields: list[str], context: dict | None = None) -> list:
        return self.model(model, "search_read", domain, 0, None, None, fields, context=context)


class RpcError(Exception):
    def __init__(self, error: list) -> None:
        super().__init__(str(error)[:300])
        self.kind = error[0]
        self.message = error[1][0] if error[0] == "UserError" else str(error[1])


@pytest.fixture(scope="module")
def seeded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[local.TrytonServer]:
    """A private copy of the seeded ERP: these tests check the seed itself, and the session's shared Tryton
    carries whatever the modules that ran before (in random order) shipped or changed."""
    server = local.start_server(db_copy_dir=tmp_path_factory.mktemp("tryton-seeded"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def rpc(seeded_server: local.TrytonServer) -> RawRpc:
    return RawRpc(seeded_server.rpc_url, seeded_server.login, seeded_server.password)


def _id_by(rpc: RawRpc, model: str, field: str, value: str) -> int:
    (row,) = rpc.search_read(model, [[field, "=", value]], ["id"])
    return row["id"]


def _sale_values(rpc: RawRpc, account_code: str, sku: str, quantity: int, unit_name: str,
                 purchase_id: str) -> dict:
    (party,) = rpc.search_read("party.party", [["code", "=", account_code]], ["addresses"])
    return {
        "party": party["id"], "invoice_address": party["addresses"][0],
        "shipment_address": party["addresses"][0], "reference": f"PO-{purchase_id[:8]}",
        conventions.WEB_SHOP_FIELD: _id_by(rpc, "web.shop", "name", conventions.WEB_SHOP_NAME),
        conventions.PURCHASE_ID_FIELD: purchase_id,
        "lines": [["create", [{
            "type": "line", "product": _id_by(rpc, "product.product", "code", sku), "quantity": quantity,
            "unit": _id_by(rpc, "product.uom", "name", unit_name), "unit_price": Decimal("1.00")}]]],
    }


# --- build and start ------------------------------------------------------------------------------------

def test_build_steps_are_cached_and_the_cache_is_a_single_file(tryton_server: local.TrytonServer) -> None:
    started = time.monotonic()
    venv = local.ensure_venv()
    cached = local.ensure_seeded_database()
    assert time.monotonic() - started < 2.0  # both already built: hash checks only
    assert (venv / "bin" / "trytond").exists()
    assert cached.name == f"erp-{local.cache_key()}.sqlite"
    assert not cached.with_name(cached.name + "-wal").exists()
    assert tryton_server.db_path != cached  # the server works on a copy, never on the cache


def test_server_answers_version_and_refuses_a_wrong_password(tryton_server: local.TrytonServer) -> None:
    version = httpx.post(f"{tryton_server.url}/rpc/",
                         json={"id": 1, "method": "common.server.version", "params": []}).json()
    assert version["result"] == "8.2"
    bad = httpx.post(tryton_server.rpc_url, json={
        "id": 2, "method": "common.db.login", "params": [conventions.INTEGRATION_LOGIN,
                                                         {"password": "not-the-password"}, "en"]})
    assert bad.status_code == 401


# --- the seed ----------------------------------------------------------------------------------------------

def test_seed_holds_every_demo_product_with_its_sale_unit(rpc: RawRpc) -> None:
    rows = rpc.search_read("product.product", [["salable", "=", True]],
                           ["code", "default_uom.name", "template.sale_uom.name", "list_price_used"])
    by_sku = {r["code"]: r for r in rows}
    assert len(rows) == 52
    assert set(by_sku) == {p.sku for p in demo_data.PRODUCTS}
    for p in demo_data.PRODUCTS:
        row = by_sku[p.sku]
        assert row["default_uom."]["name"] == "Unit"
        assert row["template."]["sale_uom."]["name"] == conventions.uom_name_for_pack_size(p.pack_size)
        assert row["list_price_used"] == p.list_price


def test_seed_holds_customers_with_codes_terms_limits_and_lists(rpc: RawRpc) -> None:
    rows = rpc.search_read(
        "party.party", [["code", "like", "C1%"]],
        ["code", "name", "credit_limit_amount", "customer_payment_term.name", "sale_price_list.name",
         "categories.name", "contact_mechanisms.value", "addresses.city"])
    by_code = {r["code"]: r for r in rows}
    assert set(by_code) == {c.account_code for c in demo_data.CUSTOMERS}
    for c in demo_data.CUSTOMERS:
        row = by_code[c.account_code]
        assert row["name"] == c.name
        assert row["customer_payment_term."]["name"] == c.payment_terms
        assert [m["value"] for m in row["contact_mechanisms."]] == [c.email]
        assert row["addresses."][0]["city"] == c.city
        expected_list = demo_data.contract_list_code(c.account_code) if c.contract_prices else c.price_level
        assert row["sale_price_list."]["name"] == expected_list
        on_hold = conventions.CREDIT_HOLD_CATEGORY in {cat["name"] for cat in row["categories."]}
        assert on_hold == c.on_credit_hold
        expected_limit = Decimal(0) if c.on_credit_hold else c.credit_limit
        assert row["credit_limit_amount"] == expected_limit
    assert by_code["C1007"]["credit_limit_amount"] == Decimal(0)


def test_seed_holds_level_and_contract_price_lists(rpc: RawRpc) -> None:
    names = {r["name"] for r in rpc.search_read("product.price_list", [], ["name"])}
    contracts = {demo_data.contract_list_code(c.account_code) for c in demo_data.CUSTOMERS if c.contract_prices}
    assert names == set(conventions.LEVEL_PRICE_LISTS) | contracts
    assert len(contracts) == 3


def test_stock_on_hand_in_both_warehouses_matches_demo_data(rpc: RawRpc) -> None:
    warehouses = {r["code"]: r["id"] for r in rpc.search_read(
        "stock.location", [["type", "=", "warehouse"]], ["code"])}
    assert set(warehouses) == set(conventions.WAREHOUSE_CODES)
    for code, warehouse_id in warehouses.items():
        rows = rpc.search_read("product.product", [["salable", "=", True]], ["code", "quantity"],
                               context={"locations": [warehouse_id]})
        assert {r["code"]: r["quantity"] for r in rows} == {p.sku: float(p.stock[code])
                                                           for p in demo_data.PRODUCTS}


def test_price_lists_apply_contract_prices_and_volume_breaks_in_base_units(rpc: RawRpc) -> None:
    def price(account_code: str, sku: str, quantity: int, unit_name: str) -> Decimal:
        (party,) = rpc.search_read("party.party", [["code", "=", account_code]], ["sale_price_list"])
        (row,) = rpc.search_read(
            "product.product", [["code", "=", sku]], ["sale_price_uom"],
            context={"customer": party["id"], "price_list": party["sale_price_list"], "quantity": quantity,
                     "uom": _id_by(rpc, "product.uom", "name", unit_name)})
        return row["sale_price_uom"]

    acme = demo_data.customer_by_code("C1001")
    contract_sku, contract_price = next(iter(acme.contract_prices.items()))
    assert price("C1001", contract_sku, 1, "Unit") == contract_price
    # C1002 is WHOLESALE (0.80; 0.76 from 240 units). 20 cases of 12 = 240 units reaches the break even
    # though the order quantity is 20: Tryton compares in the default unit.
    case12 = next(p for p in demo_data.PRODUCTS if p.pack_size == 12)
    assert price("C1002", case12.sku, 19, "Case of 12") == case12.list_price * Decimal("0.80") * 12
    assert price("C1002", case12.sku, 20, "Case of 12") == case12.list_price * Decimal("0.76") * 12


# --- orders ------------------------------------------------------------------------------------------------

def test_one_case_of_12_moves_forecast_by_12_units(rpc: RawRpc) -> None:
    case12 = next(p for p in demo_data.PRODUCTS if p.pack_size == 12)
    wh = _id_by(rpc, "stock.location", "code", "WH")

    def forecast() -> float:
        (row,) = rpc.search_read("product.product", [["code", "=", case12.sku]], ["forecast_quantity"],
                                 context={"locations": [wh]})
        return row["forecast_quantity"]

    before = forecast()
    (sale_id,) = rpc.model("sale.sale", "create", [_sale_values(
        rpc, "C1002", case12.sku, 1, "Case of 12", str(uuid.uuid4()))])
    rpc.model("sale.sale", "quote", [sale_id])
    rpc.model("sale.sale", "confirm", [sale_id])
    (sale,) = rpc.model("sale.sale", "read", [sale_id], ["state", "shipments.state", "shipments.moves"])
    assert sale["state"] == "processing"
    assert [s["state"] for s in sale["shipments."]] == ["waiting"]
    assert forecast() == before - 12


def test_a_purchase_id_cannot_be_used_twice_in_the_shop(rpc: RawRpc) -> None:
    purchase_id = str(uuid.uuid4())
    values = _sale_values(rpc, "C1003", "SKU-WATER-S", 5, "Unit", purchase_id)
    (first,) = rpc.model("sale.sale", "create", [values])
    with pytest.raises(RpcError) as refused:
        rpc.model("sale.sale", "create", [values])
    assert refused.value.kind == "UserError"
    found = rpc.search_read("sale.sale", [[conventions.PURCHASE_ID_FIELD, "=", purchase_id]], ["id"])
    assert [r["id"] for r in found] == [first]


def test_a_customer_on_credit_hold_cannot_have_an_order_confirmed(rpc: RawRpc) -> None:
    (sale_id,) = rpc.model("sale.sale", "create", [_sale_values(
        rpc, "C1007", "SKU-COLA-S", 1, "Unit", str(uuid.uuid4()))])
    rpc.model("sale.sale", "quote", [sale_id])
    with pytest.raises(RpcError) as refused:
        rpc.model("sale.sale", "confirm", [sale_id])
    # a hard UserError (not a skippable UserWarning): the integration user is outside the credit-limit group
    assert refused.value.kind == "UserError"
    assert "credit limit" in refused.value.message
    (sale,) = rpc.model("sale.sale", "read", [sale_id], ["state"])
    assert sale["state"] == "quotation"


# --- server lifecycle --------------------------------------------------------------------------------------

def test_password_from_env_is_applied_and_stop_leaves_no_process(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(conventions.PASSWORD_ENV, "rotated-secret-123")
    server = local.start_server(db_copy_dir=tmp_path)
    try:
        assert server.password == "rotated-secret-123"
        assert "rotated-secret-123" not in repr(server)
        login = {"id": 1, "method": "common.db.login",
                 "params": [server.login, {"password": conventions.DEFAULT_INTEGRATION_PASSWORD}, "en"]}
        assert httpx.post(server.rpc_url, json=login).status_code == 401
        process = server.process
    finally:
        server.stop()
    assert process is not None and process.poll() is not None
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{server.url}/rpc/", json={"id": 1, "method": "common.server.version", "params": []},
                   timeout=2)


# --- PostgreSQL (the full build runs in sparklayer_erp_tests/deploy/test_production_shape.py) -------------

@pytest.mark.parametrize(("url", "server_uri", "database", "safe"), [
    ("postgresql://tryton:s3cret@db:5433/erp", "postgresql://tryton:s3cret@db:5433/", "erp",
     "postgresql://tryton:***@db:5433/erp"),
    ("postgresql+psycopg2://postgres@127.0.0.1:5432/sle_x", "postgresql://postgres@127.0.0.1:5432/", "sle_x",
     "postgresql://postgres@127.0.0.1:5432/sle_x"),
    ("postgres://u:p%40ss@h/erp", "postgresql://u:p%40ss@h/", "erp", "postgresql://u:***@h/erp"),
])
def test_a_postgres_url_gives_trytonds_server_uri_and_the_database(url, server_uri, database, safe) -> None:
    pg = local.PostgresDatabase.parse(url)
    assert (pg.server_uri, pg.database, pg.safe_url) == (server_uri, database, safe)
    assert "s3cret" not in repr(pg) and "p%40ss" not in repr(pg)


@pytest.mark.parametrize("url", ["sqlite:///erp.sqlite", "postgresql://h:5432/", "postgresql:///erp",
                                 "postgresql://h/a/b"])
def test_a_url_without_a_postgres_server_and_database_is_refused(url) -> None:
    with pytest.raises(local.LocalErpError, match="--postgres takes"):
        local.PostgresDatabase.parse(url)


@pytest.mark.postgres
def test_a_postgres_database_holding_something_else_is_refused_untouched(pg_url: str, tmp_path) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE other_app (id int)")
    try:
        with pytest.raises(local.LocalErpError, match="holds tables but not the seeded demo company"):
            local.ensure_postgres_database(pg_url, tmp_path)
        with engine.connect() as conn:
            tables = conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").all()
        assert tables == [("other_app",)]
    finally:
        engine.dispose()


def test_an_unreachable_postgres_fails_naming_the_database_never_the_password(tmp_path) -> None:
    with pytest.raises(local.LocalErpError) as failed:
        local.ensure_postgres_database(f"postgresql://tryton:s3cret@127.0.0.1:{local.free_port()}/erp", tmp_path)
    assert "postgresql://tryton:***@127.0.0.1:" in str(failed.value)
    assert "s3cret" not in str(failed.value)


def test_the_erp_command_takes_postgres_only_for_build_and_serve(capsys) -> None:
    from sparklayer_erp import cli

    assert cli.main(["erp", "info", "--postgres", "postgresql://h/erp"]) == 2
    assert "--postgres goes with build or serve" in capsys.readouterr().err
    assert cli.main(["erp", "build", "--postgres", "sqlite:///x"]) == 1
    assert "--postgres takes postgresql://" in capsys.readouterr().err


def test_a_new_seed_sets_the_old_demo_database_aside_with_its_wal(tryton_server: local.TrytonServer) -> None:
    """An upgrade that changes the seed must not replay the old database's WAL into the new copy."""
    import sqlite3
    from contextlib import closing

    db_dir = local.demo_db_dir()  # under this test's own SPARKLAYER_ERP_DATA_DIR
    db_dir.mkdir(parents=True, exist_ok=True)
    old = db_dir / f"{conventions.DB_NAME}.sqlite"
    writer = sqlite3.connect(old)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("CREATE TABLE old_orders (id INTEGER)")
    writer.executemany("INSERT INTO old_orders VALUES (?)", [(n,) for n in range(500)])
    writer.commit()  # left in the WAL: the old demo server was stopped without a checkpoint
    assert old.with_name(old.name + "-wal").stat().st_size > 0
    (db_dir / "seed-key").write_text("an older seed\n")

    db, lock = local._prepare_working_copy(None)
    try:
        assert not old.with_name(old.name + "-wal").exists()
        assert (db_dir / f"{old.name}.old-wal").exists()
        with closing(sqlite3.connect(db / old.name)) as fresh:
            assert fresh.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert fresh.execute("SELECT count(*) FROM ir_model").fetchone()[0] > 0
    finally:
        writer.close()
        lock.close()  # type: ignore[union-attr]
