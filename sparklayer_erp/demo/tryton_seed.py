"""Seed a freshly initialised Tryton database with the demo company. Runs INSIDE the Tryton venv.

    TRYTOND_CONFIG=trytond.conf .venv-tryton/bin/python tryton_seed.py seed erp demo.json
    TRYTOND_CONFIG=trytond.conf .venv-tryton/bin/python tryton_seed.py set-passwords erp demo.json

It runs trytond in-process through proteus, before any server opens the SQLite file (two writers on one
file is how a seed gets corrupted). It imports nothing from the sparklayer_erp package: the demo data
and the naming conventions arrive in the JSON file, written by ``tryton_local.py`` from ``demo_data`` and
``conventions`` in the project's own venv. Passwords arrive in environment variables, never in argv.

The Tryton scenario helpers used here (``*.tests.tools``) are test-internal API of the module wheels;
that is acceptable because tryton_requirements.txt pins every version exactly.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from decimal import Decimal

from proteus import Model
from proteus import config as pconfig

INTEGRATION_PASSWORD_ENV = "SPARKLAYER_TRYTON_INTEGRATION_PASSWORD"
OPERATOR_PASSWORD_ENV = "SPARKLAYER_TRYTON_OPERATOR_PASSWORD"


def _log(message: str, started: float) -> None:
    print(f"[seed {time.monotonic() - started:5.1f}s] {message}", flush=True)


def _connect(db_name: str):
    return pconfig.set_trytond(db_name, user="admin", config_file=os.environ["TRYTOND_CONFIG"])


def seed(db_name: str, data: dict) -> None:
    started = time.monotonic()
    conv = data["conventions"]
    cfg = _connect(db_name)

    from trytond.modules.account.tests.tools import (
        create_chart,
        create_fiscalyear,
        create_tax,
        get_accounts,
    )
    from trytond.modules.account_invoice.tests.tools import set_fiscalyear_invoice_sequences
    from trytond.modules.company.tests.tools import create_company, get_company

    Party = Model.get("party.party")

    # --- company, chart of accounts, fiscal years -----------------------------------------------------
    company_party = Party(name=conv["COMPANY_NAME"], code=conv["COMPANY_PARTY_CODE"])
    company_party.save()
    create_company(party=company_party, currency=data["currency"])
    company = get_company()
    company.timezone = "Europe/London"
    company.save()
    create_chart(company)
    # Calendar years for this year and next: create_fiscalyear(company) alone covers only
    # today-6 months .. today+5 months, and the cached DB must keep posting invoices all year.
    this_year = dt.date.today().year
    for year in (this_year, this_year + 1):
        fiscalyear = create_fiscalyear(company, today=(dt.date(year, 1, 1), dt.date(year, 12, 31)))
        fiscalyear.name = str(year)
        fiscalyear = set_fiscalyear_invoice_sequences(fiscalyear)  # on the UNSAVED year
        fiscalyear.save()
        fiscalyear.click("create_period")
    accounts = get_accounts(company)
    currencies = _create_currencies(company, data.get("currencies") or [])
    # Tax per line, rounded per line: the rule the integration checks SparkLayer totals against
    # (domain/orders.expected_erp_totals). Tryton's default ("document") rounds once per order and
    # would differ by a cent on some orders.
    account_config = Model.get("account.configuration")(1)
    account_config.tax_rounding = "line"
    account_config.save()
    _log(f"company, chart, fiscal years, currencies {sorted(currencies)}", started)

    # --- payment methods (cash journal) ------------------------------------------------------------------
    Journal = Model.get("account.journal")
    PaymentMethod = Model.get("account.invoice.payment.method")
    cash_journal, = Journal.find([("type", "=", "cash")])
    for name in (conv["PAYMENT_METHOD_NAME"], conv["BANK_PAYMENT_METHOD_NAME"]):
        PaymentMethod(name=name, journal=cash_journal, credit_account=accounts["cash"],
                      debit_account=accounts["cash"]).save()

    # --- payment terms -----------------------------------------------------------------------------------
    PaymentTerm = Model.get("account.invoice.payment_term")
    terms = {}
    for name, days in conv["PAYMENT_TERM_DAYS"].items():
        term = PaymentTerm(name=name)
        line = term.lines.new(type="remainder")
        if days:
            line.relativedeltas.new(days=days)
        term.save()
        terms[name] = term

    # --- units of measure: "Case of N" in the Unit category ----------------------------------------------
    Uom = Model.get("product.uom")
    unit, = Uom.find([("name", "=", conv["BASE_UOM_NAME"])])
    uoms = {1: unit}
    for size, name in conv["CASE_UOM_NAMES"].items():
        case = Uom(name=name, symbol=f"cs{size}", category=unit.category, factor=float(size),
                   rounding=1.0, digits=0)
        case.save()
        uoms[int(size)] = case

    # --- accounting category with VAT ---------------------------------------------------------------------
    Category = Model.get("product.category")
    acc_cat = Category(name=conv["ACCOUNT_CATEGORY_NAME"], accounting=True,
                       account_revenue=accounts["revenue"], account_expense=accounts["expense"])
    vat = create_tax(Decimal(data["vat_rate"]), company)
    vat.name = vat.description = conv["VAT_TAX_NAME"]
    vat.save()
    acc_cat.customer_taxes.append(vat)
    acc_cat.save()

    # --- products: template code = SKU, priced per base unit, sold in the pack's unit -------------------
    # The model's create with explicit values (the client-side on_change per field is what makes proteus
    # slow here); one variant per template, whose code is the template's code (= SKU).
    Template = Model.get("product.template")
    Product = Model.get("product.product")
    Template._proxy.create([
        {"name": p["name"], "code": p["sku"], "type": "goods", "default_uom": unit.id, "salable": True,
         "sale_uom": uoms[p["pack_size"]].id, "list_price": Decimal(p["list_price"]),
         "account_category": acc_cat.id, "products": [["create", [{}]]]}
        for p in data["products"]], cfg.context)
    products = {p.code: p for p in Product.find([("salable", "=", True)])}
    assert len(products) == len(data["products"]), sorted(products)
    _log(f"{len(products)} products", started)

    # --- price lists --------------------------------------------------------------------------------------
    # Quantities in lines are in the product's DEFAULT unit (Unit); the first matching line wins, so the
    # volume-break line goes before the catch-all level line.
    PriceList = Model.get("product.price_list")

    def add_level_lines(price_list, level: dict, first_sequence: int) -> None:
        price_list.lines.new(sequence=first_sequence, quantity=float(level["volume_break_units"]),
                             formula=f"unit_price * {level['volume_factor']}")
        price_list.lines.new(sequence=first_sequence + 10, formula=f"unit_price * {level['factor']}")

    levels = {lv["code"]: lv for lv in data["levels"]}
    level_lists = {}
    for code, level in levels.items():
        price_list = PriceList(name=code, price="list_price")
        add_level_lines(price_list, level, 10)
        price_list.save()
        level_lists[code] = price_list

    contract_lists = {}
    for c in data["customers"]:
        if not c["contract_prices"]:
            continue
        price_list = PriceList(name=c["contract_list"], price="list_price")
        sequence = 10
        for sku, price in sorted(c["contract_prices"].items()):  # fixed contract prices first ...
            price_list.lines.new(sequence=sequence, product=products[sku], formula=str(Decimal(price)))
            sequence += 10
        add_level_lines(price_list, levels[c["price_level"]], sequence)  # ... then the level as fallback
        price_list.save()
        contract_lists[c["account_code"]] = price_list
    _log(f"{len(level_lists)} level + {len(contract_lists)} contract price lists", started)

    # --- customers --------------------------------------------------------------------------------------
    PartyCategory = Model.get("party.category")
    hold = PartyCategory(name=conv["CREDIT_HOLD_CATEGORY"])
    hold.save()
    parties = []
    for c in data["customers"]:
        party = Party(name=c["name"], code=c["account_code"])
        party.contact_mechanisms.new(type="email", value=c["email"])
        party.addresses[0].city = c["city"]
        party.customer_payment_term = terms[c["payment_terms"]]
        party.sale_price_list = contract_lists.get(c["account_code"]) or level_lists[c["price_level"]]
        currency = c.get("currency") or data["currency"]
        if currency != data["currency"]:  # the sale currency Tryton proposes for this customer's orders
            party.customer_currency = currencies[currency]
        limit = c["credit_limit"]
        party.credit_limit_amount = None if limit is None else Decimal(limit)
        if c["on_credit_hold"]:
            # Tryton has no hold flag: a zero limit makes confirm a hard UserError, the category shows it.
            party.credit_limit_amount = Decimal(0)
            party.categories.append(PartyCategory(hold.id))
        parties.append(party)
    Party.save(parties)
    _log(f"{len(data['customers'])} customers", started)

    # --- warehouses and stock ------------------------------------------------------------------------------
    Location = Model.get("stock.location")
    warehouses = {}
    for code, name in data["warehouses"]:
        existing = Location.find([("code", "=", code), ("type", "=", "warehouse")])
        if existing:
            warehouse, = existing
            warehouse.name = name
            warehouse.save()
        else:
            warehouse = _create_warehouse(Location, code, name, conv)
        warehouses[code] = warehouse

    # Created through the model's create (no per-line client on_change round trips: 3x faster).
    Inventory = Model.get("stock.inventory")
    inventory_ids = Inventory._proxy.create([
        {"location": warehouse.storage_location.id, "company": company.id,
         "lines": [["create", [{"product": products[p["sku"]].id, "quantity": float(p["stock"][code])}
                               for p in data["products"]]]]}
        for code, warehouse in warehouses.items()], cfg.context)
    inventories = [Inventory(i) for i in inventory_ids]
    Inventory.click(inventories, "confirm")
    assert {i.state for i in Inventory.find([("id", "in", inventory_ids)])} == {"done"}
    _log(f"stock in {len(warehouses)} warehouses", started)

    # --- the web shop that owns SparkLayer purchase ids (unique per shop) -----------------------------
    Shop = Model.get("web.shop")
    shop = Shop(name=conv["WEB_SHOP_NAME"], company=company, currency=company.currency)
    for warehouse in warehouses.values():
        shop.warehouses.append(Location(warehouse.id))
    shop.save()

    # --- users: the integration (non-admin) and a human operator --------------------------------------
    _create_users(cfg, company, conv, warehouses[conv["DEFAULT_WAREHOUSE_CODE"]])
    _log("web shop, users", started)


def _create_currencies(company, foreign: list[dict]) -> dict:
    """The company currency gets rate 1 and every other currency its rate per company-currency unit, from
    ``rate_from``: Tryton converts with ``amount * to.rate / from.rate`` at the document's date, and refuses
    (``currency.msg_no_rate``) a conversion when either side has no rate on that date.

    A Tryton price list has no currency of its own (its company's); prices for a customer buying in another
    currency are the list's company-currency prices converted at this rate, when the sale (or a price read
    with ``currency`` in the context) is in that currency.
    """
    Currency = Model.get("currency.currency")
    Rate = Model.get("currency.currency.rate")
    home = company.currency
    out = {home.code: home}
    if not foreign:
        return out
    first = min(dt.date.fromisoformat(c["rate_from"]) for c in foreign)
    if not Rate.find([("currency", "=", home.id)]):
        Rate(currency=home, date=first, rate=Decimal(1)).save()
    for c in foreign:
        found = Currency.find([("code", "=", c["code"])])
        currency = found[0] if found else Currency(
            name=c["name"], code=c["code"], symbol=c["symbol"], rounding=Decimal("0.01"), digits=2)
        currency.save()
        Rate(currency=currency, date=dt.date.fromisoformat(c["rate_from"]), rate=Decimal(c["rate"])).save()
        out[c["code"]] = currency
    return out


def _create_warehouse(Location, code: str, name: str, conv: dict):
    """A warehouse with its own input, output and storage locations, like Tryton's default one."""
    children = {}
    for kind, codes in (("input", conv["INPUT_LOCATION_CODES"]), ("output", conv["OUTPUT_LOCATION_CODES"]),
                        ("storage", conv["STORAGE_LOCATION_CODES"])):
        location = Location(name=f"{name} {kind.title()}", code=codes[code], type="storage")
        location.save()
        children[kind] = location
    lost_found, = Location.find([("type", "=", "lost_found")], limit=1)  # shared, as inventories need one
    warehouse = Location(name=name, code=code, type="warehouse",
                         input_location=children["input"], output_location=children["output"],
                         storage_location=children["storage"], lost_found_location=lost_found)
    warehouse.save()
    for location in children.values():
        location.parent = warehouse
        location.save()
    return warehouse


def _create_users(cfg, company, conv: dict, default_warehouse) -> None:
    Party = Model.get("party.party")
    User = Model.get("res.user")
    Group = Model.get("res.group")
    ModelData = Model.get("ir.model.data")
    Employee = Model.get("company.employee")
    Company = Model.get("company.company")
    Location = Model.get("stock.location")

    def group(module: str, xml_id: str):
        return Group(ModelData.get_id(module, xml_id, {}))

    # Sales need an employee on the user (company rules); one employee per login keeps audit trails readable.
    admin = User(cfg.user)
    for login, name, extra_groups in (
            (conv["INTEGRATION_LOGIN"], "SparkLayer integration", []),
            (conv["OPERATOR_LOGIN"], "ERP operator", [("account_credit_limit", "group_credit_limit")])):
        employee_party = Party(name=name)
        employee_party.save()
        employee = Employee(party=employee_party, company=company)
        employee.save()
        if not admin.employee:
            admin.employees.append(Employee(employee.id))
            admin.employee = Employee(employee.id)
            admin.save()
        user = User(name=name, login=login)
        user.groups.extend(group(m, x) for m, x in [*conv["INTEGRATION_GROUPS"], *extra_groups])
        user.companies.append(Company(company.id))
        user.company = Company(company.id)
        user.employees.append(Employee(employee.id))
        user.employee = Employee(employee.id)
        # With two warehouses Tryton has no default for sale.warehouse (quote then fails); the user's
        # warehouse preference goes into every context, so sales without an explicit warehouse use WH.
        user.warehouse = Location(default_warehouse.id)
        user.save()
    set_passwords(conv)


def set_passwords(conv: dict) -> None:
    """Apply the passwords from the environment (defaults: the demo ones) to the integration/operator."""
    User = Model.get("res.user")
    for login, env_name, default in (
            (conv["INTEGRATION_LOGIN"], INTEGRATION_PASSWORD_ENV, conv["DEFAULT_INTEGRATION_PASSWORD"]),
            (conv["OPERATOR_LOGIN"], OPERATOR_PASSWORD_ENV, conv["DEFAULT_OPERATOR_PASSWORD"])):
        user, = User.find([("login", "=", login)])
        user.password = os.environ.get(env_name) or default
        user.save()


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] not in {"seed", "set-passwords"}:
        print(__doc__, file=sys.stderr)
        return 2
    command, db_name = argv[1], argv[2]
    if command == "seed":
        with open(argv[3], encoding="utf-8") as fh:
            seed(db_name, json.load(fh))
    else:
        with open(argv[3], encoding="utf-8") as fh:
            conv = json.load(fh)["conventions"]
        _connect(db_name)
        set_passwords(conv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
